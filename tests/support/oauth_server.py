"""A mock OAuth server and the subscription upstreams that take its tokens, on one loopback port.

OAuth endpoints, as the providers document them:

===================================  ==========================================================
endpoint                             behaviour
===================================  ==========================================================
GET  /authorize                      checks the PKCE request (S256 challenge, state, client id,
                                     redirect URI) and redirects to ``redirect_uri?code&state``
POST /token  authorization_code      the code must be one /authorize issued, with the verifier
                                     whose S256 is its challenge → access + refresh token,
                                     ``expires_in`` = ``expires_in``, an ``id_token`` (email,
                                     ChatGPT account id) and Anthropic's ``account``
POST /token  refresh_token           counted in ``refreshes``; waits ``refresh_delay`` s; a
                                     refused (``refuse_refresh``) or unknown/rotated refresh
                                     token → 400 ``invalid_grant``; else new tokens (the refresh
                                     token rotates), ``expires_in`` = ``refresh_expires_in``
POST /device/code                    a device code and user code (RFC 8628)
POST /token  device_code grant       ``authorization_pending`` until ``approve(code)``, then a
                                     GitHub token; ``expired_token`` after ``expire(code)``
GET  /copilot_internal/v2/token      ``Authorization: token <GitHub token>`` → a Copilot token
                                     (``copilot_ttl`` s), counted in ``copilot_calls``
===================================  ==========================================================

Upstreams (401 unless the bearer is an access token this server issued and has not replaced):
``/anthropic/v1/messages`` (needs the ``oauth-2025-04-20`` beta), ``/codex/responses`` (needs
``chatgpt-account-id``), ``/copilot/chat/completions`` (needs ``Copilot-Integration-Id``),
``/v1internal:loadCodeAssist`` and ``/v1internal:generateContent`` / ``:streamGenerateContent``
(the Code Assist envelope, strictly: ``model``, ``project``, ``request`` and nothing else).
Each records the bearer it got in ``bearers``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.support.mock_server import TEXT, MockServer

ACCOUNT_ID = "acct-mock-123"
EMAIL = "user@example.com"
PROJECT = "proj-mock"


def _reply(status: int, payload: dict[str, Any]) -> web.Response:
    return web.json_response(payload, status=status)


def _jwt(claims: dict[str, Any]) -> str:
    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


class MockOAuth(MockServer):
    def __init__(self) -> None:
        super().__init__()
        self.serial = itertools.count(1)
        self.codes: dict[str, dict[str, str]] = {}
        self.access: set[str] = set()  # valid access tokens
        self.refresh_tokens: set[str] = set()
        self.devices: dict[str, str] = {}  # device code → pending | approved | expired
        self.github_tokens: set[str] = set()
        self.expires_in = 3600
        self.refresh_expires_in = 3600
        self.refresh_delay = 0.0
        self.refuse_refresh = False
        self.refreshes = 0
        self.copilot_calls = 0
        self.copilot_ttl = 1800
        self.token_bodies: list[dict[str, str]] = []
        self.bearers: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_post("/device/code", self.device_code)
        app.router.add_get("/copilot_internal/v2/token", self.copilot)
        app.router.add_post("/anthropic/v1/messages", self.anthropic)
        app.router.add_post("/codex/responses", self.codex)
        app.router.add_post("/copilot/chat/completions", self.copilot_chat)
        app.router.add_post("/v1internal:loadCodeAssist", self.load_code_assist)
        app.router.add_post("/v1internal:generateContent", self.code_assist)
        app.router.add_post("/v1internal:streamGenerateContent", self.code_assist)

    def env(self) -> dict[str, str]:
        """Every OAuth URL of every provider pointed here (``OMNIROUTE_OAUTH_*``)."""
        o = self.origin
        env = {}
        for provider in ("CLAUDE", "CODEX", "GEMINI_CLI"):
            env[f"OMNIROUTE_OAUTH_{provider}_AUTHORIZE_URL"] = o + "/authorize"
            env[f"OMNIROUTE_OAUTH_{provider}_TOKEN_URL"] = o + "/token"
        env.update({"OMNIROUTE_OAUTH_GITHUB_DEVICE_URL": o + "/device/code",
                    "OMNIROUTE_OAUTH_GITHUB_TOKEN_URL": o + "/token",
                    "OMNIROUTE_OAUTH_GITHUB_COPILOT_TOKEN_URL": o + "/copilot_internal/v2/token"})
        return env

    # -- OAuth ---------------------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        for name in ("client_id", "redirect_uri", "state", "code_challenge"):
            if not q.get(name):
                return _reply(400, {"error": "invalid_request", "error_description": f"{name} missing"})
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return _reply(400, {"error": "invalid_request"})
        code = f"code-{next(self.serial)}"
        self.codes[code] = {"challenge": q["code_challenge"], "client_id": q["client_id"],
                            "redirect_uri": q["redirect_uri"]}
        raise web.HTTPFound(q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]}))

    async def _form(self, request: web.Request) -> dict[str, str]:
        if request.content_type == "application/json":
            return {k: str(v) for k, v in (await request.json()).items()}
        return dict(await request.post())

    async def token(self, request: web.Request) -> web.Response:
        body = await self._form(request)
        self.token_bodies.append(body)
        grant = body.get("grant_type")
        if grant == "authorization_code":
            return self._code_grant(body)
        if grant == "refresh_token":
            self.refreshes += 1
            await asyncio.sleep(self.refresh_delay)
            if self.refuse_refresh or body.get("refresh_token") not in self.refresh_tokens:
                return _reply(400, {"error": "invalid_grant", "error_description": "refresh token revoked"})
            self.refresh_tokens.discard(body["refresh_token"])
            return self._issue(self.refresh_expires_in)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            return self._device_grant(body)
        return _reply(400, {"error": "unsupported_grant_type"})

    def _code_grant(self, body: dict[str, str]) -> web.Response:
        issued = self.codes.pop(body.get("code", ""), None)
        verifier = body.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if issued is None or challenge != issued["challenge"] or body.get("redirect_uri") != issued["redirect_uri"]:
            return _reply(400, {"error": "invalid_grant", "error_description": "bad code or verifier"})
        return self._issue(self.expires_in)

    def _issue(self, expires_in: int) -> web.Response:
        n = f"{next(self.serial)}-{secrets.token_hex(8)}"
        access, refresh = f"at-{n}", f"rt-{n}"
        self.access.add(access)
        self.refresh_tokens.add(refresh)
        id_token = _jwt({"email": EMAIL, "https://api.openai.com/auth": {"chatgpt_account_id": ACCOUNT_ID}})
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": expires_in,
                                  "token_type": "Bearer", "id_token": id_token,
                                  "account": {"uuid": "u-1", "email_address": EMAIL}})

    async def device_code(self, request: web.Request) -> web.Response:
        body = await self._form(request)
        if not body.get("client_id"):
            return _reply(400, {"error": "invalid_request"})
        code = f"dev-{next(self.serial)}"
        self.devices[code] = "pending"
        return web.json_response({"device_code": code, "user_code": "ABCD-1234", "interval": 1, "expires_in": 900,
                                  "verification_uri": "https://github.com/login/device"})

    def approve(self, device_code: str) -> None:
        self.devices[device_code] = "approved"

    def expire(self, device_code: str) -> None:
        self.devices[device_code] = "expired"

    def _device_grant(self, body: dict[str, str]) -> web.Response:
        state = self.devices.get(body.get("device_code", ""))
        if state is None:
            return web.json_response({"error": "bad_verification_code"})
        if state != "approved":
            return web.json_response({"error": "expired_token" if state == "expired" else "authorization_pending"})
        self.devices[body["device_code"]] = "used"
        token = f"gho_{next(self.serial)}"
        self.github_tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "scope": "read:user"})

    async def copilot(self, request: web.Request) -> web.Response:
        self.copilot_calls += 1
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("token ") or auth[6:] not in self.github_tokens:
            return _reply(401, {"message": "Bad credentials"})
        n = next(self.serial)
        token = f"cop-{n}"
        self.access.add(token)
        return web.json_response({"token": token, "expires_at": int(time.time()) + self.copilot_ttl,
                                  "refresh_in": self.copilot_ttl - 300})

    # -- upstreams -----------------------------------------------------------------------
    def _bearer(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        self.bearers.append(token)
        return token if token in self.access else None

    async def anthropic(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        if self._bearer(request) is None:
            return web.json_response({"type": "error", "error": {"type": "authentication_error",
                                                                 "message": "invalid bearer token"}}, status=401)
        if "oauth-2025-04-20" not in request.headers.get("anthropic-beta", ""):
            return web.json_response({"type": "error", "error": {"type": "invalid_request_error",
                                                                 "message": "OAuth needs the oauth beta"}}, status=400)
        return web.json_response({"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                                  "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
                                  "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 6}})

    async def codex(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        if self._bearer(request) is None:
            return _reply(401, {"error": {"message": "invalid token", "type": "invalid_request_error"}})
        if request.headers.get("chatgpt-account-id") != ACCOUNT_ID:
            return _reply(400, {"error": {"message": "chatgpt-account-id missing", "type": "x"}})
        return web.json_response({
            "id": "resp_1", "object": "response", "created_at": int(time.time()), "status": "completed",
            "model": body["model"], "output": [{"type": "message", "id": "msg_1", "status": "completed",
                                                "role": "assistant", "content": [{"type": "output_text", "text": TEXT,
                                                                                  "annotations": []}]}],
            "usage": {"input_tokens": 12, "output_tokens": 6, "total_tokens": 18}})

    async def copilot_chat(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        if self._bearer(request) is None:
            return _reply(401, {"error": {"message": "unauthorized", "type": "invalid_request_error"}})
        if request.headers.get("Copilot-Integration-Id") != "vscode-chat":
            return _reply(400, {"error": {"message": "missing integration id", "type": "x"}})
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}})

    async def load_code_assist(self, request: web.Request) -> web.Response:
        if self._bearer(request) is None:
            return _reply(401, {"error": {"code": 401, "message": "bad token", "status": "UNAUTHENTICATED"}})
        return web.json_response({"cloudaicompanionProject": PROJECT, "currentTier": {"id": "free-tier"}})

    async def code_assist(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        if self._bearer(request) is None:
            return _reply(401, {"error": {"code": 401, "message": "bad token", "status": "UNAUTHENTICATED"}})
        if set(body) != {"model", "project", "request"} or body["project"] != PROJECT or \
                not body["request"].get("contents") or "model" in body["request"]:
            return web.json_response({"error": {"code": 400, "message": f"bad envelope: {sorted(body)}",
                                                "status": "INVALID_ARGUMENT"}}, status=400)
        answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": TEXT}]}, "finishReason": "STOP",
                                  "index": 0}],
                  "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 6, "totalTokenCount": 18},
                  "modelVersion": body["model"]}
        if not request.path.endswith(":streamGenerateContent"):
            return web.json_response({"response": answer, "traceId": "t-1"})
        resp = await self.sse(request)
        pieces = [{"candidates": [{"content": {"role": "model", "parts": [{"text": w}]}, "index": 0}]}
                  for w in ("Hello from the", " mock upstream.")]
        pieces[-1]["candidates"][0]["finishReason"] = "STOP"
        pieces[-1]["usageMetadata"] = answer["usageMetadata"]
        for piece in pieces:
            await resp.write(b"data: " + json.dumps({"response": piece}).encode() + b"\r\n\r\n")
        await resp.write_eof()
        return resp
