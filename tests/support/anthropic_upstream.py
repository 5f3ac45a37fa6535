"""A mock Anthropic Messages upstream (``POST /v1/messages``), wire-exact, streaming included.

Behaviour by model name and request: see ``tests.support.mock_server``. Specific to Anthropic:
``x-api-key`` must be ``sk-upstream`` (else 401 ``authentication_error``) and
``anthropic-version`` must be sent; a tool call comes after a short text block (as Claude
answers); thinking (``thinking.type`` enabled/adaptive) is a ``thinking`` block signed
``SIGNATURE``. Streams follow the documented event grammar: ``message_start``, ``ping``,
``content_block_start`` / ``_delta`` / ``_stop`` per block (tool input as
``input_json_delta``, starting with an empty piece as the API does), ``message_delta`` with
the stop reason and output usage, ``message_stop``.

Requests are checked as the API checks them (400 ``invalid_request_error``): only the
documented top-level fields (``FIELDS``; ``context_management`` only with its beta in
``anthropic-beta``), required ``model``/``max_tokens``/``messages``, roles ``user`` and
``assistant`` — and ``system`` when ``anthropic-beta`` holds ``SYSTEM_BETA`` (system messages
are skipped when pairing tool results with the turn before) —, standard base64 in
``source.data``, known block types, non-empty text, signed thinking,
tool results that answer a ``tool_use`` of the assistant turn right before, a thinking
budget under ``max_tokens``, and — with thinking on — an assistant turn holding a
``tool_use`` that starts with its thinking block.
"""

from __future__ import annotations

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

SIGNATURE = "RXFBbnRocm9waWNTaWduYXR1cmUwMQ=="  # base64, as Anthropic's are
TOOL_ID = "toolu_mock01"
PREAMBLE = "Let me check."
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
#: The Messages API's request body, https://docs.claude.com/en/api/messages (Create a Message)
FIELDS = frozenset({
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature", "top_k",
    "top_p", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers", "context_management",
    "output_config", "output_format", "inference_geo",
})
#: fields the API takes only with their beta named in ``anthropic-beta``
#: (https://docs.claude.com/en/docs/build-with-claude/context-editing)
#: Count message tokens' request body, https://docs.anthropic.com/en/api/messages-count-tokens
COUNT_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers",
                          "context_management", "output_config"})
COUNTED = 4242
BETA_FIELDS = {"context_management": "context-management-2025-06-27"}
#: the beta that lets ``messages`` hold ``role: "system"`` turns (sent by Claude Code 2.1)
SYSTEM_BETA = "mid-conversation-system-2026-04-07"
_BLOCK_TYPES = {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking",
                "server_tool_use", "web_search_tool_result", "search_result"}


def error_body(status: int, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
    return web.json_response(body, status=status, headers={"request-id": "req_mock"})


def _blocks(msg: dict[str, Any]) -> list[dict[str, Any]]:
    content = msg.get("content")
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def validate(body: dict[str, Any], betas: str = "") -> None:
    """Refuse what the API refuses; ``betas`` is the request's ``anthropic-beta`` header."""
    for key in body:
        if key not in FIELDS or (key in BETA_FIELDS and BETA_FIELDS[key] not in betas):
            raise Refused(f"{key}: Extra inputs are not permitted")
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            raise Refused(f"{field}: Field required")
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        raise Refused("max_tokens: must be a positive integer")
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled" and not 1024 <= thinking.get("budget_tokens", 0) < body["max_tokens"]:
        raise Refused("thinking.budget_tokens: must be ≥ 1024 and less than max_tokens")
    if not 0 <= body.get("temperature", 0) <= 1:
        raise Refused("temperature: range: 0..1")
    for i, tool in enumerate(body.get("tools") or []):
        if "type" not in tool and not ("name" in tool and isinstance(tool.get("input_schema"), dict)):
            raise Refused(f"tools.{i}: custom tools need name and input_schema")
    previous: dict[str, Any] | None = None
    for i, msg in enumerate(body["messages"]):
        _check_role(msg.get("role"), i, SYSTEM_BETA in betas)
        _check_blocks(_blocks(msg), f"messages.{i}.content", msg["role"], previous)
        if msg["role"] != "system":
            previous = msg
    _check_thinking_turn(body)


def _check_role(role: Any, index: int, system_ok: bool) -> None:
    if role == "system" and not system_ok:
        raise Refused(f'messages.{index}.role: Unexpected role "system". The Messages API accepts a top-level '
                      '`system` parameter, not "system" as an input message role.')
    if role not in ("user", "assistant", "system"):
        raise Refused(f"messages.{index}.role: Input should be 'user' or 'assistant'")


def _check_thinking_turn(body: dict[str, Any]) -> None:
    """With thinking on, the assistant turn of a running tool loop must start with its thinking."""
    if (body.get("thinking") or {}).get("type") not in ("enabled", "adaptive"):
        return
    turns = [m for m in body["messages"] if m["role"] == "assistant"]
    last = _blocks(turns[-1]) if turns else []
    if any(b.get("type") == "tool_use" for b in last) and last[0].get("type") not in ("thinking",
                                                                                      "redacted_thinking"):
        raise Refused(f"messages.{body['messages'].index(turns[-1])}.content.0.type: Expected `thinking` or "
                      f"`redacted_thinking`, but found `{last[0].get('type')}`. When `thinking` is enabled, a final "
                      "`assistant` message must start with a thinking block.")


def _check_blocks(blocks: list[dict[str, Any]], path: str, role: str, previous: dict[str, Any] | None) -> None:
    if not blocks:
        raise Refused(f"{path}: messages must have non-empty content")
    asked = {b.get("id") for b in _blocks(previous) if b.get("type") == "tool_use"} if previous else set()
    for j, block in enumerate(blocks):
        kind = block.get("type")
        where = f"{path}.{j}"
        if kind not in _BLOCK_TYPES:
            raise Refused(f"{where}.type: unknown content block type {kind!r}")
        _check_source(block, where)
        if kind == "text" and not block.get("text"):
            raise Refused(f"{where}.text: text content blocks must be non-empty")
        if kind == "thinking" and not (isinstance(block.get("signature"), str) and block["signature"]):
            raise Refused(f"{where}.thinking.signature: Field required")
        if kind == "tool_use" and not (block.get("id") and block.get("name") and isinstance(block.get("input"), dict)):
            raise Refused(f"{where}: tool_use needs id, name and an input object")
        if kind == "tool_result" and (role != "user" or block.get("tool_use_id") not in asked):
            raise Refused(f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: "
                          f"{block.get('tool_use_id')}. Each `tool_result` block must have a "
                          "corresponding `tool_use` block in the previous message.")


def _check_source(block: dict[str, Any], where: str) -> None:
    source = block.get("source") or {}
    if block.get("type") not in ("image", "document") or source.get("type") != "base64":
        return
    if (at := base64_error(str(source.get("data", "")))) is not None:
        raise Refused(f"{where}.source.base64.data: invalid base64 data (illegal byte at offset {at})")


def plan_of(body: dict[str, Any]) -> Plan:
    last = body["messages"][-1]
    answered = any(b.get("type") == "tool_result" for b in _blocks(last))
    names = [t["name"] for t in body.get("tools") or [] if "name" in t]
    thinking = (body.get("thinking") or {}).get("type") in ("enabled", "adaptive")
    blocks = [b for m in body["messages"] for b in _blocks(m) if m["role"] == "user"]
    texts = [b.get("text", "") for b in blocks if b.get("type") == "text"]
    results = sum(b.get("type") == "tool_result" for b in blocks)
    return script(texts, names, results, thinking) or plan(names, answered, thinking, body["max_tokens"])


def content(p: Plan) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if p.thinking:
        blocks.append({"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE})
    if p.tool:
        blocks.append({"type": "text", "text": PREAMBLE})
        blocks.append({"type": "tool_use", "id": TOOL_ID, "name": p.tool, "input": p.arguments})
    else:
        blocks.append({"type": "text", "text": "".join(p.words)})
    return blocks


def stop_reason(p: Plan) -> str:
    return "tool_use" if p.tool else "max_tokens" if p.truncated else "end_turn"


def usage(output: int = ANSWER_TOKENS) -> dict[str, int]:
    return {"input_tokens": PROMPT_TOKENS, "output_tokens": output, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0}


def event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps({"type": kind, **data}) + b"\n\n"


class AnthropicUpstream(MockServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.messages)
        app.router.add_post("/v1/messages/count_tokens", self.count_tokens)

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        if request.headers.get("x-api-key") != API_KEY:
            return error_body(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error_body(400, "anthropic-version: header is required")
        try:
            validate(body, request.headers.get("anthropic-beta", ""))
        except Refused as exc:
            return error_body(400, str(exc))
        model = body["model"]
        if (code := error_code(model)) is not None:
            return error_body(code, f"mock says {code}")
        p = plan_of(body)
        if not body.get("stream"):
            message = self.message(model)
            return web.json_response({**message, "content": content(p), "stop_reason": stop_reason(p)})
        return await self.stream(request, model, p)

    async def count_tokens(self, request: web.Request) -> web.Response:
        """``COUNTED`` tokens for any valid body (the real API's count differs, the shape not)."""
        body = await self.record(request)
        if request.headers.get("x-api-key") != API_KEY:
            return error_body(401, "invalid x-api-key")
        unknown = set(body) - COUNT_FIELDS
        if unknown:
            return error_body(400, f"{sorted(unknown)[0]}: Extra inputs are not permitted")
        return web.json_response({"input_tokens": COUNTED})

    @staticmethod
    def message(model: str) -> dict[str, Any]:
        return {"id": "msg_mock01", "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": usage()}

    async def stream(self, request: web.Request, model: str, p: Plan) -> web.StreamResponse:
        resp = await self.sse(request)
        head = {**self.message(model), "usage": usage(1)}
        await resp.write(event("message_start", {"message": head}) + event("ping", {}))
        index = 0
        if p.thinking:
            await self.block(resp, index, {"type": "thinking", "thinking": "", "signature": ""},
                             [{"type": "thinking_delta", "thinking": t} for t in THOUGHTS]
                             + [{"type": "signature_delta", "signature": SIGNATURE}])
            index += 1
        if p.tool:
            await self.block(resp, index, {"type": "text", "text": ""}, [{"type": "text_delta", "text": PREAMBLE}])
            start = {"type": "tool_use", "id": TOOL_ID, "name": p.tool, "input": {}}
            pieces = ["", *p.arg_pieces]
            await self.block(resp, index + 1, start, [{"type": "input_json_delta", "partial_json": a} for a in pieces])
        else:
            await resp.write(event("content_block_start", {"index": index, "content_block": {"type": "text",
                                                                                              "text": ""}}))
            for i, word in enumerate(p.words):
                await resp.write(event("content_block_delta", {"index": index,
                                                               "delta": {"type": "text_delta", "text": word}}))
                if breaks(model, i):
                    if model == "drop":
                        self.drop(request)
                        return resp
                    await resp.write(event("error", {"error": {"type": "overloaded_error", "message": OVERLOADED}}))
                    await resp.write_eof()
                    return resp
            await resp.write(event("content_block_stop", {"index": index}))
        delta = {"delta": {"stop_reason": stop_reason(p), "stop_sequence": None},
                 "usage": {"output_tokens": ANSWER_TOKENS}}
        await resp.write(event("message_delta", delta) + event("message_stop", {}))
        await resp.write_eof()
        return resp

    @staticmethod
    async def block(resp: web.StreamResponse, index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        out = event("content_block_start", {"index": index, "content_block": start})
        for delta in deltas:
            out += event("content_block_delta", {"index": index, "delta": delta})
        await resp.write(out + event("content_block_stop", {"index": index}))
