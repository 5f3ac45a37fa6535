"""A mock OpenAI-compatible upstream: a real aiohttp server whose behaviour the model name picks.

==================  ============================================================
model               behaviour
==================  ============================================================
(any other)         normal answer (JSON, or SSE chunks + usage chunk + [DONE])
``error-<code>``    answers HTTP <code> with an OpenAI error body
``hang``            never sends headers (first-byte timeout); a client that leaves
                    counts in ``disconnects``
``stall``           streams two chunks, then goes silent (idle timeout)
``drop``            streams two chunks, then kills the connection
``slow``            streams a chunk every 0.2 s for 10 s (client-disconnect test)
``nodone``          streams chunks, then ends cleanly without ``[DONE]``
``paced``           streams a chunk every 0.15 s (about a second in all)
``agent``           like any other model, but a call of the first tool with
                    ``{"city": "Paris"}`` when tools are offered and the last message is
                    not a tool result (finish ``tool_calls``), ``reasoning_content``
                    before the answer when ``reasoning_effort`` is set, and the first two
                    words with finish ``length`` when max tokens ≤ 16
(embeddings)        ``POST /v1/embeddings`` answers a bag-of-words vector (``embeddings``)
``overload``        streams two chunks, then ``data: {"error": ...}`` ("mock
                    overloaded"), as OpenAI-compatible servers fail mid-stream
==================  ============================================================

Scripted answers (``mock-call`` / ``mock-reply`` in a user text, see
``tests.support.mock_server``) come before the model-name rows, for any model but
``error-<code>``.

Requests are checked as OpenAI checks them (400 ``invalid_request_error``): only the documented
top-level fields (``FIELDS``), roles ``system``/``developer``/``user``/``assistant``/``tool``,
standard base64 in ``data:`` image URLs, and for the models in ``MODELS`` their output-token
limit and whether they take ``reasoning_effort``.

Every request is recorded (``requests``); ``disconnects`` counts streams whose client went
away before the end, and ``hang`` requests whose client left.
"""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from typing import Any

from aiohttp import web

from tests.support.mock_server import MockServer, Plan, Refused, base64_error, script

WORDS = ["Hello", " from", " the", " mock", " upstream", "."]
#: Create chat completion's request body, https://platform.openai.com/docs/api-reference/chat/create
FIELDS = frozenset({
    "model", "messages", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort", "response_format",
    "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
    "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
ROLES = ("system", "developer", "user", "assistant", "tool")
#: model → (most completion tokens, reasons), https://platform.openai.com/docs/models
MODELS = {"gpt-4o-mini": (16384, False), "gpt-4o": (16384, False), "gpt-4.1": (32768, False),
          "gpt-4.1-mini": (32768, False)}


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return web.json_response(body, status=status)


def validate(body: dict[str, Any]) -> None:
    for key in body:
        if key not in FIELDS:
            raise Refused(f"Unrecognized request argument supplied: {key}")
    for i, msg in enumerate(body.get("messages") or []):
        if msg.get("role") not in ROLES:
            raise Refused(f"Invalid value: '{msg.get('role')}'. Supported values are: 'system', 'assistant', "
                          f"'user', 'function', 'tool', and 'developer'.")
        parts = msg.get("content")
        for j, part in enumerate(parts if isinstance(parts, list) else []):
            url = (part.get("image_url") or {}).get("url", "") if part.get("type") == "image_url" else ""
            if url.startswith("data:") and base64_error(url.partition(",")[2]) is not None:
                raise Refused(f"Invalid base64 image_url. (messages[{i}].content[{j}].image_url.url)")
    _check_model_fit(body)


def _check_model_fit(body: dict[str, Any]) -> None:
    limit, reasons = MODELS.get(body.get("model", ""), (None, True))
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None and isinstance(asked, int) and asked > limit:
        raise Refused(f"max_tokens is too large: {asked}. This model supports at most {limit} completion tokens, "
                      f"whereas you provided {asked}.")
    if not reasons and "reasoning_effort" in body:
        raise Refused("Unsupported parameter: 'reasoning_effort' is not supported with this model.")


def user_texts(body: dict[str, Any]) -> list[str]:
    out = []
    for msg in body.get("messages") or []:
        content = msg.get("content")
        if msg.get("role") == "user":
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            out += [p.get("text", "") for p in parts if p.get("type") == "text"]
    return out


def scripted(body: dict[str, Any]) -> Plan | None:
    names = [t["function"]["name"] for t in body.get("tools") or [] if "function" in t]
    results = sum(m.get("role") == "tool" for m in body.get("messages") or [])
    return script(user_texts(body), names, results)


def completion(model: str, text: str = "".join(WORDS)) -> dict[str, Any]:
    return {
        "id": "chatcmpl-mock1",
        "object": "chat.completion",
        "created": 1732650000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
    }


def chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-mock2",
        "object": "chat.completion.chunk",
        "created": 1732650000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def usage_chunk(model: str) -> bytes:
    body = {
        "id": "chatcmpl-mock2",
        "object": "chat.completion.chunk",
        "created": 1732650000,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class OpenAIUpstream(MockServer):
    def __init__(self) -> None:
        super().__init__()
        self.disconnects = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/embeddings", self.embeddings)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- handlers ---------------------------------------------------------------------
    async def models(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer sk-upstream":
            return web.json_response({"error": {"message": "bad upstream key"}}, status=401)
        return web.json_response({"object": "list", "data": [{"id": "gpt-4o-mini"}, {"id": "gpt-4o"}]})

    async def embeddings(self, request: web.Request) -> web.Response:
        """``POST /v1/embeddings``: a bag of words hashed into 64 dimensions (the same words, in
        any order or case, embed the same; other words point elsewhere)."""
        body = await self.record(request)
        text = body["input"] if isinstance(body["input"], str) else body["input"][0]
        vector = [0.0] * 64
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[zlib.crc32(word.encode()) % 64] += 1.0
        return web.json_response({"object": "list", "model": body["model"], "usage": {"prompt_tokens": 3,
                                  "total_tokens": 3}, "data": [{"object": "embedding", "index": 0,
                                                                 "embedding": vector}]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        model = body["model"]
        if model.startswith("error-"):
            status = int(model.split("-")[1])
            return web.json_response({"error": {"message": f"mock says {status}", "type": "x"}}, status=status)
        try:
            validate(body)
        except Refused as exc:
            return error_body(400, str(exc))
        if (p := scripted(body)) is not None:
            return await self.agent(request, body, p)
        if model == "hang" and await self.client_left(request, 30):
            self.disconnects += 1
            return web.Response(status=499)
        if model == "agent":
            return await self.agent(request, body)
        if model == "overload" and body.get("stream"):
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            for word in WORDS[:2]:
                await resp.write(chunk(model, {"content": word}))
            error = {"error": {"message": "mock overloaded", "type": "server_error", "code": None}}
            await resp.write(b"data: " + json.dumps(error).encode() + b"\n\n")
            await resp.write_eof()
            return resp
        if not body.get("stream"):
            return web.json_response(completion(model))
        return await self.stream(request, model, body)

    async def agent(self, request: web.Request, body: dict[str, Any], p: Plan | None = None) -> web.StreamResponse:
        """The ``agent`` model: tool calls, reasoning and length stops (see the module table);
        with a scripted plan ``p``, that plan's call or text."""
        model = body["model"]
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        tool = tools[0] if tools and body["messages"][-1]["role"] != "tool" else None
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        words = WORDS[:2] if tool is None and isinstance(limit, int) and limit <= 16 else WORDS
        p = p or Plan(tool=tool, truncated=len(words) < len(WORDS))
        tool, words = p.tool, p.words
        finish = "tool_calls" if tool else "length" if p.truncated else "stop"
        reasoning = "Thinking it over." if body.get("reasoning_effort") not in (None, "none") else None
        call = {"id": "call_mock01", "type": "function", "function": {"name": tool, "arguments": "".join(p.arg_pieces)}}
        if not body.get("stream"):
            answer = completion(model, "".join(words))
            message = answer["choices"][0]["message"]
            if tool:
                message.update(content=None, tool_calls=[call])
            if reasoning:
                message["reasoning_content"] = reasoning
            answer["choices"][0]["finish_reason"] = finish
            return web.json_response(answer)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(chunk(model, {"role": "assistant", "content": ""}))
        for piece in ["Thinking", " it over."] if reasoning else []:
            await resp.write(chunk(model, {"reasoning_content": piece}))
        if tool:
            head = {**call, "index": 0, "function": {"name": tool, "arguments": ""}}
            await resp.write(chunk(model, {"tool_calls": [head]}))
            for piece in p.arg_pieces:
                await resp.write(chunk(model, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        for word in [] if tool else words:
            await resp.write(chunk(model, {"content": word}))
        await resp.write(chunk(model, {}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            await resp.write(usage_chunk(model))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def stream(self, request: web.Request, model: str, body: dict[str, Any]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        try:
            await resp.write(chunk(model, {"role": "assistant", "content": ""}))
            pieces = WORDS * 50 if model == "slow" else WORDS
            for i, word in enumerate(pieces):
                await resp.write(chunk(model, {"content": word}))
                if model in ("stall", "drop") and i == 1:
                    if model == "drop":
                        request.transport.close()
                        return resp
                    await asyncio.sleep(30)
                if model in ("slow", "paced"):
                    await asyncio.sleep(0.2 if model == "slow" else 0.15)
            await resp.write(chunk(model, {}, "stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                await resp.write(usage_chunk(model))
            if model != "nodone":
                await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        return resp
