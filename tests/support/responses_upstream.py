"""A mock OpenAI Responses upstream (``POST /v1/responses``), wire-exact: typed SSE events
(``event: <type>`` + ``data`` with ``type`` and ``sequence_number``) and full response objects.

Behaviour by model name and request: see ``tests.support.mock_server``. Specific to Responses:
``Authorization: Bearer sk-upstream`` (else 401); errors are ``{"error": {message, type, param,
code}}``; thinking is asked with ``reasoning`` (effort not ``none``) and answered as a
``reasoning`` item — its summary only when ``reasoning.summary`` asks for one, its
``encrypted_content`` (``SIGNATURE``) only when ``include`` has ``reasoning.encrypted_content``,
as OpenAI does; a tool call is a ``function_call`` item (``call_id`` ``CALL_ID``); a
truncated answer ends ``incomplete`` with ``max_output_tokens`` (event ``response.incomplete``).

Requests are checked as OpenAI checks them (400 ``invalid_request_error``): unknown top-level
parameters (``FIELDS``), message roles other than ``user``/``assistant``/``system``/``developer``,
``input_image`` data URLs that are not standard base64, message parts of the wrong side
(``input_text`` in an assistant message),
``function_call_output`` without a ``function_call`` of that ``call_id`` earlier in the input,
``reasoning`` items without a summary list or, when not stored, without encrypted content
that verifies.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from tests.support.mock_server import (
    ANSWER_TOKENS,
    API_KEY,
    OVERLOADED,
    PROMPT_TOKENS,
    THOUGHT,
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

SIGNATURE = "gAAAAABpH-_7bW9jayBlbmNyeXB0ZWQgcmVhc29uaW5nIH5-Pj4_Pw=="  # URL-safe base64, as OpenAI's (Fernet) are
CALL_ID = "call_mock01"
REASONING_ID = "rs_mock01"
#: Create a model response's request body, https://platform.openai.com/docs/api-reference/responses/create
FIELDS = frozenset({
    "model", "input", "instructions", "background", "conversation", "include", "max_output_tokens",
    "max_tool_calls", "metadata", "parallel_tool_calls", "previous_response_id", "prompt", "prompt_cache_key",
    "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store", "stream", "stream_options",
    "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p", "truncation", "user",
    "context_management",
})
#: not in the reference, yet taken by the API: Codex (OpenAI's own CLI) sends ``client_metadata``
#: on every request to api.openai.com (codex-rs ``client_metadata()``), and that works
UNDOCUMENTED = frozenset({"client_metadata"})
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
               429: "rate_limit_exceeded", 500: "server_error", 503: "server_error"}
USER_PARTS = {"input_text", "input_image", "input_file"}
ASSISTANT_PARTS = {"output_text", "refusal"}


def error_body(status: int, message: str, param: str | None = None) -> web.Response:
    kind = ERROR_TYPES.get(status, "server_error")
    return web.json_response({"error": {"message": message, "type": kind, "param": param, "code": None}}, status=status)


def validate(body: dict[str, Any]) -> None:
    for key in body:
        if key not in FIELDS and key not in UNDOCUMENTED:
            raise Refused(f"Unrecognized request argument supplied: {key}")
    if not isinstance(body.get("model"), str):
        raise Refused("Missing required parameter: 'model'.")
    items = body.get("input")
    if isinstance(items, str):
        return
    calls: set[str] = set()
    for i, item in enumerate(items or []):
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            _check_message(item, f"input[{i}]")
        elif kind == "function_call":
            if not (item.get("call_id") and item.get("name") and isinstance(item.get("arguments"), str)):
                raise Refused(f"Missing required parameter: 'input[{i}]' needs call_id, name and arguments.")
            calls.add(item["call_id"])
        elif kind == "function_call_output":
            if item.get("call_id") not in calls:
                raise Refused(f"No tool call found for function call output with call_id {item.get('call_id')}.")
        elif kind == "reasoning":
            _check_reasoning(item, body, f"input[{i}]")
        else:
            raise Refused(f"Invalid value: '{kind}'. (input[{i}].type)")


def _check_message(item: dict[str, Any], path: str) -> None:
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise Refused(f"Invalid value: '{role}'. ({path}.role)")
    parts = item.get("content")
    if isinstance(parts, str):
        return
    allowed = ASSISTANT_PARTS if role == "assistant" else USER_PARTS
    for j, part in enumerate(parts or []):
        if part.get("type") not in allowed:
            raise Refused(f"Invalid value: '{part.get('type')}'. Supported values are: {sorted(allowed)}. "
                          f"({path}.content[{j}])")
        url = (part.get("image_url") or "") if part.get("type") == "input_image" else ""
        if url.startswith("data:") and base64_error(url.partition(",")[2]) is not None:
            raise Refused(f"Invalid base64 image_url. ({path}.content[{j}].image_url)")


def _check_reasoning(item: dict[str, Any], body: dict[str, Any], path: str) -> None:
    if not isinstance(item.get("summary"), list):
        raise Refused(f"Missing required parameter: '{path}.summary'.")
    if body.get("store") is False and item.get("encrypted_content") != SIGNATURE:
        raise Refused(f"Item with id '{item.get('id')}' not found or its encrypted content could not be verified. "
                      "Items are not persisted when `store` is set to false.")


def plan_of(body: dict[str, Any]) -> Plan:
    names = [t["name"] for t in body.get("tools") or [] if t.get("type") == "function"]
    items = body["input"] if isinstance(body["input"], list) else [{"role": "user", "content": body["input"]}]
    answered = items[-1].get("type") == "function_call_output"
    reasoning = body.get("reasoning")
    thinking = reasoning is not None and reasoning.get("effort") != "none"
    results = sum(i.get("type") == "function_call_output" for i in items)
    return (script(user_texts(items), names, results, thinking)
            or plan(names, answered, thinking, body.get("max_output_tokens")))


def user_texts(items: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item.get("role") == "user":
            content = item.get("content")
            parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content or []
            out += [p.get("text", "") for p in parts if p.get("type") == "input_text"]
    return out


class ResponsesUpstream(MockServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/responses", self.responses)

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    async def responses(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return error_body(401, "Incorrect API key provided.")
        try:
            validate(body)
        except Refused as exc:
            return error_body(400, str(exc))
        model = body["model"]
        if (code := error_code(model)) is not None:
            return error_body(code, f"mock says {code}")
        p = plan_of(body)
        items = self.items(body, p)
        if not body.get("stream"):
            return web.json_response(self.response(model, p, items, done=True))
        return await self.stream(request, model, body, p)

    @staticmethod
    def items(body: dict[str, Any], p: Plan) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if p.thinking:
            out.append(_reasoning(body, THOUGHT))
        if p.tool:
            out.append({"id": "fc_mock01", "type": "function_call", "status": "completed",
                        "arguments": "".join(p.arg_pieces), "call_id": CALL_ID, "name": p.tool})
        else:
            out.append(_message("".join(p.words), "incomplete" if p.truncated else "completed"))
        return out

    @staticmethod
    def response(model: str, p: Plan, output: list[dict[str, Any]], done: bool) -> dict[str, Any]:
        status = ("incomplete" if p.truncated else "completed") if done else "in_progress"
        return {
            "id": "resp_mock01", "object": "response", "created_at": int(time.time()), "status": status,
            "error": None, "incomplete_details": {"reason": "max_output_tokens"} if done and p.truncated else None,
            "instructions": None, "max_output_tokens": None, "model": model, "output": output,
            "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "store": False, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "truncation": "disabled", "user": None, "metadata": {},
            "usage": {"input_tokens": PROMPT_TOKENS, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": ANSWER_TOKENS,
                      "output_tokens_details": {"reasoning_tokens": 4 if p.thinking else 0},
                      "total_tokens": PROMPT_TOKENS + ANSWER_TOKENS} if done else None,
        }

    async def stream(self, request: web.Request, model: str, body: dict[str, Any], p: Plan) -> web.StreamResponse:
        resp = await self.sse(request)
        seq = iter(range(10_000))

        async def emit(kind: str, **data: Any) -> None:
            payload = {"type": kind, **data, "sequence_number": next(seq)}
            await resp.write(b"event: " + kind.encode() + b"\ndata: " + dumps(payload) + b"\n\n")

        await emit("response.created", response=self.response(model, p, [], done=False))
        await emit("response.in_progress", response=self.response(model, p, [], done=False))
        output: list[dict[str, Any]] = []
        if p.thinking:
            await self.stream_reasoning(emit, body, len(output))
            output.append(_reasoning(body, THOUGHT))
        if p.tool:
            item = {"id": "fc_mock01", "type": "function_call", "status": "in_progress", "arguments": "",
                    "call_id": CALL_ID, "name": p.tool}
            at = len(output)
            await emit("response.output_item.added", output_index=at, item=item)
            for piece in p.arg_pieces:
                await emit("response.function_call_arguments.delta", item_id="fc_mock01", output_index=at,
                           delta=piece)
            await emit("response.function_call_arguments.done", item_id="fc_mock01", output_index=at,
                       arguments="".join(p.arg_pieces))
            item = {**item, "status": "completed", "arguments": "".join(p.arg_pieces)}
            await emit("response.output_item.done", output_index=at, item=item)
            output.append(item)
        else:
            at = len(output)
            if not await self.stream_message(emit, request, model, p, at):
                return resp
            output.append(_message("".join(p.words), "incomplete" if p.truncated else "completed"))
        final = "response.incomplete" if p.truncated else "response.completed"
        await emit(final, response=self.response(model, p, output, done=True))
        await resp.write_eof()
        return resp

    @staticmethod
    async def stream_reasoning(emit: Any, body: dict[str, Any], at: int) -> None:
        head = {"item_id": REASONING_ID, "output_index": at}
        await emit("response.output_item.added", output_index=at,
                   item={"id": REASONING_ID, "type": "reasoning", "summary": []})
        done = _reasoning(body, THOUGHT)
        if done["summary"]:
            await emit("response.reasoning_summary_part.added", **head, summary_index=0,
                       part={"type": "summary_text", "text": ""})
            for t in THOUGHTS:
                await emit("response.reasoning_summary_text.delta", **head, summary_index=0, delta=t)
            await emit("response.reasoning_summary_text.done", **head, summary_index=0, text=THOUGHT)
            await emit("response.reasoning_summary_part.done", **head, summary_index=0,
                       part={"type": "summary_text", "text": THOUGHT})
        await emit("response.output_item.done", output_index=at, item=done)

    async def stream_message(self, emit: Any, request: web.Request, model: str, p: Plan, at: int) -> bool:
        head = {"item_id": "msg_mock01", "output_index": at, "content_index": 0}
        await emit("response.output_item.added", output_index=at, item=_message("", "in_progress", parts=False))
        await emit("response.content_part.added", **head, part=_text_part(""))
        for i, word in enumerate(p.words):
            await emit("response.output_text.delta", **head, delta=word, logprobs=[])
            if breaks(model, i):
                if model == "drop":
                    self.drop(request)
                    return False
                failed = {**self.response(model, p, [], done=True), "status": "failed",
                          "error": {"code": "server_error", "message": OVERLOADED}}
                await emit("response.failed", response=failed)
                return False
        text = "".join(p.words)
        await emit("response.output_text.done", **head, text=text, logprobs=[])
        await emit("response.content_part.done", **head, part=_text_part(text))
        await emit("response.output_item.done", output_index=at,
                   item=_message(text, "incomplete" if p.truncated else "completed"))
        return True


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _message(text: str, status: str, parts: bool = True) -> dict[str, Any]:
    return {"id": "msg_mock01", "type": "message", "status": status, "role": "assistant",
            "content": [_text_part(text)] if parts else []}


def _reasoning(body: dict[str, Any], text: str) -> dict[str, Any]:
    summary = (body.get("reasoning") or {}).get("summary") in ("auto", "concise", "detailed")
    item: dict[str, Any] = {"id": REASONING_ID, "type": "reasoning",
                            "summary": [{"type": "summary_text", "text": text}] if summary else []}
    if "reasoning.encrypted_content" in (body.get("include") or []):
        item["encrypted_content"] = SIGNATURE
    return item
