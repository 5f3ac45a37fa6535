"""Anthropic Messages requests, both directions (tables: ``omniroute.formats.anthropic``).

Decoding parses the body once into a dict, converts the typed top-level fields into
``_Request`` (so errors name their path) and keeps every other top-level field in
``Request.extra["anthropic"]``. Encoding builds a plain dict: the request is a sparse,
open-ended object (this format's own extras are merged back in), which a fixed Struct cannot
express.

Mid-conversation system messages (``role: "system"`` inside ``messages``, the
``mid-conversation-system-2026-04-07`` beta) decode to canonical ``system`` messages at their
position. Encoding cannot know that an upstream takes that beta (Anthropic-compatible
services do not), so it folds each into the following user turn as a ``<system-reminder>``
text block — what Claude Code itself sends when the beta is refused. A same-format request
is relayed as bytes with the client's ``anthropic-beta`` header, so it keeps the role where
the row takes it (``ProviderSpec.mid_conversation_system``);
``mid_conversation.fold_system_messages`` does the same fold on the raw body for rows that do not.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from omniroute.canonical import (
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    TextBlock,
    Tool,
    ToolChoice,
    ToolChoiceMode,
    system_reminder,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic.content import decode_block, encode_block
from omniroute.formats.anthropic.wire import SOURCE, convert, invalid, json_encode

#: reasoning effort without a budget → ``thinking.budget_tokens``
EFFORT_BUDGETS: dict[str, int] = {
    "minimal": 1024,
    "low": 1024,
    "medium": 4096,
    "high": 16384,
    "xhigh": 32768,
    "max": 32768,
}
MIN_BUDGET = 1024  # Anthropic's smallest thinking budget
DEFAULT_MAX_TOKENS = 4096  # answer room when the canonical request sets no max_tokens
ADAPTIVE_RESERVE = 16384  # extra room for adaptive thinking when max_tokens is defaulted

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class _Msg(msgspec.Struct):
    role: Literal["user", "assistant", "system"]
    content: str | list[Any]


class _SystemText(msgspec.Struct):
    text: str
    type: Literal["text"] = "text"
    cache_control: dict[str, Any] | None = None


class _CustomTool(msgspec.Struct):
    name: str
    input_schema: dict[str, Any]
    description: str | None = None
    strict: bool | None = None


class _ToolChoice(msgspec.Struct):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class _Thinking(msgspec.Struct):
    type: str
    budget_tokens: int | None = None
    display: str | None = None


class _OutputFormat(msgspec.Struct):
    type: str
    schema: dict[str, Any] | None = None


class _Request(msgspec.Struct):
    model: str
    messages: list[_Msg]
    max_tokens: PositiveInt | None = None
    system: str | list[_SystemText] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: _ToolChoice | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    stream: bool = False
    thinking: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    output_format: _OutputFormat | None = None
    output_config: dict[str, Any] | None = None


_KNOWN = frozenset(_Request.__struct_fields__)
_body_decoder = msgspec.json.Decoder(dict[str, Any])
_TOOL_MODES = {"auto": ToolChoiceMode.AUTO, "any": ToolChoiceMode.REQUIRED, "tool": ToolChoiceMode.TOOL,
               "none": ToolChoiceMode.NONE}
_WIRE_TOOL_MODES = {mode: wire for wire, mode in _TOOL_MODES.items()}


def decode_request(body: bytes) -> Request:
    """A ``/v1/messages`` body → canonical; ``max_tokens`` is required, as Anthropic requires it."""
    return _decode(body, require_max_tokens=True)


def decode_count_tokens_request(body: bytes) -> Request:
    """A ``/v1/messages/count_tokens`` body: the same fields, ``max_tokens`` not required."""
    return _decode(body, require_max_tokens=False)


def _decode(body: bytes, require_max_tokens: bool) -> Request:
    try:
        top = _body_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise invalid(exc) from None
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"request body is not valid JSON: {exc}") from None
    w = convert(top, _Request, "")
    if require_max_tokens and w.max_tokens is None:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "max_tokens: Field required", param="max_tokens")
    extra = {k: v for k, v in top.items() if k not in _KNOWN}
    req = Request(
        model=w.model,
        messages=[_decode_message(m, i) for i, m in enumerate(w.messages)],
        system=_decode_system(w.system),
        tools=_decode_tools(w.tools or [], extra),
        tool_choice=_decode_tool_choice(w.tool_choice),
        max_tokens=w.max_tokens,
        temperature=w.temperature,
        top_p=w.top_p,
        top_k=w.top_k,
        stop=w.stop_sequences or [],
        stream=w.stream,
        include_usage=True,  # Anthropic streams always carry usage
        extra={SOURCE: extra},
    )
    _decode_metadata(w.metadata, req)
    _decode_output(w, req, extra)
    if not extra:
        req.extra = {}
    return req


def _decode_message(m: _Msg, i: int) -> Message:
    if isinstance(m.content, str):
        return Message(m.role, [TextBlock(m.content)])
    blocks = [decode_block(raw, f"messages[{i}].content[{j}]") for j, raw in enumerate(m.content)]
    if m.role == "system":
        for j, block in enumerate(blocks):
            if type(block) is not TextBlock:
                path = f"messages[{i}].content[{j}]"
                raise GatewayError(ErrorKind.INVALID_REQUEST, f"{path}: system messages may only hold text blocks",
                                   param=path)
    return Message(m.role, blocks)


def _decode_system(system: str | list[_SystemText] | None) -> list[TextBlock]:
    if system is None or system == "":
        return []
    if isinstance(system, str):
        return [TextBlock(system)]
    return [TextBlock(b.text, b.cache_control) for b in system]


def _decode_tools(tools: list[dict[str, Any]], extra: dict[str, Any]) -> list[Tool]:
    """Custom tools → ``Tool``; server tools (``type`` like ``web_search_20250305``) have no
    canonical slot and are kept, verbatim and in order, in ``extra["tools"]``."""
    out: list[Tool] = []
    for i, raw in enumerate(tools):
        if raw.get("type", "custom") != "custom":
            extra.setdefault("tools", []).append(raw)
            continue
        t = convert(raw, _CustomTool, f"tools[{i}]")
        out.append(Tool(t.name, t.description, t.input_schema, t.strict))
    return out


def _decode_tool_choice(tc: _ToolChoice | None) -> ToolChoice | None:
    if tc is None:
        return None
    if tc.type == "tool" and not tc.name:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "tool_choice of type `tool` needs a `name`",
                           param="tool_choice.name")
    parallel = None if tc.disable_parallel_tool_use is None else not tc.disable_parallel_tool_use
    return ToolChoice(_TOOL_MODES[tc.type], tc.name if tc.type == "tool" else None, parallel)


def _decode_metadata(metadata: dict[str, Any] | None, req: Request) -> None:
    if not metadata:
        return
    rest = dict(metadata)
    user = rest.pop("user_id", None)
    if user is not None and not isinstance(user, str):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "`metadata.user_id` must be a string", param="metadata.user_id")
    req.user = user
    req.metadata = rest or None


def _decode_output(w: _Request, req: Request, extra: dict[str, Any]) -> None:
    """``thinking`` + ``output_config`` (effort, format) + beta ``output_format``."""
    config = dict(w.output_config or {})
    fmt = config.pop("format", None)
    fmt_wire = convert(fmt, _OutputFormat, "output_config.format") if fmt is not None else w.output_format
    if fmt_wire is not None and fmt_wire.type == "json_schema":
        req.response_format = ResponseFormat("json_schema", fmt_wire.schema)
    if w.thinking is not None:
        req.reasoning = _decode_thinking(w.thinking, config, extra)
    if config:
        extra["output_config"] = config


def _decode_thinking(raw: dict[str, Any], config: dict[str, Any], extra: dict[str, Any]) -> Reasoning | None:
    t = convert(raw, _Thinking, "thinking")
    shown = {"summarized": True, "omitted": False}.get(t.display or "")
    if t.type == "disabled":
        return Reasoning(enabled=False)
    if t.type == "enabled":
        if t.budget_tokens is None:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "missing required field `thinking.budget_tokens`",
                               param="thinking.budget_tokens")
        return Reasoning(True, config.pop("effort", None), t.budget_tokens, shown)
    if t.type == "adaptive":
        return Reasoning(True, config.pop("effort", None), None, shown)
    extra["thinking"] = raw  # a thinking mode newer than this module: kept for Anthropic upstreams
    return None


def encode_request(req: Request, model: str) -> bytes:
    """Canonical → an Anthropic ``/v1/messages`` body (see the module tables for defaults)."""
    own: dict[str, Any] = req.extra.get(SOURCE) or {}
    thinking, budget = _encode_thinking(req)
    messages = encode_messages(req.messages)
    if budget > 0 and _unsigned_tool_turn(messages):
        thinking, budget = None, 0
    body: dict[str, Any] = {"model": model, "max_tokens": req.max_tokens or DEFAULT_MAX_TOKENS + budget}
    system = [b for b in req.system if b.text]
    if system:
        body["system"] = _encode_system(system)
    body["messages"] = messages
    _encode_tools(req, own, body)
    _encode_sampling(req, body, thinking_on=budget > 0)
    if thinking is not None:
        body["thinking"] = thinking
    if req.response_format is not None and req.response_format.type == "json_schema":
        schema = req.response_format.schema or {"type": "object"}
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if req.user:
        body["metadata"] = {"user_id": req.user}
    if req.stream:
        body["stream"] = True
    _merge_extra(own, body)
    return json_encode(body)


def _encode_system(system: list[TextBlock]) -> str | list[dict[str, Any]]:
    if len(system) == 1 and system[0].cache_control is None:
        return system[0].text
    return [encode_block(b, "system") for b in system]


def encode_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Blocks Anthropic cannot carry are dropped, system messages folded into the user turn
    (a ``<system-reminder>`` block), then consecutive same-role messages merged (Anthropic
    requires alternation) and tool results moved first in each user turn."""
    out: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        path = f"messages[{i}].content"
        role = msg.role
        if role == "system":
            role, content = "user", [system_reminder(msg)]
        else:
            content = msg.content
        blocks = [w for j, b in enumerate(content) if (w := encode_block(b, f"{path}[{j}]")) is not None]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for m in out:
        if m["role"] == "user" and any(type(b) is dict and b["type"] == "tool_result" for b in m["content"]):
            m["content"].sort(key=lambda b: b["type"] != "tool_result")  # stable: order kept within groups
    return out


def _unsigned_tool_turn(messages: list[dict[str, Any]]) -> bool:
    """The last assistant turn calls a tool but does not start with a thinking block (its
    history comes from a client format that does not sign thinking, so unsigned thinking was
    dropped). With thinking on, Anthropic refuses such a request ("a final assistant message
    must start with a thinking block"); it is sent without thinking instead."""
    turn = next((m for m in reversed(messages) if m["role"] == "assistant"), None)
    if turn is None:
        return False
    blocks = turn["content"]
    calls = any(b.get("type") == "tool_use" for b in blocks)
    return calls and blocks[0].get("type") not in ("thinking", "redacted_thinking")


def _encode_tools(req: Request, own: dict[str, Any], body: dict[str, Any]) -> None:
    tools: list[Any] = [_encode_tool(t) for t in req.tools]
    tools += own.get("tools", [])  # server tools decoded from an Anthropic client
    if not tools:
        return
    body["tools"] = tools
    tc = req.tool_choice
    if tc is None:
        return
    choice: dict[str, Any] = {"type": _WIRE_TOOL_MODES[tc.mode]}
    if tc.mode is ToolChoiceMode.TOOL and tc.name:
        choice["name"] = tc.name
    if tc.parallel is not None and tc.mode is not ToolChoiceMode.NONE:
        choice["disable_parallel_tool_use"] = not tc.parallel
    body["tool_choice"] = choice


def _encode_tool(t: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name}
    if t.description:
        out["description"] = t.description
    out["input_schema"] = t.parameters or {"type": "object", "properties": {}}
    if t.strict is not None:
        out["strict"] = t.strict
    return out


def _encode_sampling(req: Request, body: dict[str, Any], thinking_on: bool) -> None:
    """With thinking on, Anthropic accepts only temperature 1, top_p ≥ 0.95 and no top_k."""
    if req.temperature is not None and (not thinking_on or req.temperature == 1):
        body["temperature"] = min(max(req.temperature, 0.0), 1.0)  # OpenAI allows up to 2
    if req.top_p is not None and (not thinking_on or req.top_p >= 0.95):
        body["top_p"] = req.top_p
    if req.top_k is not None and not thinking_on:
        body["top_k"] = req.top_k
    if req.stop:
        body["stop_sequences"] = req.stop


def _encode_thinking(req: Request) -> tuple[dict[str, Any] | None, int]:
    """→ (``thinking`` object or None, the budget to reserve when max_tokens is defaulted)."""
    r = req.reasoning
    if r is None:
        return None, 0
    if not r.enabled or r.effort == "none" or r.budget_tokens == 0:
        return {"type": "disabled"}, 0
    if r.budget_tokens is not None and r.budget_tokens > 0:  # explicit: the client's word, kept
        budget = max(r.budget_tokens, MIN_BUDGET)
        return {"type": "enabled", "budget_tokens": budget}, budget
    if r.effort is None:  # no budget, no effort: let the model decide
        return {"type": "adaptive"}, ADAPTIVE_RESERVE
    budget = EFFORT_BUDGETS.get(r.effort, EFFORT_BUDGETS["medium"])
    if req.max_tokens is not None and budget >= req.max_tokens:  # must fit under max_tokens
        budget = req.max_tokens - 1
        if budget < MIN_BUDGET:
            return None, 0
    return {"type": "enabled", "budget_tokens": budget}, budget


def _merge_extra(extra: dict[str, Any], body: dict[str, Any]) -> None:
    """This format's own fields the canonical form has no slot for go back; fields set above win."""
    for key, value in extra.items():
        if key == "tools":
            continue
        if key == "output_config" and isinstance(value, dict):
            body["output_config"] = {**value, **body.get("output_config", {})}
        else:
            body.setdefault(key, value)
