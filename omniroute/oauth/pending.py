"""Logins in progress, shared by every worker: PKCE authorizations and device codes.

``authorize`` on one worker and ``exchange`` on another must meet, so what a login needs
between its two steps lives in the runtime environment (``marks``), not in a worker:

==============================  ==========================================================
key                             value (msgpack ``Pending``)
==============================  ==========================================================
``oauth-state:<state>``         provider, PKCE verifier, expiry (15 min); taken once
``oauth-device:<sha256(code)>`` provider, poll interval, expiry, the connection once made
==============================  ==========================================================

PKCE (RFC 7636): a 64-byte random verifier, its S256 challenge in the authorization URL,
the verifier itself in the token request.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.oauth.providers import OAuthProvider
from omniroute.store import Runtime

STATE_TTL = 15 * 60
_USED = b"used"


class Pending(msgspec.Struct, omit_defaults=True):
    provider: str
    expires_at: float
    verifier: str = ""
    interval: int = 5
    connection_id: str = ""  # device flow: the connection made when it completed


_decoder = msgspec.msgpack.Decoder(Pending)
_encoder = msgspec.msgpack.Encoder()


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def begin(runtime: Runtime, p: OAuthProvider) -> tuple[str, str]:
    """(authorization URL, state) for a new login; the verifier waits under the state."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    runtime.put("marks", "oauth-state:" + state, _encoder.encode(Pending(p.name, time.time() + STATE_TTL, verifier)))
    params = {"response_type": "code", "client_id": p.client_id, "redirect_uri": p.redirect_uri, "scope": p.scopes,
              "state": state, "code_challenge": challenge(verifier), "code_challenge_method": "S256",
              **dict(p.authorize_params)}
    return p.url("authorize") + "?" + urlencode(params), state


def take(runtime: Runtime, p: OAuthProvider, state: str) -> Pending:
    """The login ``state`` belongs to (once: a second exchange of it is refused)."""
    found: list[bytes | None] = []

    def consume(_key: str, raw: bytes | None) -> bytes | None:
        found.append(raw)
        return _USED if raw not in (None, _USED) else None

    runtime.update_many("marks", ["oauth-state:" + state], consume)
    raw = found[0] if found else None
    if raw is None or raw == _USED:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "unknown or already used 'state': start again with "
                           f"GET /api/oauth/{p.name}/authorize", param="state")
    pending = _decoder.decode(raw)
    if pending.provider != p.name or pending.expires_at < time.time():
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'state' expired or belongs to another provider: start "
                           f"again with GET /api/oauth/{p.name}/authorize", param="state")
    return pending


def parse_code(code: object, state: object) -> tuple[str, str]:
    """(code, state) from an exchange body: ``code`` + ``state``, Claude's pasted ``code#state``,
    or the whole pasted callback URL (``…?code=…&state=…``)."""
    if not isinstance(code, str) or not code.strip():
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'code' is required: the authorization code or the callback "
                           "URL", param="code")
    code = code.strip()
    if code.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(code).query)
        if "error" in query:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"the provider refused the login: {query['error'][0]}",
                               param="code")
        code, state = query.get("code", [""])[0], query.get("state", [state])[0]
    elif "#" in code:
        code, _, state = code.partition("#")
    if not code or not isinstance(state, str) or not state:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'state' is required (from the authorize answer or the "
                           "callback URL)", param="state")
    return code, state


def device_key(device_code: str) -> str:
    return "oauth-device:" + hashlib.sha256(device_code.encode()).hexdigest()[:32]


def remember_device(runtime: Runtime, p: OAuthProvider, device_code: str, expires_in: float, interval: int) -> None:
    runtime.put("marks", device_key(device_code),
                _encoder.encode(Pending(p.name, time.time() + expires_in, interval=interval)))


def device(runtime: Runtime, p: OAuthProvider, device_code: object) -> Pending:
    if not isinstance(device_code, str) or not device_code:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'deviceCode' is required", param="deviceCode")
    raw = runtime.get("marks", device_key(device_code))
    pending = _decoder.decode(raw) if raw else None
    if pending is None or pending.provider != p.name:
        raise GatewayError(ErrorKind.NOT_FOUND, f"unknown 'deviceCode': start with POST /api/oauth/{p.name}/device",
                           param="deviceCode")
    return pending


def complete_device(runtime: Runtime, device_code: str, connection_id: str) -> None:
    raw = runtime.get("marks", device_key(device_code))
    if raw is not None:
        pending = msgspec.structs.replace(_decoder.decode(raw), connection_id=connection_id)
        runtime.put("marks", device_key(device_code), _encoder.encode(pending))
