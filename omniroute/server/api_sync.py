"""Cloud sync: ``/api/sync/initialize``, ``/api/sync/cloud`` and the peer side ``/api/cloud/*``.

============================================  ===============================================
request                                       answer
============================================  ===============================================
POST /api/sync/initialize (management)        ``{"token"}``: a new sync token (the previous
                                              one stops working); stored as a hash
POST /api/sync/cloud (management)             ``{"peerUrl", "token", "direction": "push" |
                                              "pull"}`` → ``{"direction", "peerUrl",
                                              "changed", "changes", "etag"}``
GET  /api/cloud/bundle (sync token)           the bundle (``store.bundle``), ``ETag``;
                                              ``If-None-Match`` equal → 304
PUT  /api/cloud/bundle (sync token)           apply a bundle → ``{"etag", "changes"}``;
                                              ``If-None-Match`` equal to this side's ETag
                                              → 303 (already the same, see GET);
                                              ``If-Match`` not equal → 412
============================================  ===============================================

``/api/cloud/*`` takes only ``Authorization: Bearer <sync token>`` (a login session is not
one, and the sync token opens nothing else); a missing or wrong one is a 401. Push sends this
side's bundle to the peer's PUT; pull GETs the peer's and applies it here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from typing import Any

import aiohttp
import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import check_url, parse
from omniroute.server.http import JSON_HEADERS, HttpRequest, send_bytes, send_json
from omniroute.store import bundle
from omniroute.upstream import map_exception

TOKEN_META = "sync_token_hash"
PEER_TIMEOUT = 30.0


class SyncInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    peer_url: str
    token: str
    direction: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).hexdigest().encode()


async def initialize(gw: Gateway, req: HttpRequest, send: Any) -> None:
    token = "omr-sync-" + secrets.token_urlsafe(32)
    gw.store.put_meta(TOKEN_META, _hash(token))
    await send_json(send, 201, {"token": token})


def check_token(gw: Gateway, req: HttpRequest) -> None:
    auth = req.header(b"authorization") or ""
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    stored = gw.store.get_meta(TOKEN_META)
    if not token or stored is None or not hmac.compare_digest(_hash(token), stored):
        raise GatewayError(ErrorKind.AUTHENTICATION, "a valid sync token is required (Authorization: Bearer <token> "
                           "from POST /api/sync/initialize)")


async def get_bundle(gw: Gateway, req: HttpRequest, send: Any) -> None:
    check_token(gw, req)
    doc = bundle.build(gw.store)
    tag = bundle.etag(doc)
    if req.header(b"if-none-match") == tag:
        await send_bytes(send, 304, b"", [(b"etag", tag.encode())])
        return
    await send_json(send, 200, doc, [*JSON_HEADERS, (b"etag", tag.encode())])


async def put_bundle(gw: Gateway, req: HttpRequest, send: Any) -> None:
    check_token(gw, req)
    incoming = await req.read_json(gw.settings.max_body_bytes)
    tag = bundle.etag(bundle.build(gw.store))
    if_match, if_none = req.header(b"if-match"), req.header(b"if-none-match")
    if if_match is not None and if_match not in (tag, "*"):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"If-Match {if_match} is not this side's ETag {tag}",
                           status=412, code="precondition_failed")
    if if_none is not None and if_none == tag:
        await send_bytes(send, 303, b"", [(b"location", b"/api/cloud/bundle"), (b"etag", tag.encode())])
        return
    changes = bundle.apply(gw.store, incoming)
    gw.refresh()
    tag = bundle.etag(bundle.build(gw.store))
    await send_json(send, 200, {"etag": tag, "changes": changes}, [*JSON_HEADERS, (b"etag", tag.encode())])


async def sync(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), SyncInput)
    if data.direction not in ("push", "pull"):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'direction' must be push or pull", param="direction")
    if not data.token:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'token' is required: the peer's sync token", param="token")
    url = check_url(data.peer_url, "peerUrl") + "/api/cloud/bundle"
    local = bundle.build(gw.store)
    headers = {"Authorization": f"Bearer {data.token}", "If-None-Match": bundle.etag(local)}
    if data.direction == "push":
        status, answer = await _peer(gw, "PUT", url, headers, local)
        changes = answer.get("changes", {}) if status == 200 else {}
    else:
        status, answer = await _peer(gw, "GET", url, headers, None)
        changes = bundle.apply(gw.store, answer) if status == 200 else {}
        gw.refresh()
    tag = answer.get("etag") if data.direction == "push" and status == 200 else bundle.etag(bundle.build(gw.store))
    await send_json(send, 200, {"direction": data.direction, "peerUrl": data.peer_url, "changed": bool(changes),
                                "changes": changes, "etag": tag})


async def _peer(gw: Gateway, method: str, url: str, headers: dict[str, str],
                body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """The peer's status and JSON answer (303/304: ``{}``); its refusals as errors."""
    try:
        async with asyncio.timeout(PEER_TIMEOUT), gw.session.request(
                method, url, headers=headers, json=body, allow_redirects=False) as resp:
            raw = await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise map_exception(exc, "peer") from None
    if resp.status in (303, 304):
        return resp.status, {}
    if resp.status == 401:
        raise GatewayError(ErrorKind.AUTHENTICATION, "the peer refused the sync token (401)", param="token")
    try:
        answer = msgspec.json.decode(raw) if raw else {}
    except msgspec.DecodeError:
        answer = {}
    if resp.status != 200 or not isinstance(answer, dict):
        message = answer.get("error", {}).get("message") if isinstance(answer, dict) and isinstance(
            answer.get("error"), dict) else None
        raise GatewayError(ErrorKind.UPSTREAM_ERROR, f"the peer answered {resp.status}"
                           + (f": {message}" if message else ""), status=502)
    return resp.status, answer
