"""A mock Ollama upstream (``POST /api/chat``), wire-exact: NDJSON records, compact JSON as Go
writes it, ``stream`` defaulting to **true**.

Behaviour by model name and request: see ``tests.support.mock_server``. Specific to Ollama: no
credential; errors are ``{"error": "..."}``; thinking is asked with ``think`` (true or an effort)
and answered as ``message.thinking`` pieces before the content (Ollama has no signatures); tool
calls arrive whole, in one record, without ids (``arguments`` an object); the last record has
``done_reason``, ``done: true`` and the counts and durations (in the order of Ollama's Go
struct); ``options.num_predict`` is the
max-tokens knob.

Requests are checked as Ollama checks them (400): unknown top-level keys are ignored, as
Ollama's server does (``FIELDS`` lists the documented ones, for tests to check bodies
against); ``images`` must be standard base64 (Go's ``StdEncoding``: a URL-safe ``-``/``_`` is
``illegal base64 data at input byte N``); known roles, ``arguments`` objects, ``tool``
messages only after an assistant turn with tool calls and, when ``tool_name`` is given, naming
one of its calls.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.mock_server import (
    ANSWER_TOKENS,
    OVERLOADED,
    PROMPT_TOKENS,
    THOUGHTS,
    MockServer,
    Plan,
    Refused,
    base64_error,
    breaks,
    dumps,
    error_code,
    plan,
    script,
)

CREATED_AT = "2026-11-26T12:00:00.123456789Z"
#: ``POST /api/chat``'s request body, https://docs.ollama.com/api/chat (the ``ollama`` SDK's
#: ``ChatRequest``); the server ignores other keys, so the mock does not refuse them
FIELDS = frozenset({"model", "messages", "tools", "format", "options", "stream", "keep_alive", "think", "logprobs",
                    "top_logprobs"})


def error_body(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def validate(body: dict[str, Any]) -> None:
    if not body.get("model"):
        raise Refused("model is required")
    calls: list[str] = []
    for i, msg in enumerate(body.get("messages") or []):
        role = msg.get("role")
        if role not in ("system", "user", "assistant", "tool"):
            raise Refused(f"invalid role {role!r} in messages[{i}]")
        if not isinstance(msg.get("content", ""), str):
            raise Refused("json: cannot unmarshal array into Go struct field Message.messages.content of type string")
        for image in msg.get("images") or []:
            if (at := base64_error(image)) is not None:
                raise Refused(f"illegal base64 data at input byte {at}")
        for call in msg.get("tool_calls") or []:
            if not isinstance(call.get("function", {}).get("arguments"), dict):
                raise Refused("json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls."
                              "function.arguments of type api.ToolCallFunctionArguments")
        if role == "assistant":
            calls = [c["function"]["name"] for c in msg.get("tool_calls") or []]
        elif role == "tool":
            name = msg.get("tool_name")
            if not calls or (name is not None and name not in calls):
                raise Refused(f"messages[{i}]: tool message does not answer a tool call")
        else:
            calls = []


def plan_of(body: dict[str, Any]) -> Plan:
    names = [t["function"]["name"] for t in body.get("tools") or []]
    messages = body.get("messages") or [{}]
    think = body.get("think")
    thinking = think is True or think in ("low", "medium", "high")
    texts = [m.get("content", "") for m in messages if m.get("role") == "user"]
    results = sum(m.get("role") == "tool" for m in messages)
    return script(texts, names, results, thinking) or plan(names, messages[-1].get("role") == "tool", thinking,
                                                           (body.get("options") or {}).get("num_predict"))


def record(model: str, message: dict[str, Any]) -> bytes:
    body = {"model": model, "created_at": CREATED_AT, "message": {"role": "assistant", **message}, "done": False}
    return dumps(body, separators=(",", ":")) + b"\n"


def final(model: str, p: Plan, message: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"model": model, "created_at": CREATED_AT, "message": {"role": "assistant", "content": "",
                                                                  **(message or {})},
            "done_reason": "length" if p.truncated else "stop", "done": True, "total_duration": 51234567,
            "load_duration": 1234567, "prompt_eval_count": PROMPT_TOKENS, "prompt_eval_duration": 2345678,
            "eval_count": ANSWER_TOKENS, "eval_duration": 34567890}


def tool_call(p: Plan) -> dict[str, Any]:
    return {"function": {"index": 0, "name": p.tool, "arguments": p.arguments}}


class OllamaUpstream(MockServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/chat", self.chat)

    @property
    def base_url(self) -> str:
        return self.origin

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        try:
            validate(body)
        except Refused as exc:
            return error_body(400, str(exc))
        model = body["model"]
        if (code := error_code(model)) is not None:
            return error_body(code, f"mock says {code}")
        p = plan_of(body)
        if body.get("stream", True) is False:
            message: dict[str, Any] = {"thinking": "".join(THOUGHTS)} if p.thinking else {}
            if p.tool:
                message["tool_calls"] = [tool_call(p)]
            else:
                message["content"] = "".join(p.words)
            return web.json_response(final(model, p, message), dumps=lambda o: dumps(o, separators=(",", ":")).decode())
        return await self.stream(request, model, p)

    async def stream(self, request: web.Request, model: str, p: Plan) -> web.StreamResponse:
        resp = await self.sse(request, "application/x-ndjson")
        for t in THOUGHTS if p.thinking else []:
            await resp.write(record(model, {"content": "", "thinking": t}))
        if p.tool:
            await resp.write(record(model, {"content": "", "tool_calls": [tool_call(p)]}))
        for i, word in enumerate([] if p.tool else p.words):
            await resp.write(record(model, {"content": word}))
            if breaks(model, i):
                if model == "drop":
                    self.drop(request)
                    return resp
                await resp.write(dumps({"error": OVERLOADED}) + b"\n")
                await resp.write_eof()
                return resp
        await resp.write(dumps(final(model, p), separators=(",", ":")) + b"\n")
        await resp.write_eof()
        return resp
