"""Routing policies: which targets a client key may reach, and model ids rewritten for it.

A policy (``POST /api/policies``) applies to the keys it lists (``keyIds``; empty: every
request, with a key or without). For a request, its policies apply in the order they were
made:

1. ``rewrite``: the requested model id is replaced (``{"gpt-4": "openai/gpt-4o-mini"}``),
   first match wins, before resolution.
2. ``deny`` / ``allow``: globs over each target's ``provider/model`` (``openai/*``,
   ``*/gpt-4o``), the provider named by its id or by any of its prefixes (``openai/*`` and
   ``oai/*`` match the same targets; a custom node by its prefix or ``node-…`` id), so a
   rule cannot be dodged by naming the provider another way. A target is kept when no
   policy denies it and every policy with an ``allow`` list allows it. Targets of a combo
   that are not kept are left out; when none is left the client gets 403, code
   ``policy_denied``, naming the policy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace

from omniroute.errors import ErrorKind, GatewayError
from omniroute.routing.registry import Leg, Route
from omniroute.store import Policy


def rewrite(model: str, policies: list[Policy]) -> str:
    for policy in policies:
        target = policy.rewrite.get(model)
        if target is not None:
            return target
    return model


def allowed(names: tuple[str, ...], policies: list[Policy]) -> Policy | None:
    """The policy that refuses a target known by ``names`` (its ``provider/model`` spellings;
    ``None``: allowed)."""
    for policy in policies:
        if any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in policy.deny):
            return policy
        if policy.allow and not any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in policy.allow):
            return policy
    return None


def _names(leg: Leg) -> tuple[str, ...]:
    """``provider/model`` of a leg by its provider's id and by each of its prefixes."""
    prefixes = leg.targets[0].spec.prefixes if leg.targets else ()
    return (leg.key, *(f"{prefix}/{leg.model}" for prefix in prefixes))


def restrict(route: Route, policies: list[Policy], model: str) -> Route:
    """``route`` without the legs ``policies`` refuse; 403 when none is left."""
    refused: list[Policy] = []
    legs = _keep(route, policies, refused)
    if not legs:
        names = ", ".join(sorted({f"'{p.name}'" for p in refused}))
        raise GatewayError(ErrorKind.PERMISSION, f"model '{model}' is not allowed for this key by policy {names}",
                           param="model", code="policy_denied")
    return route if len(legs) == len(route.legs) else replace(route, legs=tuple(legs))


def _keep(route: Route, policies: list[Policy], refused: list[Policy]) -> list[Leg]:
    kept = []
    for leg in route.legs:
        if leg.sub is not None:
            inner = _keep(leg.sub, policies, refused)
            if inner:
                kept.append(leg if len(inner) == len(leg.sub.legs) else replace(leg, sub=replace(leg.sub,
                                                                                                  legs=tuple(inner))))
            continue
        policy = allowed(_names(leg), policies)
        if policy is None:
            kept.append(leg)
        else:
            refused.append(policy)
    return kept
