"""Who may call what.

Client API (``/v1/*``): with ``require_api_key`` on, a key is taken from
``Authorization: Bearer <key>``, ``x-api-key`` (Anthropic SDK) or ``x-goog-api-key`` (Gemini
SDK); it is hashed (sha256) and looked up in the worker's snapshot. Keys are never stored in
clear.

Management API (``/api/*``, and ``/dashboard``):

=================================  ==================================================
password state                     access
=================================  ==================================================
none (no INITIAL_PASSWORD, none    loopback clients only (127.0.0.0/8, ::1); others 403
stored)
set, ``requireLogin`` on (the      a valid ``auth_token`` cookie (or ``Authorization:
default once a password exists)    Bearer <token>``) from ``POST /api/auth/login``; 401
set, ``requireLogin`` off          loopback clients need none; others as above
=================================  ==================================================

The client address is ``Access.client_ip`` (``X-Forwarded-For`` only from a trusted proxy).
Login checks the stored password hash (``settings.passwords``) and falls back to
``INITIAL_PASSWORD`` until one is stored. Sessions live in LMDB (``sessions``), so every
worker honours them. The cookie is ``HttpOnly; SameSite=Lax; Path=/`` with ``Max-Age`` and
``Expires``, plus ``Secure`` when the request came over HTTPS (``X-Forwarded-Proto: https``
from a trusted proxy counts). Sessions slide: one used when more than ``REFRESH_AFTER``
seconds passed since it was issued or last extended is extended to ``SESSION_SECONDS`` from
now, and the answer re-sets the cookie (at most one store write per session per hour).

``GET /metrics``: the ``metrics_token`` setting's bearer token when it is set, else the
management rules above.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from email.utils import formatdate

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server.http import HttpRequest
from omniroute.settings import passwords
from omniroute.settings.access import is_loopback
from omniroute.store import ApiKey, Session

SESSION_SECONDS = 7 * 24 * 3600
REFRESH_AFTER = 3600
COOKIE = "auth_token"


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
    record = lookup(gw, key)
    if record is None:
        raise GatewayError(ErrorKind.AUTHENTICATION, "invalid or revoked API key")
    return record


def known_client(gw: Gateway, req: HttpRequest) -> ApiKey | None:
    """The client key the request carries, when it is a known one (keys optional)."""
    key = client_key(req)
    return lookup(gw, key) if key else None


def lookup(gw: Gateway, key: str) -> ApiKey | None:
    """The valid key record of ``key`` as presented: hashed once per registry snapshot (a
    revoked or changed key is a new snapshot), then a dict lookup. Only valid keys are
    remembered, at most 1,024 of them, so made-up keys cannot grow the table."""
    registry = gw.registry
    record = registry.presented.get(key)
    if record is None:
        record = registry.keys.get(hash_key(key))
        if record is not None:
            if len(registry.presented) >= 1024:
                registry.presented.clear()
            registry.presented[key] = record
    return record


def scope_key(gw: Gateway, scope: dict) -> ApiKey | None:
    """The known key a finished request carried (usage records, off the request path)."""
    return known_client(gw, HttpRequest(scope, None, None))  # type: ignore[arg-type]


def password_set(gw: Gateway) -> bool:
    return bool(gw.settings.initial_password) or passwords.password_stored(gw.store)


def login_required(gw: Gateway) -> bool:
    """``requireLogin`` as set, else its default: on once a password exists."""
    required = gw.access.require_login
    return password_set(gw) if required is None else required


def check_management(gw: Gateway, req: HttpRequest) -> bytes | None:
    """Raise unless the request may use the management API (module table); answers a
    ``Set-Cookie`` value when its session was extended."""
    if not password_set(gw):
        if not is_loopback(gw.access.client_ip(req.scope)):
            raise GatewayError(
                ErrorKind.PERMISSION,
                "the management API is open to loopback clients only until a password is set",
            )
        return None
    token = session_token(req)
    session = _session(gw, token) if token else None
    if session is not None:
        return _slide(gw, req, token, session)  # type: ignore[arg-type]
    if not login_required(gw) and is_loopback(gw.access.client_ip(req.scope)):
        return None
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
    if token and _session(gw, token) is not None:
        return "session:" + hash_key(token)[:12]
    return "loopback" if not password_set(gw) else "anonymous"


def _session(gw: Gateway, token: str) -> Session | None:
    session = gw.store.get("sessions", hash_key(token))
    return session if session is not None and session.expires_at > time.time() else None  # type: ignore[union-attr]


def _slide(gw: Gateway, req: HttpRequest, token: str, session: Session) -> bytes | None:
    now = time.time()
    if session.expires_at - now > SESSION_SECONDS - REFRESH_AFTER:
        return None
    gw.store.put("sessions", hash_key(token), Session(session.created_at, now + SESSION_SECONDS), bump=False)
    return cookie_value(gw, req, token)


def cookie_value(gw: Gateway, req: HttpRequest, token: str, seconds: int = SESSION_SECONDS) -> bytes:
    """The ``Set-Cookie`` value for ``token`` (empty token, 0 seconds: clear it)."""
    expires = formatdate(time.time() + seconds, usegmt=True)
    secure = "; Secure" if gw.access.is_https(req.scope) else ""
    return (f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={seconds}; Expires={expires}"
            f"{secure}").encode("latin-1")


def verify_password(gw: Gateway, password: str) -> bool:
    return passwords.verify(gw.store, password, gw.settings.initial_password)


def open_session(gw: Gateway) -> str:
    token = secrets.token_urlsafe(32)
    now = time.time()
    gw.store.put("sessions", hash_key(token), Session(now, now + SESSION_SECONDS), bump=False)
    return token


def close_session(gw: Gateway, token: str) -> None:
    gw.store.delete("sessions", hash_key(token), bump=False)
