"""``/api/providers*``: provider connections (accounts) — CRUD, live test, model list, validate.

A connection is stored with its full API key; answers show it masked. ``test`` and
``models`` make a real cheap upstream call (the row's model-list path); ``validate``
checks a connection body without saving it and probes the upstream with it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.inputs import ConnectionInput, ConnectionPatch, connection_record, mask, parse
from omniroute.routing.targets import Target, compile_target
from omniroute.server.http import HttpRequest, send_json
from omniroute.store import Connection
from omniroute.upstream import map_exception

PROBE_TIMEOUT = 15.0


def present(conn: Connection) -> dict[str, Any]:
    return {
        "id": conn.id,
        "provider": conn.provider,
        "name": conn.name,
        "apiKey": mask(conn.api_key),
        "baseUrl": conn.base_url,
        "enabled": conn.enabled,
        "priority": conn.priority,
        "models": conn.models,
        "passthroughModels": conn.passthrough_models,
        "rpm": conn.rpm,
        "tpm": conn.tpm,
        "fields": conn.fields,
        "source": conn.source,
        "createdAt": conn.created_at,
        **({"oauth": conn.oauth, "expired": conn.expired} if conn.oauth else {}),
    }


def build_connection(gw: Gateway, data: ConnectionInput, conn_id: str | None = None) -> Connection:
    return connection_record(data, gw.registry.specs, conn_id)


def _get(gw: Gateway, conn_id: str) -> Connection:
    conn = gw.store.get("connections", conn_id)
    if conn is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"no connection with id '{conn_id}'", param="id")
    return conn


async def create(gw: Gateway, req: HttpRequest, send: Any) -> None:
    conn = build_connection(gw, parse(await req.read_json(gw.settings.max_body_bytes), ConnectionInput))
    gw.store.put("connections", conn.id, conn)
    await send_json(send, 201, present(conn))


async def list_all(gw: Gateway, req: HttpRequest, send: Any) -> None:
    conns = sorted(gw.store.scan("connections"), key=lambda c: (c.priority, c.created_at))
    await send_json(send, 200, {"connections": [present(c) for c in conns]})


async def get_one(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, present(_get(gw, req.path_params["id"])))


async def update(gw: Gateway, req: HttpRequest, send: Any) -> None:
    conn = _get(gw, req.path_params["id"])
    patch = parse(await req.read_json(gw.settings.max_body_bytes), ConnectionPatch)
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not None}
    merged = ConnectionInput(**{**_input_fields(conn), **changes})
    updated = connection_record(merged, gw.registry.specs, conn.id, oauth=conn.oauth)
    updated = msgspec.structs.replace(updated, created_at=conn.created_at, source=conn.source, expired=conn.expired)
    gw.store.put("connections", conn.id, updated)
    await send_json(send, 200, present(updated))


def _input_fields(conn: Connection) -> dict[str, Any]:
    names = ("provider", "name", "api_key", "base_url", "enabled", "priority", "models", "passthrough_models", "rpm",
             "tpm", "fields")
    return {name: getattr(conn, name) for name in names}


async def delete(gw: Gateway, req: HttpRequest, send: Any) -> None:
    conn = _get(gw, req.path_params["id"])
    gw.store.delete("connections", conn.id)
    gw.store.delete("oauth", conn.id, bump=False)
    await send_json(send, 200, {"deleted": conn.id})


async def test(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """A live probe; success clears the account's ``auth_failed`` mark (docs/routing.md)."""
    conn = _get(gw, req.path_params["id"])
    result = await probe(gw, _target(gw, conn))
    if result["ok"]:
        gw.router.health.clear_auth(conn.id)
    await send_json(send, 200, result)


async def models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    conn = _get(gw, req.path_params["id"])
    target = _target(gw, conn)
    status, body, _ms = await fetch_models(gw, target)
    if status >= 400:


        raise FORMATS[target.spec.format].decode_error(status, body, target.provider)
    await send_json(send, 200, {"provider": conn.provider, "models": model_ids(body), "source": "upstream"})


async def validate(gw: Gateway, req: HttpRequest, send: Any) -> None:
    conn = build_connection(gw, parse(await req.read_json(gw.settings.max_body_bytes), ConnectionInput))
    result = await probe(gw, _target(gw, conn))
    await send_json(send, 200, {"valid": result["ok"], "connection": present(conn), **result})


def _target(gw: Gateway, conn: Connection) -> Target:
    spec = gw.registry.specs.get(conn.provider)
    if spec is None:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"provider '{conn.provider}' no longer exists", param="provider")
    return compile_target(conn, spec)


async def fetch_models(gw: Gateway, target: Target) -> tuple[int, bytes, float]:
    """GET the row's model-list path: (status, body, milliseconds)."""
    if not target.spec.models_path:
        raise GatewayError(ErrorKind.UNSUPPORTED, f"provider '{target.provider}' has no model-list endpoint")
    started = time.perf_counter()
    base = (await gw.tokens.credentials(target)).headers if target.oauth else target.headers
    headers = {k: v for k, v in base.items() if k != "Content-Type"}
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            async with gw.session.get(target.url(target.spec.models_path), headers=headers) as resp:
                body = await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise map_exception(exc, target.provider) from None
    return resp.status, body, (time.perf_counter() - started) * 1000


async def probe(gw: Gateway, target: Target) -> dict[str, Any]:
    """A real, cheap upstream call reporting ok / latency / error (never raises for upstream faults)."""
    try:
        status, body, ms = await fetch_models(gw, target)
    except GatewayError as err:
        return {"ok": False, "latencyMs": None, "status": err.status, "error": err.message}
    if status >= 400:


        err = FORMATS[target.spec.format].decode_error(status, body, target.provider)
        return {"ok": False, "latencyMs": round(ms, 2), "status": status, "error": err.message}
    return {"ok": True, "latencyMs": round(ms, 2), "status": status, "error": None}


def model_ids(body: bytes) -> list[str]:
    """Model ids from an OpenAI/Anthropic (``data[].id``) or Gemini/Ollama (``models[].name``) list."""
    try:
        payload = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "upstream model list is not JSON") from None
    items = payload.get("data") or payload.get("models") or [] if isinstance(payload, dict) else []
    ids = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("id") or item.get("name") or ""
            ids.append(name.removeprefix("models/"))
    return [i for i in ids if i]
