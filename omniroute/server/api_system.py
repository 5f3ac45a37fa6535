"""``/api/monitoring/health`` and the login flow: ``/api/auth/login`` (with the lockout of
``settings.passwords``), ``/api/auth/logout``, ``/api/auth/password``."""

from __future__ import annotations

import math
import time
from typing import Any

from omniroute import __version__
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server import auth
from omniroute.server.http import JSON_HEADERS, HttpRequest, send_json
from omniroute.settings import passwords


async def health(gw: Gateway, req: HttpRequest, send: Any) -> None:
    try:
        store = {
            "status": "ok",
            "path": str(gw.store.path),
            "version": gw.store.version(),
            "connections": gw.store.count("connections"),
        }
    except Exception as exc:  # a broken store is exactly what health must report, not raise
        store = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    await send_json(
        send,
        200 if store["status"] == "ok" else 503,
        {
            "status": "ok" if store["status"] == "ok" else "degraded",
            "version": __version__,
            "uptimeSeconds": round(time.time() - gw.started, 3),
            "pid": gw.pid,
            "store": store,
        },
    )


async def login(gw: Gateway, req: HttpRequest, send: Any) -> None:
    ip = gw.access.client_ip(req.scope)
    _not_locked(gw, req, ip)
    payload = await req.read_json(gw.settings.max_body_bytes)
    password = payload.get("password") if isinstance(payload, dict) else None
    if not isinstance(password, str) or not password:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'password' is required", param="password")
    if not auth.password_set(gw):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "no password is set: the API is open to loopback clients")
    _check_password(gw, ip, password, "wrong password")
    token = auth.open_session(gw)
    headers = [*JSON_HEADERS, (b"set-cookie", auth.cookie_value(gw, req, token))]
    await send_json(send, 200, {"success": True, "token": token, "expiresIn": auth.SESSION_SECONDS}, headers)


def _not_locked(gw: Gateway, req: HttpRequest, ip: str) -> None:
    wait = passwords.locked_for(gw.runtime, ip, time.time())
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        req.ctx.add_header(b"retry-after", seconds)
        raise GatewayError(ErrorKind.RATE_LIMITED, f"too many failed logins from {ip}: try again in {seconds} s",
                           code="login_locked")


def _check_password(gw: Gateway, ip: str, password: str, wrong: str, param: str | None = None) -> None:
    """401 (counted towards the lockout) unless ``password`` is the management password."""
    if not auth.verify_password(gw, password):
        passwords.record_failure(gw.runtime, ip, time.time())
        raise GatewayError(ErrorKind.AUTHENTICATION, wrong, param=param)
    passwords.clear_failures(gw.runtime, ip)


async def logout(gw: Gateway, req: HttpRequest, send: Any) -> None:
    token = auth.session_token(req)
    if token:
        auth.close_session(gw, token)
    headers = [*JSON_HEADERS, (b"set-cookie", auth.cookie_value(gw, req, "", 0))]
    await send_json(send, 200, {"success": True}, headers)


async def change_password(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """``{"current", "new"}``: ``current`` may be left out only while no password exists.
    Every other session ends; the caller's stays."""
    ip = gw.access.client_ip(req.scope)
    _not_locked(gw, req, ip)
    payload = await req.read_json(gw.settings.max_body_bytes)
    if not isinstance(payload, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "request body must be a JSON object")
    new, current = payload.get("new"), payload.get("current")
    if not isinstance(new, str) or not new:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'new' is required: the new password", param="new")
    why = passwords.weak(new)
    if why is not None:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"'new' {why}", param="new")
    if auth.password_set(gw):
        if not isinstance(current, str) or not current:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'current' is required: the password in use",
                               param="current")
        _check_password(gw, ip, current, "'current' is not the password in use", "current")
    passwords.store_password(gw.store, new)
    token = auth.session_token(req)
    ended = passwords.end_sessions(gw.store, keep=auth.hash_key(token) if token else None)
    await send_json(send, 200, {"success": True, "sessionsEnded": ended})
