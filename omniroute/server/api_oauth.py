"""``/api/oauth/{provider}/{action}``: logging subscription accounts in (docs/subscriptions.md).

============================  ===========================================================
request                       answer
============================  ===========================================================
GET  ``…/authorize``          ``{"authUrl", "state", "redirectUri"}`` (code-flow providers:
                              ``claude``, ``codex``, ``gemini-cli``)
POST ``…/exchange``           ``{"code", "state"}`` — or ``code`` holding the pasted
                              callback URL, or Claude's ``code#state`` — plus optional
                              ``name``, ``baseUrl``, ``priority``, ``connectionId`` (log an
                              existing account in again), ``projectId`` (gemini-cli) → 201
                              the connection
POST ``…/device``             ``{"userCode", "verificationUri", "deviceCode", "interval",
                              "expiresIn"}`` (``github``)
POST ``…/poll``               ``{"deviceCode"}`` (+ the optional fields above) →
                              ``{"status": "pending" | "complete" | "expired" | "denied"}``;
                              ``complete`` carries the connection
============================  ===========================================================

Tokens are stored (encrypted when a key is set) and never appear in an answer or a log.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import ConnectionInput, check_url, connection_record, parse
from omniroute.oauth import client, pending
from omniroute.oauth.providers import OAuthProvider
from omniroute.server.api_providers import present
from omniroute.server.http import HttpRequest, send_json
from omniroute.store import Connection, OAuthToken


class LoginInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    code: str | None = None
    state: str | None = None
    device_code: str | None = None
    name: str = ""
    base_url: str | None = None
    priority: int = 0
    connection_id: str | None = None
    project_id: str | None = None


async def handle(gw: Gateway, req: HttpRequest, send: Any) -> None:
    name, action = req.path_params["provider"], req.path_params["action"]
    p = gw.oauth.get(name)
    if p is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"unknown OAuth provider '{name}' (known: {', '.join(gw.oauth)})",
                           param="provider")
    actions = _ACTIONS[p.flow]
    if action not in actions:
        listed = ", ".join(f"{m} /api/oauth/{name}/{a}" for a, (m, _h) in actions.items())
        raise GatewayError(ErrorKind.NOT_FOUND, f"'{action}' is not an action of {name} ({listed})", param="action")
    method, handler = actions[action]
    if req.method != method:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"use {method} /api/oauth/{name}/{action}", status=405)
    await handler(gw, req, send, p)


async def _authorize(gw: Gateway, req: HttpRequest, send: Any, p: OAuthProvider) -> None:
    url, state = pending.begin(gw.runtime, p)
    await send_json(send, 200, {"authUrl": url, "state": state, "redirectUri": p.redirect_uri})


async def _exchange(gw: Gateway, req: HttpRequest, send: Any, p: OAuthProvider) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), LoginInput)
    code, state = pending.parse_code(data.code, data.state)
    login = pending.take(gw.runtime, p, state)
    grant = await client.exchange_code(gw.session, p, code, login.verifier, state)
    conn = await _connect(gw, p, grant, data)
    await send_json(send, 201, present(conn))


async def _device(gw: Gateway, req: HttpRequest, send: Any, p: OAuthProvider) -> None:
    answer = await client.start_device(gw.session, p)
    expires_in = float(answer.get("expires_in") or 900)
    interval = int(answer.get("interval") or 5)
    pending.remember_device(gw.runtime, p, answer["device_code"], expires_in, interval)
    await send_json(send, 200, {"userCode": answer.get("user_code"), "verificationUri": answer.get("verification_uri"),
                                "deviceCode": answer["device_code"], "interval": interval, "expiresIn": expires_in})


async def _poll(gw: Gateway, req: HttpRequest, send: Any, p: OAuthProvider) -> None:
    data = parse(await req.read_json(gw.settings.max_body_bytes), LoginInput)
    login = pending.device(gw.runtime, p, data.device_code)
    assert data.device_code is not None  # pending.device checked it
    if login.connection_id:  # completed by an earlier poll
        conn = gw.store.get("connections", login.connection_id)
        await send_json(send, 200, {"status": "complete", "connection": present(conn) if conn else None})
        return
    if login.expires_at < time.time():
        await send_json(send, 200, {"status": "expired"})
        return
    status, github_token = await client.poll_device(gw.session, p, data.device_code)
    if status != "complete":
        await send_json(send, 200, {"status": status, "interval": login.interval})
        return
    grant = await client.copilot_token(gw.session, p, github_token)
    conn = await _connect(gw, p, grant, data)
    pending.complete_device(gw.runtime, data.device_code, conn.id)
    await send_json(send, 200, {"status": "complete", "connection": present(conn)})


async def _connect(gw: Gateway, p: OAuthProvider, grant: client.Grant, data: LoginInput) -> Connection:
    """The connection for a completed login — a new one, or ``connectionId`` logged in
    again — with its tokens stored first (workers route to it once the connection exists)."""
    spec = gw.registry.specs[p.row]
    existing = _existing(gw, p, data.connection_id)
    base_url = check_url(data.base_url) if data.base_url else existing.base_url if existing else None
    extra = dict(grant.extra)
    if p.needs_project:
        project = data.project_id or await client.code_assist_project(
            gw.session, p, (base_url or spec.base_url).rstrip("/"), grant.access_token)
        if not project:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "Code Assist named no Cloud project for this account: pass "
                               "'projectId'", param="projectId")
        extra["project"] = project
    if existing is not None:
        fields = {"name": data.name or existing.name, "base_url": base_url,
                  "priority": data.priority or existing.priority, "enabled": existing.enabled,
                  "models": existing.models}
    else:
        who = f" ({grant.account})" if grant.account else ""
        fields = {"name": data.name or spec.name + who, "base_url": base_url, "priority": data.priority}
    conn = connection_record(ConnectionInput(provider=p.row, **fields), gw.registry.specs,
                             existing.id if existing else None, oauth=p.name)
    if existing is not None:
        conn = msgspec.structs.replace(conn, created_at=existing.created_at)
    now = time.time()
    gw.tokens.save(OAuthToken(conn.id, p.name, grant.access_token, grant.refresh_token, grant.expires_at,
                              grant.account, extra, now))
    gw.store.put("connections", conn.id, conn)
    return conn


def _existing(gw: Gateway, p: OAuthProvider, connection_id: str | None) -> Connection | None:
    if connection_id is None:
        return None
    conn = gw.store.get("connections", connection_id)
    if conn is None or conn.oauth != p.name:
        raise GatewayError(ErrorKind.NOT_FOUND, f"no {p.name} subscription connection with id '{connection_id}'",
                           param="connectionId")
    return conn


_ACTIONS = {
    "code": {"authorize": ("GET", _authorize), "exchange": ("POST", _exchange)},
    "device": {"device": ("POST", _device), "poll": ("POST", _poll)},
}
