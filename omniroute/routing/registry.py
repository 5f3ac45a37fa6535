"""The per-worker routing snapshot: model ids → routes, keys, aliases, combos, policies, settings.

Built from LMDB and rebuilt when the store's version counter moves (any management write,
from any worker). ``resolve`` answers from a dict after the first call for a model id.

Resolution order for a model id ``m`` (docs/routing.md):

1. ``m`` is a combo name → the combo's targets, each resolved by these same rules (a target
   may be another combo: nesting up to ``MAX_DEPTH`` levels).
2. ``m`` is an alias → its target (exact aliases first, then glob aliases such as
   ``claude-*`` in the order they were made).
3. ``prefix/rest`` with a known provider id or row prefix (``openai/``, ``oai/``, a custom
   node's prefix; the first ``/`` splits, so ``nvidia/openai/gpt-oss-120b`` is NVIDIA's
   ``openai/gpt-oss-120b``) → that provider's enabled connections, upstream model ``rest``.
   A known provider without a connection is a 400 naming it — unless a connected provider
   lists the whole id (NVIDIA's ``meta/llama-3.3-70b-instruct`` while the ``meta`` row has no
   connection): then step 4 takes it.
4. ``m`` is a model exactly one connected provider lists (row catalogue, the connection's
   ``models``, custom models) → that provider, model unchanged. Several → 400 listing them.
5. ``m`` starts with a model family a connected provider's row claims (``claude-`` →
   anthropic, ``gpt-`` → openai, …) → that provider, unchanged: dated ids
   (``claude-sonnet-4-5-20250929``) and models newer than the table work without an alias.
6. A connection with ``passthroughModels`` takes any other bare id, unchanged.
7. Otherwise 404 ``model_not_found`` naming the model.

A route is a list of *legs*: one per target model (a plain model id has one), each with its
provider's accounts in priority order (``routing.router`` orders both per request).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from omniroute.errors import ErrorKind, GatewayError
from omniroute.providers.models import ModelInfo, model_info, model_type
from omniroute.providers.pricing import Pricing
from omniroute.providers.specs import NODE_KINDS, SPECS, ProviderSpec, node_spec
from omniroute.routing.resilience import Resilience
from omniroute.routing.strategies import Strategy
from omniroute.routing.targets import Target, compile_target
from omniroute.store import ApiKey, Budget, Combo, Connection, Policy, ProviderNode, Store

MAX_DEPTH = 3
_ROUTE_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Leg:
    """One target model of a route: its accounts, or a nested combo (``sub``)."""

    key: str  # "provider/model" (or the nested combo's name): counters, policies, prices
    model: str  # as the upstream names it
    targets: tuple[Target, ...]
    info: ModelInfo | None = None
    weight: float = 1.0
    sub: Route | None = None

    @property
    def provider(self) -> str:
        return self.targets[0].spec.id if self.targets else ""


@dataclass(frozen=True, slots=True)
class Route:
    """Where a model id goes: legs tried in the order ``strategy`` gives (one for a plain id)."""

    legs: tuple[Leg, ...]
    strategy: Strategy = Strategy.PRIORITY
    combo: str | None = None  # the combo's name, when the id named one
    config: dict[str, Any] = field(default_factory=dict)  # the combo's config
    #: the order of every plain leg when no level reorders them per request (``priority`` all
    #: the way down), decided once here; ``None``: the router orders them per request
    fixed: tuple[Leg, ...] | None = field(init=False, default=None, compare=False)

    def __post_init__(self) -> None:
        if self.strategy is Strategy.PRIORITY and all(leg.sub is None or leg.sub.fixed is not None
                                                      for leg in self.legs):
            object.__setattr__(self, "fixed", tuple(self.flat()))

    @property
    def first(self) -> Leg:
        leg = self.legs[0]
        return leg.sub.first if leg.sub is not None else leg

    @property
    def model(self) -> str:
        return self.first.model

    @property
    def targets(self) -> tuple[Target, ...]:
        return self.first.targets

    @property
    def info(self) -> ModelInfo | None:
        return self.first.info

    @property
    def spec(self) -> ProviderSpec:
        return self.first.targets[0].spec

    def flat(self) -> list[Leg]:
        """Every plain leg, nested combos expanded in listed order."""
        out: list[Leg] = []
        for leg in self.legs:
            out.extend(leg.sub.flat() if leg.sub is not None else (leg,))
        return out


class Registry:
    """Snapshot of routing state; call ``refresh()`` before using it on a request."""

    def __init__(self, store: Store, timeouts: tuple[float, float, float] = (10.0, 120.0, 120.0)) -> None:
        self.store = store
        self.timeouts = timeouts  # the server's connect / first-byte / idle settings
        self.version = -1
        self.refresh()

    def refresh(self) -> bool:
        """Rebuild when the store's version moved; True when it did."""
        version = self.store.version()
        if version == self.version:
            return False
        self._build()
        self.version = version
        return True

    def _build(self) -> None:
        store = self.store
        nodes: dict[str, ProviderNode] = {n.id: n for n in store.scan("nodes")}
        specs: dict[str, ProviderSpec] = dict(SPECS)
        for node in nodes.values():
            kind = (node.type, node.api_type)
            if kind in NODE_KINDS:
                specs[node.id] = node_spec(node.id, node.name, node.prefix, node.base_url, kind)
        self.specs = specs
        self.prefixes = {p: spec.id for spec in specs.values() for p in (spec.id, *spec.prefixes)}
        # a connection without the key its row needs (one that came by sync or import) is not routed
        conns = sorted((c for c in store.scan("connections") if c.api_key or c.provider not in specs
                        or not specs[c.provider].needs_key), key=lambda c: (c.priority, c.created_at))
        self.connections: dict[str, Connection] = {c.id: c for c in conns}
        by_provider: dict[str, list[Target]] = {}
        for conn in conns:
            if conn.enabled and conn.provider in specs:
                by_provider.setdefault(conn.provider, []).append(compile_target(conn, specs[conn.provider]))
        self.targets = {pid: tuple(ts) for pid, ts in by_provider.items()}
        self.custom = list(store.scan("models"))
        self.custom_types = {(m.provider, m.model): m.type for m in self.custom}
        self.catalog, self.listed = self._build_catalog(conns)
        self.families = [(f, spec.id) for spec in {t[0].spec.id: t[0].spec for t in self.targets.values()}.values()
                         for f in spec.families]
        self.passthrough = next((c.provider for c in conns if c.passthrough_models and c.provider in self.targets),
                                None)
        self.keys: dict[str, ApiKey] = {k.key_hash: k for k in store.scan("keys") if not k.revoked}
        #: key as presented → its record: each valid key hashed once per snapshot (server.auth)
        self.presented: dict[str, ApiKey] = {}
        aliases = sorted(store.scan("aliases"), key=lambda a: (a.created_at, a.alias))
        self.aliases: dict[str, str] = {a.alias: a.model for a in aliases if not _is_glob(a.alias)}
        self.glob_aliases = [(a.alias, a.model) for a in aliases if _is_glob(a.alias)]
        self.combos: dict[str, Combo] = {c.name: c for c in store.scan("combos")}
        self.policies: list[Policy] = sorted(store.scan("policies"), key=lambda p: p.created_at)
        self.budgets: dict[str, Budget] = {b.key_id: b for b in store.scan("budgets")}
        #: anything keyed by the client's API key is configured (limits, budgets, policies)
        self.key_features = bool(self.budgets or self.policies or any(k.rpm or k.tpm for k in self.keys.values()))
        self.general = store.setting("general")
        self.rate_limit = store.setting("rate_limit")
        self.pricing = Pricing(store.setting("pricing"))
        self.resilience = Resilience(store.setting("resilience"), *self.timeouts)
        self._routes: dict[str, Route] = {}
        #: (requested model, key id) → its route with the key's policies applied (pipeline.resolve)
        self.restricted: dict[tuple[str, str | None], Route] = {}

    def _build_catalog(self, conns: list[Connection]) -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]]]:
        """Listed model id → [(provider id, upstream model)], one per connected provider listing
        it; and the ``prefix/model`` ids with their provider, for the model list."""
        catalog: dict[str, list[tuple[str, str]]] = {}
        listed: dict[str, str] = {}
        custom = {}
        for model in self.custom:
            custom.setdefault(model.provider, []).append(model.model)
        for conn in conns:
            spec = self.specs.get(conn.provider)
            if spec is None or not conn.enabled:
                continue
            for model in (*conn.models, *spec.all_models, *custom.get(spec.id, ())):
                listed.setdefault(f"{spec.prefixes[0]}/{model}" if spec.prefixes else model, spec.id)
                owners = catalog.setdefault(model, [])
                if all(pid != spec.id for pid, _m in owners):
                    owners.append((spec.id, model))
        return catalog, list(listed.items())

    # -- resolution -----------------------------------------------------------------------
    def resolve(self, model: str) -> Route:
        route = self._routes.get(model)
        if route is None:
            route = self._resolve(model, 0)
            if len(self._routes) < _ROUTE_CACHE:
                self._routes[model] = route
        return route

    def _resolve(self, model: str, depth: int) -> Route:
        if depth > MAX_DEPTH:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"'{model}': combos and aliases nest deeper than "
                               f"{MAX_DEPTH} levels", param="model")
        combo = self.combos.get(model)
        if combo is not None:
            return self._combo_route(combo, depth)
        target = self.aliases.get(model)
        if target is None:
            target = next((t for pattern, t in self.glob_aliases if fnmatch.fnmatchcase(model, pattern)), None)
        if target is not None and target != model:
            return self._resolve(target, depth + 1)
        return Route((self._leg(model),))

    def _combo_route(self, combo: Combo, depth: int) -> Route:
        legs, first_error = [], None
        for entry in combo.models:
            try:
                route = self._resolve(entry.model, depth + 1)
            except GatewayError as err:
                first_error = first_error or err
                continue
            if route.combo is not None:
                legs.append(Leg(route.combo, "", (), None, entry.weight, route))
                continue
            leg = route.legs[0]
            targets = leg.targets
            if entry.connection_id is not None:
                targets = tuple(t for t in targets if t.connection_id == entry.connection_id)
                if not targets:
                    first_error = first_error or GatewayError(
                        ErrorKind.INVALID_REQUEST, f"combo '{combo.name}': connection '{entry.connection_id}' does "
                        f"not serve '{entry.model}'", param="model")
                    continue
            legs.append(Leg(leg.key, leg.model, targets, leg.info, entry.weight))
        if not legs:
            raise first_error or GatewayError(ErrorKind.INVALID_REQUEST, f"combo '{combo.name}' has no targets",
                                              param="model")
        return Route(tuple(legs), Strategy(combo.strategy), combo.name, combo.config)

    def _leg(self, wanted: str) -> Leg:
        prefix, sep, rest = wanted.partition("/")
        provider = self.prefixes.get(prefix) if sep else None
        owners = self.catalog.get(wanted)
        if provider is not None and rest and (provider in self.targets or not owners):
            return self._provider_leg(provider, rest)
        if owners:
            if len(owners) > 1:
                choices = ", ".join(f"{self._prefix(pid)}/{m}" for pid, m in owners)
                raise GatewayError(ErrorKind.INVALID_REQUEST, f"model '{wanted}' is offered by several providers: "
                                   f"use one of {choices}", param="model", code="ambiguous_model")
            return self._provider_leg(*owners[0])
        owner = next((pid for family, pid in self.families if wanted.startswith(family)), self.passthrough)
        if owner is not None:
            return self._provider_leg(owner, wanted)
        raise GatewayError(
            ErrorKind.NOT_FOUND,
            f"unknown model '{wanted}': use provider/model with a connected provider, an alias, a combo or a "
            "listed model",
            param="model",
            code="model_not_found",
        )

    def _provider_leg(self, provider: str, model: str) -> Leg:
        targets = self.targets.get(provider)
        if not targets:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST,
                f"provider '{provider}' has no enabled connection: add one with POST /api/providers",
                param="model",
                code="provider_not_connected",
            )
        return Leg(f"{provider}/{model}", model, targets, model_info(model))

    def _prefix(self, provider: str) -> str:
        spec = self.specs[provider]
        return spec.prefixes[0] if spec.prefixes else provider

    def kind_of(self, provider: str, model: str) -> str | None:
        """``chat``, ``embedding``, ``image`` or ``audio`` for ``model`` at ``provider``: an
        operator's custom model type, else the row's lists, else the model catalogue (a
        known chat model), else the id's words when they name a media kind
        (``providers.models.model_type``); ``None``: nothing says (the upstream decides)."""
        kind = self.custom_types.get((provider, model))
        spec = self.specs.get(provider)
        if kind is None and spec is not None:
            kind = spec.kind_of(model)
        if kind is None and model_info(model) is not None:
            kind = "chat"
        if kind is None:
            kind = model_type(model)
            return None if kind == "chat" else kind
        return kind

    # -- listings -------------------------------------------------------------------------
    def models_of_kind(self, kind: str) -> list[tuple[str, str]]:
        """(``prefix/model``, provider) of every connected provider's models of ``kind``."""
        out = []
        for model_id, provider in self.listed:
            model = model_id.partition("/")[2] if "/" in model_id and self.prefixes.get(
                model_id.partition("/")[0]) == provider else model_id
            if (self.kind_of(provider, model) or "chat") == kind:
                out.append((model_id, provider))
        return out

    def model_ids(self) -> list[tuple[str, str]]:
        """(model id, owner) for GET /v1/models: every connected provider's models, aliases
        and combos."""
        return [*self.listed, *((alias, "alias") for alias in self.aliases),
                *((name, "combo") for name in self.combos)]

    def remember_restricted(self, key: tuple[str, str | None], route: Route) -> None:
        if len(self.restricted) < _ROUTE_CACHE:
            self.restricted[key] = route

    def policies_for(self, key_id: str | None) -> list[Policy]:
        return [p for p in self.policies if not p.key_ids or (key_id is not None and key_id in p.key_ids)]


def _is_glob(alias: str) -> bool:
    return any(ch in alias for ch in "*?[")
