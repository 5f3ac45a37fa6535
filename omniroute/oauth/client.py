"""The calls to OAuth servers: code exchange, refresh, device flow, Copilot tokens, the Code
Assist project. Management-path calls, through the worker's aiohttp session.

What each answers is a ``Grant``. Failures are ``GatewayError``\\ s of two kinds — the only
distinction callers make:

=================================  =================================================
the OAuth server                   error
=================================  =================================================
answered 400 / 401 / 403           ``INVALID_REQUEST`` (400): the code, refresh token
                                   or GitHub token was refused — ``refused(err)``;
                                   a refresh refused this way expires the account
answered another status, nothing   ``UPSTREAM_ERROR`` / ``UPSTREAM_UNREACHABLE`` /
usable, or could not be reached    ``UPSTREAM_TIMEOUT``: try again later
=================================  =================================================

Messages carry the server's ``error`` / ``error_description``, never a token.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import aiohttp
import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.oauth.providers import OAuthProvider
from omniroute.store import OAuthToken
from omniroute.upstream import map_exception

TIMEOUT = 20.0
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_OPENAI_AUTH_CLAIM = "https://api.openai.com/auth"


class Grant(msgspec.Struct):
    access_token: str
    refresh_token: str = ""
    expires_at: float = 0.0
    account: str = ""
    extra: dict[str, str] = msgspec.field(default_factory=dict)


def refused(err: GatewayError) -> bool:
    return err.kind is ErrorKind.INVALID_REQUEST


async def _call(session: aiohttp.ClientSession, p: OAuthProvider, method: str, url: str,
                **kw: Any) -> tuple[int, dict[str, Any]]:
    headers = {"Accept": "application/json", **kw.pop("headers", {})}
    try:
        async with asyncio.timeout(TIMEOUT), session.request(method, url, headers=headers, **kw) as resp:
            body = await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise map_exception(exc, p.row) from None
    try:
        payload = msgspec.json.decode(body) if body.strip() else {}
    except msgspec.DecodeError:
        payload = {}
    return resp.status, payload if isinstance(payload, dict) else {}


async def _token_call(session: aiohttp.ClientSession, p: OAuthProvider, body: dict[str, str]) -> tuple[int, dict]:
    if p.client_secret:
        body["client_secret"] = p.client_secret
    if p.json_body:
        return await _call(session, p, "POST", p.url("token"), json=body)
    return await _call(session, p, "POST", p.url("token"), data=body)


def _failure(p: OAuthProvider, status: int, payload: dict[str, Any], what: str) -> GatewayError:
    error, detail = payload.get("error"), payload.get("error_description") or payload.get("message")
    if isinstance(error, dict):  # {"error": {"type", "message"}}
        error, detail = error.get("type"), error.get("message")
    reason = ": ".join(str(part) for part in (error, detail) if part)
    text = f"{p.name}: the OAuth server refused the {what} (HTTP {status}{': ' + str(reason) if reason else ''})"
    if status in (400, 401, 403):
        return GatewayError(ErrorKind.INVALID_REQUEST, text, code="oauth_refused")
    return GatewayError(ErrorKind.UPSTREAM_ERROR, text, status=502, code="oauth_unavailable")


def _grant(p: OAuthProvider, status: int, payload: dict[str, Any], what: str) -> Grant:
    if status >= 400:
        raise _failure(p, status, payload, what)
    access = payload.get("access_token") or payload.get("token")
    if not isinstance(access, str) or not access:
        raise GatewayError(ErrorKind.UPSTREAM_ERROR, f"{p.name}: the OAuth server's answer has no access token",
                           status=502, code="oauth_unavailable")
    expires_in = payload.get("expires_in")
    expires_at = payload.get("expires_at")
    if isinstance(expires_in, int | float):
        expires_at = time.time() + float(expires_in)
    account, extra = identity(payload)
    refresh = payload.get("refresh_token")
    return Grant(access, refresh if isinstance(refresh, str) else "",
                 float(expires_at) if isinstance(expires_at, int | float) else 0.0, account, extra)


def identity(payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Who logged in: Anthropic's ``account.email_address``, or the ``id_token``'s ``email``
    (OpenAI, Google); OpenAI's ChatGPT account id (``extra["account_id"]``). The id token is
    read, not verified: it came straight from the token endpoint over TLS."""
    claims = _jwt_claims(payload.get("id_token"))
    extra = {}
    auth = claims.get(_OPENAI_AUTH_CLAIM)
    if isinstance(auth, dict) and isinstance(auth.get("chatgpt_account_id"), str):
        extra["account_id"] = auth["chatgpt_account_id"]
    account = payload.get("account")
    email = account.get("email_address") if isinstance(account, dict) else claims.get("email")
    return email if isinstance(email, str) else "", extra


def _jwt_claims(token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    part = token.split(".")[1]
    try:
        claims = msgspec.json.decode(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, msgspec.DecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


async def exchange_code(session: aiohttp.ClientSession, p: OAuthProvider, code: str, verifier: str,
                        state: str) -> Grant:
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": p.redirect_uri,
            "client_id": p.client_id, "code_verifier": verifier}
    if p.json_body:  # Anthropic's token endpoint takes the state back too
        body["state"] = state
    return _grant(p, *await _token_call(session, p, body), "authorization code")


async def refresh(session: aiohttp.ClientSession, p: OAuthProvider, token: OAuthToken) -> Grant:
    """A new access token for ``token``'s account (device flow: a new Copilot token)."""
    if p.flow == "device":
        return await copilot_token(session, p, token.refresh_token)
    body = {"grant_type": "refresh_token", "refresh_token": token.refresh_token, "client_id": p.client_id}
    grant = _grant(p, *await _token_call(session, p, body), "refresh token")
    grant.refresh_token = grant.refresh_token or token.refresh_token  # Google keeps the same one
    grant.account = grant.account or token.account
    grant.extra = {**token.extra, **grant.extra}
    return grant


async def start_device(session: aiohttp.ClientSession, p: OAuthProvider) -> dict[str, Any]:
    status, payload = await _call(session, p, "POST", p.url("device"), data={"client_id": p.client_id,
                                                                            "scope": p.scopes})
    if status >= 400 or not isinstance(payload.get("device_code"), str):
        raise _failure(p, status if status >= 400 else 502, payload, "device authorization")
    return payload


async def poll_device(session: aiohttp.ClientSession, p: OAuthProvider, device_code: str) -> tuple[str, str]:
    """(``pending`` | ``complete`` | ``expired`` | ``denied``, the GitHub token when complete)."""
    status, payload = await _call(session, p, "POST", p.url("token"), data={
        "client_id": p.client_id, "device_code": device_code, "grant_type": DEVICE_GRANT})
    error = payload.get("error")
    if error in ("authorization_pending", "slow_down"):
        return "pending", ""
    if error == "expired_token":
        return "expired", ""
    if error == "access_denied":
        return "denied", ""
    token = payload.get("access_token")
    if status >= 400 or error or not isinstance(token, str):
        raise _failure(p, status if status >= 400 else 400, payload, "device code")
    return "complete", token


async def copilot_token(session: aiohttp.ClientSession, p: OAuthProvider, github_token: str) -> Grant:
    status, payload = await _call(session, p, "GET", p.url("copilot_token"),
                                  headers={"Authorization": f"token {github_token}"})
    grant = _grant(p, status, payload, "GitHub token (Copilot)")
    grant.refresh_token = github_token
    return grant


async def code_assist_project(session: aiohttp.ClientSession, p: OAuthProvider, base_url: str, access: str) -> str:
    """The Cloud project Code Assist serves this account under (``loadCodeAssist``)."""
    body = {"metadata": {"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}}
    status, payload = await _call(session, p, "POST", base_url + ":loadCodeAssist", json=body,
                                  headers={"Authorization": f"Bearer {access}"})
    if status >= 400:
        raise _failure(p, status, payload, "Code Assist project lookup")
    project = payload.get("cloudaicompanionProject")
    if isinstance(project, dict):
        project = project.get("id")
    return project if isinstance(project, str) else ""
