"""``/api/keys*`` (client API keys) and ``/api/models/alias`` (model aliases).

A key is shown in full once, in the answer that creates it; it is stored as its sha256
hash. ``POST /api/keys/{id}/revoke`` keeps the record (marked revoked); ``DELETE`` removes it.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import AliasInput, KeyInput, KeyPatch, parse, require
from omniroute.server.auth import hash_key
from omniroute.server.http import HttpRequest, send_json
from omniroute.store import Alias, ApiKey

KEY_PREFIX = "sk-omni-"


def present(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "key": key.prefix + "…",
        "revoked": key.revoked,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "createdAt": key.created_at,
    }


def _find(gw: Gateway, key_id: str) -> ApiKey:
    for key in gw.store.scan("keys"):
        if key.id == key_id:
            return key
    raise GatewayError(ErrorKind.NOT_FOUND, f"no API key with id '{key_id}'", param="id")


async def create(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), KeyInput)
    _check_limits(data.rpm, data.tpm)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        id="key-" + secrets.token_hex(6),
        name=data.name or "key",
        key_hash=hash_key(secret),
        prefix=secret[: len(KEY_PREFIX) + 4],
        created_at=time.time(),
        rpm=data.rpm,
        tpm=data.tpm,
    )
    gw.store.put("keys", record.key_hash, record)
    await send_json(send, 201, {**present(record), "key": secret})


async def list_all(gw: Gateway, req: HttpRequest, send: Any) -> None:
    keys = sorted(gw.store.scan("keys"), key=lambda k: k.created_at)
    await send_json(send, 200, {"keys": [present(k) for k in keys]})


async def get_one(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, present(_find(gw, req.path_params["id"])))


async def update(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """``PUT /api/keys/{id}``: rename, or set its rpm / tpm limits."""
    patch = parse(await req.read_json(gw.settings.max_body_bytes), KeyPatch)
    key = _find(gw, req.path_params["id"])
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not None}
    key = msgspec.structs.replace(key, **changes)
    _check_limits(key.rpm, key.tpm)
    gw.store.put("keys", key.key_hash, key)
    await send_json(send, 200, present(key))


def _check_limits(rpm: int, tpm: int) -> None:
    require(rpm >= 0, "rpm", "must be >= 0 (0: no limit)")
    require(tpm >= 0, "tpm", "must be >= 0 (0: no limit)")


async def revoke(gw: Gateway, req: HttpRequest, send: Any) -> None:
    key = msgspec.structs.replace(_find(gw, req.path_params["id"]), revoked=True)
    gw.store.put("keys", key.key_hash, key)
    await send_json(send, 200, present(key))


async def delete(gw: Gateway, req: HttpRequest, send: Any) -> None:
    key = _find(gw, req.path_params["id"])
    gw.store.delete("keys", key.key_hash)
    await send_json(send, 200, {"deleted": key.id})


async def list_aliases(gw: Gateway, req: HttpRequest, send: Any) -> None:
    aliases = {a.alias: a.model for a in gw.store.scan("aliases")}
    await send_json(send, 200, {"aliases": aliases})


async def set_alias(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), AliasInput)
    require(bool(data.alias.strip()) and "/" not in data.alias, "alias", "must be a non-empty name without '/'")
    require(bool(data.model.strip()), "model", "must not be empty")
    require(data.model != data.alias, "model", "must differ from the alias")
    _check_target(gw, data.model)
    held = gw.store.get("aliases", data.alias)
    made = held.created_at if held is not None else time.time()  # re-pointing keeps its place
    gw.store.put("aliases", data.alias, Alias(data.alias, data.model, made))
    await send_json(send, 201, {"alias": data.alias, "model": data.model})


def _check_target(gw: Gateway, model: str) -> None:
    """400 unless ``model`` routes now, or will once its provider is connected."""
    try:
        gw.registry.resolve(model)
    except GatewayError as err:
        if err.code != "provider_not_connected":
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"alias target: {err.message}", param="model") from None


async def delete_alias(gw: Gateway, req: HttpRequest, send: Any) -> None:
    alias = req.path_params["alias"]
    if not gw.store.delete("aliases", alias):
        raise GatewayError(ErrorKind.NOT_FOUND, f"no alias '{alias}'", param="alias")
    await send_json(send, 200, {"deleted": alias})
