"""What routing knows about availability and cost: ``/api/resilience*``, ``/api/rate-limits``,
``/api/rate-limit``, ``/api/pricing``, ``/api/usage/budget``, ``/api/models/availability``.

Account states (``/api/rate-limits``, availability):

================  =========================================================================
state             meaning
================  =========================================================================
ok                may be tried
cooling           answered 429; skipped until ``coolingUntil``
auth_failed       answered 401/403; skipped until its key changes or a test succeeds
expired           a subscription account whose tokens cannot be refreshed: log in again
circuit_open      its breaker (or its provider's) is open
limited           at its own rpm/tpm in the current 60 s window
disabled          switched off by the operator, or without the API key its row needs
================  =========================================================================
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import require
from omniroute.providers.pricing import validate_edits
from omniroute.routing.health import AccountHealth
from omniroute.routing.limits import PERIODS, iso, period, spend_key
from omniroute.routing.resilience import PROFILE_NAMES, overrides
from omniroute.routing.router import window_start
from omniroute.routing.targets import compile_target
from omniroute.server.http import HttpRequest, send_json
from omniroute.store import Budget, Connection


# -- account states ----------------------------------------------------------------------------
def account_state(gw: Gateway, conn: Connection, now: float) -> dict[str, Any]:
    health = gw.router.health
    held = health.state("c:" + conn.id) or AccountHealth()
    spec = gw.registry.specs.get(conn.provider)
    state, reason = "ok", None
    if not conn.enabled or spec is None:
        state, reason = "disabled", "disabled by the operator" if conn.enabled is False else "provider removed"
    elif spec.needs_key and not conn.api_key:  # came by sync or import without its key
        state, reason = "disabled", f"no API key: set one with PUT /api/providers/{conn.id}"
    else:
        blocked = health.blocked(compile_target(conn, spec), now, gw.registry.resilience.of(conn.provider), claim=False)
        if blocked is not None:
            state, reason = blocked.state, held.last_error or None
        elif conn.rpm or conn.tpm:
            requests, tokens = gw.runtime.window(f"c:{conn.id}:{window_start(now)}")
            if (conn.rpm and requests >= conn.rpm) or (conn.tpm and tokens >= conn.tpm):
                state, reason = "limited", f"{requests} requests, {tokens} tokens this minute"
    remaining = gw.runtime.get("marks", "rem:" + conn.id)
    return {
        "connectionId": conn.id, "provider": conn.provider, "name": conn.name, "state": state, "reason": reason,
        "coolingUntil": iso(held.cooling_until) if held.cooling_until > now else None,
        "lastError": held.last_error or None, "remainingRequests": int(remaining) if remaining else None,
    }


async def rate_limits(gw: Gateway, req: HttpRequest, send: Any) -> None:
    now = time.time()
    conns = sorted(gw.store.scan("connections"), key=lambda c: (c.provider, c.priority, c.created_at))
    await send_json(send, 200, {"accounts": [account_state(gw, c, now) for c in conns]})


async def availability(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """Every listed model and combo (GET), or one (POST ``{"model"}``), with its accounts."""
    if req.method == "POST":
        payload = await req.read_json(gw.settings.max_body_bytes)
        model = payload.get("model") if isinstance(payload, dict) else None
        require(isinstance(model, str) and bool(model), "model", "is required")
        await send_json(send, 200, _availability(gw, model, time.time()))
        return
    now = time.time()
    names = [m for m, _owner in gw.registry.model_ids() if _owner != "alias"]
    await send_json(send, 200, {"models": [_availability(gw, m, now) for m in names]})


def _availability(gw: Gateway, model: str, now: float) -> dict[str, Any]:
    route = gw.registry.resolve(model)
    seen: dict[str, dict[str, Any]] = {}
    for leg in route.flat():
        for target in leg.targets:
            if target.connection_id not in seen:
                conn = gw.registry.connections[target.connection_id]
                state = account_state(gw, conn, now)
                seen[target.connection_id] = {"connectionId": conn.id, "model": leg.key, "state": state["state"],
                                              "reason": state["reason"]}
    accounts = list(seen.values())
    return {"model": model, "available": any(a["state"] == "ok" for a in accounts), "accounts": accounts}


# -- resilience --------------------------------------------------------------------------------
async def get_resilience(gw: Gateway, req: HttpRequest, send: Any) -> None:
    registry = gw.registry
    doc = gw.store.setting("resilience")
    now = time.time()
    breakers = []
    for key, held in sorted(gw.router.health.states.items()):
        kind, _, ident = key.partition(":")
        conn = registry.connections.get(ident) if kind == "c" else None
        state = "open" if held.open_until > now else "half_open" if held.open_until else "closed"
        breakers.append({"provider": conn.provider if conn else ident, "connectionId": ident if kind == "c" else None,
                         "state": state, "failures": len(held.failures),
                         "openUntil": iso(held.open_until) if held.open_until else None})
    profile = registry.resilience.default
    settings = {f.encode_name: getattr(profile, f.name) for f in msgspec.structs.fields(profile)}
    await send_json(send, 200, {"profile": registry.resilience.name, "settings": settings,
                                "overrides": doc.get("settings", {}), "providers": doc.get("providers", {}),
                                "profiles": list(PROFILE_NAMES), "breakers": breakers})


async def put_resilience(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    require(isinstance(payload, dict), "body", "must be a JSON object")
    unknown = set(payload) - {"profile", "settings", "providers"}
    require(not unknown, sorted(unknown)[0] if unknown else "", "is not a resilience field (profile, settings, "
            "providers)")
    doc = gw.store.setting("resilience")
    if "profile" in payload:
        require(payload["profile"] in PROFILE_NAMES, "profile", f"must be one of {', '.join(PROFILE_NAMES)}")
        doc["profile"] = payload["profile"]
        if "settings" not in payload:
            doc["settings"] = {}  # a profile chosen by name starts from its own values
    if "settings" in payload:
        doc["settings"] = {**doc.get("settings", {}), **overrides(payload["settings"], "settings")}
    if "providers" in payload:
        providers = payload["providers"]
        require(isinstance(providers, dict), "providers", "must be an object of provider → settings")
        merged = dict(doc.get("providers", {}))
        for provider, values in providers.items():
            require(provider in gw.registry.specs, f"providers.{provider}", "is not a known provider")
            merged[provider] = {**merged.get(provider, {}), **overrides(values, f"providers.{provider}", provider=True)}
        doc["providers"] = merged
    gw.store.put_setting("resilience", doc)
    gw.refresh()
    await get_resilience(gw, req, send)


async def reset_resilience(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """Close every breaker and clear every cooldown and auth failure, for every worker."""
    gw.router.health.reset()
    await send_json(send, 200, {"reset": True})


# -- global rate limit ---------------------------------------------------------------------------
async def get_rate_limit(gw: Gateway, req: HttpRequest, send: Any) -> None:
    doc = gw.store.setting("rate_limit")
    await send_json(send, 200, {"rpm": int(doc.get("rpm", 0)), "tpm": int(doc.get("tpm", 0)), "windowS": 60})


async def put_rate_limit(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    require(isinstance(payload, dict), "body", "must be a JSON object")
    doc = gw.store.setting("rate_limit")
    for field in ("rpm", "tpm"):
        if field in payload:
            value = payload[field]
            require(isinstance(value, int) and not isinstance(value, bool) and value >= 0, field,
                    "must be a whole number >= 0 (0: off)")
            doc[field] = value
    unknown = set(payload) - {"rpm", "tpm"}
    require(not unknown, sorted(unknown)[0] if unknown else "", "is not a rate-limit field (rpm, tpm)")
    gw.store.put_setting("rate_limit", doc)
    await get_rate_limit(gw, req, send)


# -- pricing -----------------------------------------------------------------------------------
async def get_pricing(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {"pricing": gw.registry.pricing.table(), "unit": "USD per 1M tokens"})


async def put_pricing(gw: Gateway, req: HttpRequest, send: Any) -> None:
    edits = validate_edits(await req.read_json(gw.settings.max_body_bytes))
    gw.store.put_setting("pricing", {**gw.store.setting("pricing"), **edits})
    gw.refresh()
    await get_pricing(gw, req, send)


# -- budgets -----------------------------------------------------------------------------------
def present_budget(gw: Gateway, budget: Budget, now: float) -> dict[str, Any]:
    start, ends = period(budget.period, now)
    spent = gw.runtime.spent(spend_key(budget, start))
    return {"keyId": budget.key_id, "limit": budget.limit, "period": budget.period, "spent": round(spent, 6),
            "remaining": round(max(budget.limit - spent, 0.0), 6), "resetsAt": iso(ends)}


async def get_budget(gw: Gateway, req: HttpRequest, send: Any) -> None:
    now = time.time()
    key_id = req.query.get("keyId")
    if key_id is None:
        budgets = sorted(gw.store.scan("budgets"), key=lambda b: b.key_id)
        await send_json(send, 200, {"budgets": [present_budget(gw, b, now) for b in budgets]})
        return
    budget = gw.store.get("budgets", key_id)
    if budget is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"no budget for key '{key_id}'", param="keyId")
    await send_json(send, 200, present_budget(gw, budget, now))


async def set_budget(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    require(isinstance(payload, dict), "body", "must be a JSON object")
    key_id, limit, name = payload.get("keyId"), payload.get("limit"), payload.get("period", "monthly")
    require(isinstance(key_id, str) and any(k.id == key_id for k in gw.store.scan("keys")), "keyId",
            "must be the id of an API key")
    require(isinstance(limit, int | float) and not isinstance(limit, bool) and limit >= 0, "limit",
            "must be a number of USD >= 0")
    require(name in PERIODS, "period", f"must be one of {', '.join(PERIODS)}")
    budget = Budget(key_id, float(limit), name, time.time())
    gw.store.put("budgets", key_id, budget)
    await send_json(send, 201, present_budget(gw, budget, time.time()))


async def delete_budget(gw: Gateway, req: HttpRequest, send: Any) -> None:
    key_id = req.query.get("keyId") or ""
    if not gw.store.delete("budgets", key_id):
        raise GatewayError(ErrorKind.NOT_FOUND, f"no budget for key '{key_id}'", param="keyId")
    await send_json(send, 200, {"deleted": key_id})
