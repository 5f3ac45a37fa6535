"""Who may call what.

Client API (``/v1/*``): with ``require_api_key`` on, a key is taken from
``Authorization: Bearer <key>``, ``x-api-key`` (Anthropic SDK) or ``x-goog-api-key`` (Gemini
SDK); it is hashed (sha256) and looked up in the worker's snapshot. Keys are never stored in
clear.

Management API (``/api/*``):

=================================  ==================================================
password state                     access
=================================  ==================================================
none (no INITIAL_PASSWORD, none    loopback clients only (127.0.0.0/8, ::1); others 403
stored)
set                                a valid ``auth_token`` cookie (or ``Authorization:
                                   Bearer <token>``) from ``POST /api/auth/login``; 401
=================================  ==================================================

``GET /metrics``: the ``metrics_token`` setting's bearer token when it is set, else the
management rules above.

Login checks the stored password hash (PBKDF2-SHA256) and falls back to ``INITIAL_PASSWORD``
until one is stored. Sessions live in LMDB (``sessions``), so every worker honours them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server.http import HttpRequest
from omniroute.server.router import is_loopback
from omniroute.store import ApiKey, Session

SESSION_SECONDS = 7 * 24 * 3600
COOKIE = "auth_token"
_PBKDF2_ROUNDS = 200_000


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def client_key(req: HttpRequest) -> str | None:
    headers = req.headers
    auth = headers.get(b"authorization")
    if auth is not None and auth[:7].lower() == b"bearer ":
        return auth[7:].strip().decode("latin-1")
    for name in (b"x-api-key", b"x-goog-api-key"):
        value = headers.get(name)
        if value:
            return value.decode("latin-1")
    return req.query.get("key")


def check_client(gw: Gateway, req: HttpRequest) -> ApiKey:
    """The request's valid, unrevoked client key; 401 without one."""
    key = client_key(req)
    if not key:
        raise GatewayError(ErrorKind.AUTHENTICATION, "missing API key: send Authorization: Bearer <key>")
    record = gw.registry.keys.get(hash_key(key))
    if record is None:
        raise GatewayError(ErrorKind.AUTHENTICATION, "invalid or revoked API key")
    return record


def known_client(gw: Gateway, req: HttpRequest) -> ApiKey | None:
    """The client key the request carries, when it is a known one (keys optional)."""
    key = client_key(req)
    return gw.registry.keys.get(hash_key(key)) if key else None


def scope_key(gw: Gateway, scope: dict) -> ApiKey | None:
    """The known key a finished request carried (usage records, off the request path)."""
    return known_client(gw, HttpRequest(scope, None, None))  # type: ignore[arg-type]


def password_set(gw: Gateway) -> bool:
    return bool(gw.settings.initial_password) or gw.store.get_meta("password_hash") is not None


def check_management(gw: Gateway, req: HttpRequest) -> None:
    if not password_set(gw):
        if not is_loopback(req.client_host):
            raise GatewayError(
                ErrorKind.PERMISSION,
                "the management API is open to loopback clients only until a password is set",
            )
        return
    token = session_token(req)
    if not token or not _session_valid(gw, token):
        raise GatewayError(ErrorKind.AUTHENTICATION, "login required: POST /api/auth/login")


def session_token(req: HttpRequest) -> str | None:
    cookie = req.header(b"cookie") or ""
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    auth = req.header(b"authorization") or ""
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def check_metrics(gw: Gateway, req: HttpRequest) -> None:
    """``GET /metrics``: the ``metrics_token`` bearer when one is set, else management access."""
    wanted = gw.settings.metrics_token
    if not wanted:
        check_management(gw, req)
        return
    auth = req.header(b"authorization") or ""
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(given.encode(), wanted.encode()):
        raise GatewayError(ErrorKind.AUTHENTICATION, "send Authorization: Bearer <metrics token>")


def actor_of(gw: Gateway, req: HttpRequest) -> str:
    """Who made a management call, for the audit log (never the secret itself): the login
    session's id (a hash prefix of its token), ``loopback`` while no password is set, or
    ``anonymous``."""
    token = session_token(req)
    if token and _session_valid(gw, token):
        return "session:" + hash_key(token)[:12]
    return "loopback" if not password_set(gw) else "anonymous"


def _session_valid(gw: Gateway, token: str) -> bool:
    session = gw.store.get("sessions", hash_key(token))
    return session is not None and session.expires_at > time.time()


def verify_password(gw: Gateway, password: str) -> bool:
    stored = gw.store.get_meta("password_hash")
    if stored is not None:
        salt, _, digest = stored.partition(b"$")
        candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt.decode()), _PBKDF2_ROUNDS)
        return hmac.compare_digest(candidate.hex().encode(), digest)
    initial = gw.settings.initial_password
    return bool(initial) and hmac.compare_digest(password.encode(), initial.encode())


def store_password(gw: Gateway, password: str) -> None:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)
    gw.store.put_meta("password_hash", salt.hex().encode() + b"$" + digest.hex().encode())


def open_session(gw: Gateway) -> str:
    token = secrets.token_urlsafe(32)
    now = time.time()
    gw.store.put("sessions", hash_key(token), Session(now, now + SESSION_SECONDS), bump=False)
    return token


def close_session(gw: Gateway, token: str) -> None:
    gw.store.delete("sessions", hash_key(token), bump=False)
