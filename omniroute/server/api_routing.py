"""Routing management: ``/api/combos*``, ``/api/models/catalog``, ``/api/provider-models``,
``/api/policies*`` and the routing part of ``/api/settings``.

Combos are checked when they are written: a known strategy, at least one target, every
target resolvable (a ``provider/model`` of a connected provider, an alias, a listed model or
another combo), nesting at most ``MAX_DEPTH`` levels and no cycle — each a 400 naming the
target. Every write bumps the store version, so every worker routes by it on its next
request.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from omniroute.cache.config import COMBO_SECTIONS, merge
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import parse, require
from omniroute.providers.models import model_type
from omniroute.routing.registry import MAX_DEPTH
from omniroute.routing.router import ACCOUNT_STRATEGIES
from omniroute.routing.strategies import Strategy
from omniroute.server.http import HttpRequest, send_json
from omniroute.settings.documents import check_cidrs
from omniroute.store import Combo, ComboEntry, CustomModel, Policy

MODEL_TYPES = ("chat", "embedding", "image", "audio")


class ComboEntryInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    model: str
    weight: float = 1.0
    connection_id: str | None = None


class ComboInput(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    models: list[str | ComboEntryInput]
    strategy: str = "priority"
    config: dict[str, Any] = msgspec.field(default_factory=dict)


class ComboPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    models: list[str | ComboEntryInput] | None = None
    strategy: str | None = None
    config: dict[str, Any] | None = None


class PolicyInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str
    key_ids: list[str] = msgspec.field(default_factory=list)
    allow: list[str] = msgspec.field(default_factory=list)
    deny: list[str] = msgspec.field(default_factory=list)
    rewrite: dict[str, str] = msgspec.field(default_factory=dict)


class CustomModelInput(msgspec.Struct, forbid_unknown_fields=True):
    provider: str
    model: str
    type: str = "chat"


# -- combos ----------------------------------------------------------------------------------
def present_combo(combo: Combo) -> dict[str, Any]:
    return {
        "id": combo.id, "name": combo.name, "strategy": combo.strategy, "config": combo.config,
        "models": [{"model": e.model, "weight": e.weight, "connectionId": e.connection_id} for e in combo.models],
        "createdAt": combo.created_at,
    }


def _find_combo(gw: Gateway, ref: str) -> Combo:
    for combo in gw.store.scan("combos"):
        if ref in (combo.id, combo.name):
            return combo
    raise GatewayError(ErrorKind.NOT_FOUND, f"no combo with id or name '{ref}'", param="id")


def _entries(models: list[str | ComboEntryInput]) -> list[ComboEntry]:
    out = []
    for i, item in enumerate(models):
        entry = ComboEntry(item) if isinstance(item, str) else ComboEntry(item.model, item.weight, item.connection_id)
        require(bool(entry.model.strip()), f"models[{i}]", "must name a model")
        require(entry.weight >= 0, f"models[{i}].weight", "must be >= 0")
        out.append(entry)
    return out


def check_combo(gw: Gateway, combo: Combo) -> None:
    """400 unless ``combo`` can route (module docstring)."""
    require(bool(combo.name.strip()) and "/" not in combo.name, "name", "must be a non-empty name without '/'")
    require(combo.strategy in Strategy._value2member_map_, "strategy",
            f"must be one of {', '.join(s.value for s in Strategy)}")
    require(bool(combo.models), "models", "must list at least one target")
    if "cache" in combo.config:  # per-combo cache settings (docs/caching.md)
        merge({}, combo.config["cache"], "config.cache.", COMBO_SECTIONS)
    registry = gw.registry
    combos = {c.name: c for c in registry.combos.values() if c.id != combo.id}
    require(combo.name not in combos, "name", f"is already the name of another combo ('{combo.name}')")
    require(combo.name not in registry.aliases, "name", f"is already an alias ('{combo.name}')")
    combos[combo.name] = combo
    _walk(combo.name, combos, [], gw)


def _walk(name: str, combos: dict[str, Combo], path: list[str], gw: Gateway) -> None:
    if name in path:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"combo cycle: {' → '.join([*path, name])}", param="models")
    if len(path) >= MAX_DEPTH:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"combos nest deeper than {MAX_DEPTH} levels: "
                           f"{' → '.join([*path, name])}", param="models")
    for i, entry in enumerate(combos[name].models):
        target = gw.registry.aliases.get(entry.model, entry.model)
        if target in combos:
            _walk(target, combos, [*path, name], gw)
            continue
        try:
            route = gw.registry.resolve(target)
        except GatewayError as err:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"combo '{name}' target '{entry.model}': {err.message}",
                               param=f"models[{i}]") from None
        if entry.connection_id is not None and all(t.connection_id != entry.connection_id for t in route.targets):
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"combo '{name}' target '{entry.model}': connection "
                               f"'{entry.connection_id}' does not serve it", param=f"models[{i}].connectionId")


async def create_combo(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), ComboInput)
    combo = Combo("combo-" + secrets.token_hex(6), data.name.strip(), data.strategy, _entries(data.models),
                  data.config, time.time())
    check_combo(gw, combo)
    gw.store.put("combos", combo.id, combo)
    await send_json(send, 201, present_combo(combo))


async def list_combos(gw: Gateway, req: HttpRequest, send: Any) -> None:
    combos = sorted(gw.store.scan("combos"), key=lambda c: c.created_at)
    await send_json(send, 200, {"combos": [present_combo(c) for c in combos]})


async def get_combo(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, present_combo(_find_combo(gw, req.path_params["id"])))


async def update_combo(gw: Gateway, req: HttpRequest, send: Any) -> None:
    combo = _find_combo(gw, req.path_params["id"])
    patch = parse(await req.read_json(gw.settings.max_body_bytes), ComboPatch)
    changes: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not None}
    if "models" in changes:
        changes["models"] = _entries(changes["models"])
    updated = msgspec.structs.replace(combo, **changes)
    if updated.name != combo.name:
        _unused(gw, combo, "rename")
    check_combo(gw, updated)
    gw.store.put("combos", combo.id, updated)
    await send_json(send, 200, present_combo(updated))


def _unused(gw: Gateway, combo: Combo, what: str) -> None:
    """400 when another combo names ``combo`` as a target (it would be left dangling)."""
    users = [c.name for c in gw.store.scan("combos") if any(e.model == combo.name for e in c.models)]
    users += [f"alias '{a.alias}'" for a in gw.store.scan("aliases") if a.model == combo.name]
    if users:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"combo '{combo.name}' is a target of {', '.join(users)}: "
                           f"remove it there before you {what} it", param="id")


async def delete_combo(gw: Gateway, req: HttpRequest, send: Any) -> None:
    combo = _find_combo(gw, req.path_params["id"])
    _unused(gw, combo, "delete")
    gw.store.delete("combos", combo.id)
    await send_json(send, 200, {"deleted": combo.id})


# -- catalog and custom models -----------------------------------------------------------------
async def catalog(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """Every model of every connected provider (row, connection and custom models), and combos."""
    registry = gw.registry
    types = {(m.provider, m.model): m.type for m in registry.custom}
    models: dict[str, dict[str, Any]] = {}
    for provider, targets in registry.targets.items():
        spec = targets[0].spec
        prefix = spec.prefixes[0] if spec.prefixes else provider
        conns = [t.connection_id for t in targets]
        own = [m for t in targets for m in registry.connections[t.connection_id].models]
        custom = [m.model for m in registry.custom if m.provider == provider]
        for model in dict.fromkeys([*own, *spec.models, *custom]):
            info = registry.resolve(f"{prefix}/{model}").info
            entry = {"id": f"{prefix}/{model}", "provider": provider,
                     "type": types.get((provider, model)) or model_type(model), "connections": conns}
            if info is not None and info.context:
                entry["contextWindow"] = info.context
            models.setdefault(entry["id"], entry)
    for combo in registry.combos.values():
        models[combo.name] = {"id": combo.name, "provider": "combo", "type": "combo", "connections": [],
                              "strategy": combo.strategy}
    await send_json(send, 200, {"models": list(models.values())})


async def list_custom_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    models = sorted(gw.store.scan("models"), key=lambda m: (m.provider, m.model))
    await send_json(send, 200, {"models": [{"provider": m.provider, "model": m.model, "type": m.type}
                                           for m in models]})


async def add_custom_model(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), CustomModelInput)
    require(data.provider in gw.registry.specs, "provider", f"'{data.provider}' is not a known provider")
    require(bool(data.model.strip()), "model", "must not be empty")
    require(data.type in MODEL_TYPES, "type", f"must be one of {', '.join(MODEL_TYPES)}")
    record = CustomModel(data.provider, data.model.strip(), data.type, time.time())
    gw.store.put("models", f"{record.provider}/{record.model}", record)
    await send_json(send, 201, {"provider": record.provider, "model": record.model, "type": record.type})


async def delete_custom_model(gw: Gateway, req: HttpRequest, send: Any) -> None:
    query = req.query
    payload = await req.read_json(gw.settings.max_body_bytes)
    provider = query.get("provider") or (payload.get("provider") if isinstance(payload, dict) else None)
    model = query.get("model") or (payload.get("model") if isinstance(payload, dict) else None)
    require(bool(provider) and bool(model), "provider", "and 'model' are required (query or JSON body)")
    if not gw.store.delete("models", f"{provider}/{model}"):
        raise GatewayError(ErrorKind.NOT_FOUND, f"no custom model '{model}' for provider '{provider}'", param="model")
    await send_json(send, 200, {"deleted": f"{provider}/{model}"})


# -- policies --------------------------------------------------------------------------------
def present_policy(policy: Policy) -> dict[str, Any]:
    return {"id": policy.id, "name": policy.name, "keyIds": policy.key_ids, "allow": policy.allow,
            "deny": policy.deny, "rewrite": policy.rewrite, "createdAt": policy.created_at}


async def create_policy(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), PolicyInput)
    require(bool(data.name.strip()), "name", "must not be empty")
    known = {k.id for k in gw.store.scan("keys")}
    for i, key_id in enumerate(data.key_ids):
        require(key_id in known, f"keyIds[{i}]", f"'{key_id}' is not a key id")
    for field in ("allow", "deny"):
        require(all(p.strip() for p in getattr(data, field)), field, "must not contain empty patterns")
    policy = Policy("pol-" + secrets.token_hex(6), data.name.strip(), data.key_ids, data.allow, data.deny,
                    data.rewrite, time.time())
    gw.store.put("policies", policy.id, policy)
    await send_json(send, 201, present_policy(policy))


async def list_policies(gw: Gateway, req: HttpRequest, send: Any) -> None:
    policies = sorted(gw.store.scan("policies"), key=lambda p: p.created_at)
    await send_json(send, 200, {"policies": [present_policy(p) for p in policies]})


async def delete_policy(gw: Gateway, req: HttpRequest, send: Any) -> None:
    policy_id = req.path_params["id"]
    if not gw.store.delete("policies", policy_id):
        raise GatewayError(ErrorKind.NOT_FOUND, f"no policy with id '{policy_id}'", param="id")
    await send_json(send, 200, {"deleted": policy_id})


# -- settings ---------------------------------------------------------------------------------
#: ``PUT /api/settings`` keys and their defaults; ``trustedProxies`` (CIDRs whose
#: ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed) is compiled by ``settings.access``
GENERAL_DEFAULTS: dict[str, Any] = {"accountStrategy": "fill-first", "trustedProxies": []}
#: shown by ``GET /api/settings``, set only at start-up (flag, environment or config file)
READ_ONLY = ("host", "port", "workers", "dataDir", "requireApiKey", "shutdownGrace")


def _general(gw: Gateway) -> dict[str, Any]:
    s = gw.settings
    shown = {"host": s.host, "port": s.port, "workers": s.worker_count, "dataDir": str(s.data_path),
             "requireApiKey": s.require_api_key, "shutdownGrace": s.shutdown_grace}
    return {**GENERAL_DEFAULTS, **gw.store.setting("general"), **shown}


async def get_settings(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, _general(gw))


async def put_settings(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    require(isinstance(payload, dict), "body", "must be a JSON object")
    fixed = sorted(set(payload) & set(READ_ONLY))
    require(not fixed, fixed[0] if fixed else "", "is read-only here: set it with its flag, environment variable "
            "or [server] key (docs/configuration.md) and restart")
    unknown = set(payload) - set(GENERAL_DEFAULTS)
    require(not unknown, sorted(unknown)[0] if unknown else "", f"is not a setting; known: {sorted(GENERAL_DEFAULTS)}")
    if "accountStrategy" in payload:
        require(payload["accountStrategy"] in ACCOUNT_STRATEGIES, "accountStrategy",
                f"must be one of {', '.join(ACCOUNT_STRATEGIES)}")
    if "trustedProxies" in payload:
        payload["trustedProxies"] = check_cidrs(payload["trustedProxies"], "trustedProxies")
    merged = {**gw.store.setting("general"), **payload}
    gw.store.put_setting("general", merged)
    await send_json(send, 200, _general(gw))
