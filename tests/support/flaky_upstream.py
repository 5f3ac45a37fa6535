"""A mock OpenAI-compatible upstream whose behaviour the **API key** picks, for routing tests.

The gateway sends each connection's key as ``Authorization: Bearer <key>``; the key names
the behaviour, so several connections (accounts) of one provider node can point at one
mock and each behave differently. A key may carry a tag after ``~`` (``429~t1``): the tag
changes nothing but the counters, so tests keep their counts apart. ``override(key, b)``
makes a key behave as ``b`` from then on (a key that starts working again).

==========================  ====================================================================
key (before ``~``)          behaviour
==========================  ====================================================================
``ok``                      answers (JSON, or SSE chunks, a usage chunk when asked, ``[DONE]``);
                            the content is ``served by <key> as <model>``
``ok-slow-<ms>``            the same after ``<ms>`` milliseconds (before the head)
``429``                     429 ``rate_limit_exceeded``, no ``Retry-After``
``429-after-<s>``           429 with ``Retry-After: <s>`` (seconds)
``429-date[-<s>]``          429 with ``Retry-After`` as an HTTP date ``<s>`` s ahead (default 3)
``<status>``                (any other 3-digit number: 400, 401, 403, 404, 408, 500, 503, 529,
                            …) that status with an OpenAI error body
``context``                 400 ``context_length_exceeded`` (the model's window is too small)
``hang``                    never answers; a client that leaves counts in ``disconnects``
``drip-<ms>``               streams a chunk every ``<ms>`` milliseconds, twenty in all (JSON:
                            answers after twenty such waits)
``drop-first``              closes the connection before sending any byte
``drop-mid``                streams two chunks, then drops the connection (non-streaming: half
                            the JSON body, then drops)
``empty``                   200 with an empty body (streams: an event-stream with no event)
``notjson``                 200 with a body that is not JSON (streams: not SSE either)
==========================  ====================================================================

(A refused connection needs no behaviour: give the account a ``baseUrl`` on a closed port,
``tests.support.gateway.free_port``.)

Every answer carries ``x-ratelimit-remaining-requests: <REMAINING − requests seen for that
key>``. ``counts`` holds the requests seen per key (every path), ``served`` the keys that got
an ``ok`` answer, in order; ``requests`` / ``headers`` (``MockServer``) every chat request.
``GET /v1/models`` (what ``POST /api/providers/{id}/test`` probes) answers as the key's
behaviour does for status codes, else a model list. Usage is always ``PROMPT_TOKENS`` +
``ANSWER_TOKENS``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from email.utils import formatdate
from typing import Any

from aiohttp import web

from tests.support.mock_server import MockServer

REMAINING = 1000
PROMPT_TOKENS = 10
ANSWER_TOKENS = 5
MODEL_LIST = ["m1", "m2"]
ANSWERS = ("ok", "drip-", "drop-mid", "empty", "notjson")  # behaviours that answer 200


def behaviour_of(key: str) -> str:
    return key.partition("~")[0]


def error(status: int, message: str, code: str | None = None, kind: str = "invalid_request_error",
          headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-flaky", "object": "chat.completion", "created": 1732650000, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": ANSWER_TOKENS,
                  "total_tokens": PROMPT_TOKENS + ANSWER_TOKENS},
    }


def sse(model: str, delta: dict[str, Any] | None, finish: str | None = None, usage: bool = False) -> bytes:
    body: dict[str, Any] = {"id": "chatcmpl-flaky", "object": "chat.completion.chunk", "created": 1732650000,
                            "model": model,
                            "choices": [] if delta is None else [{"index": 0, "delta": delta,
                                                                  "finish_reason": finish}]}
    if usage:
        body["usage"] = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": ANSWER_TOKENS,
                         "total_tokens": PROMPT_TOKENS + ANSWER_TOKENS}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class FlakyUpstream(MockServer):
    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()
        self.served: list[str] = []
        self.overrides: dict[str, str] = {}
        self.disconnects = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def override(self, key: str, behaviour: str) -> None:
        self.overrides[key] = behaviour

    def count(self, key: str) -> int:
        return self.counts[key]

    def _key(self, request: web.Request) -> tuple[str, str]:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        self.counts[key] += 1
        return key, self.overrides.get(key, behaviour_of(key))

    def _headers(self, key: str) -> dict[str, str]:
        return {"x-ratelimit-remaining-requests": str(max(REMAINING - self.counts[key], 0))}

    # -- handlers ---------------------------------------------------------------------
    async def models(self, request: web.Request) -> web.Response:
        _key, behaviour = self._key(request)
        if behaviour.isdigit():
            return error(int(behaviour), f"flaky says {behaviour}")
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in MODEL_LIST]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        key, behaviour = self._key(request)
        model, stream = body.get("model", ""), bool(body.get("stream"))
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        refused = self._refusal(key, behaviour)
        if refused is not None:
            return refused
        if behaviour == "hang":
            if await self.client_left(request, 60):
                self.disconnects += 1
            return web.Response(status=499)
        if behaviour == "drop-first":
            self.drop(request)
            return web.Response(status=499)
        if not behaviour.startswith(ANSWERS):
            return error(500, f"flaky upstream: unknown behaviour '{behaviour}'")
        if behaviour.startswith("ok-slow-"):
            await asyncio.sleep(int(behaviour.removeprefix("ok-slow-")) / 1000)
        elif behaviour.startswith("drip-") and not stream:
            await asyncio.sleep(20 * int(behaviour.removeprefix("drip-")) / 1000)
        return await (self._stream(request, key, behaviour, model, usage) if stream
                      else self._json(request, key, behaviour, model))

    def _refusal(self, key: str, behaviour: str) -> web.Response | None:
        """The error answers: 429 in its three forms, a bare status, a context-length 400."""
        headers = self._headers(key)
        if behaviour == "429" or behaviour.startswith("429-"):
            if behaviour.startswith("429-after-"):
                headers["Retry-After"] = behaviour.removeprefix("429-after-")
            elif behaviour.startswith("429-date"):
                ahead = float(behaviour.removeprefix("429-date").lstrip("-") or 3)
                headers["Retry-After"] = formatdate(time.time() + ahead, usegmt=True)
            return error(429, "flaky: rate limit reached for requests", "rate_limit_exceeded", "requests", headers)
        if behaviour.isdigit():
            return error(int(behaviour), f"flaky says {behaviour}", headers=headers)
        if behaviour == "context":
            return error(400, "This model's maximum context length is 8192 tokens. However, your messages resulted "
                         "in 9000 tokens.", "context_length_exceeded", headers=headers)
        return None

    async def _json(self, request: web.Request, key: str, behaviour: str, model: str) -> web.StreamResponse:
        headers = self._headers(key)
        if behaviour == "empty":
            return web.Response(status=200, body=b"", content_type="application/json", headers=headers)
        if behaviour == "notjson":
            return web.Response(status=200, text="<html>upstream proxy error</html>", content_type="application/json",
                                headers=headers)
        raw = json.dumps(completion(model, f"served by {key} as {model}")).encode()
        if behaviour == "drop-mid":
            resp = web.StreamResponse(headers={**headers, "Content-Type": "application/json",
                                               "Content-Length": str(len(raw))})
            await resp.prepare(request)
            await resp.write(raw[: len(raw) // 2])
            self.drop(request)
            return resp
        self.served.append(key)
        return web.Response(body=raw, content_type="application/json", headers=headers)

    async def _stream(self, request: web.Request, key: str, behaviour: str, model: str,
                      usage: bool) -> web.StreamResponse:
        content_type = "text/html" if behaviour == "notjson" else "text/event-stream"
        resp = web.StreamResponse(headers={**self._headers(key), "Content-Type": content_type})
        try:
            await resp.prepare(request)
        except ConnectionResetError:  # the gateway left while an ok-slow answer waited
            self.disconnects += 1
            return resp
        if behaviour == "notjson":
            await resp.write(b"<html>upstream proxy error</html>")
            await resp.write_eof()
            return resp
        if behaviour == "empty":
            await resp.write_eof()
            return resp
        words = ["served", " by", f" {key}", f" as {model}"]
        pause = int(behaviour.removeprefix("drip-")) / 1000 if behaviour.startswith("drip-") else 0
        if pause:
            words = [f"{i} " for i in range(20)]
        try:
            await resp.write(sse(model, {"role": "assistant", "content": ""}))
            for i, word in enumerate(words):
                await resp.write(sse(model, {"content": word}))
                if behaviour == "drop-mid" and i == 1:
                    self.drop(request)
                    return resp
                if pause:
                    await asyncio.sleep(pause)
            await resp.write(sse(model, {}, "stop"))
            if usage:
                await resp.write(sse(model, None, usage=True))
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        self.served.append(key)
        return resp
