"""``/api/monitoring/health`` and the login flow (``/api/auth/login``, ``/api/auth/logout``)."""

from __future__ import annotations

import time
from typing import Any

from omniroute import __version__
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server import auth
from omniroute.server.http import JSON_HEADERS, HttpRequest, send_json


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
    payload = await req.read_json(gw.settings.max_body_bytes)
    password = payload.get("password") if isinstance(payload, dict) else None
    if not isinstance(password, str) or not password:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'password' is required", param="password")
    if not auth.password_set(gw):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "no password is set: the API is open to loopback clients")
    if not auth.verify_password(gw, password):
        raise GatewayError(ErrorKind.AUTHENTICATION, "wrong password")
    token = auth.open_session(gw)
    cookie = f"{auth.COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={auth.SESSION_SECONDS}"
    headers = [*JSON_HEADERS, (b"set-cookie", cookie.encode())]
    await send_json(send, 200, {"success": True, "token": token}, headers)


async def logout(gw: Gateway, req: HttpRequest, send: Any) -> None:
    token = auth.session_token(req)
    if token:
        auth.close_session(gw, token)
    headers = [*JSON_HEADERS, (b"set-cookie", f"{auth.COOKIE}=; Path=/; HttpOnly; Max-Age=0".encode())]
    await send_json(send, 200, {"success": True}, headers)
