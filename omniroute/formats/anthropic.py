"""Anthropic Messages (``/v1/messages``, ``/v1/messages/count_tokens``), client and upstream.

The contract of ``omniroute.formats`` lives here; the work is split by concern:
``anthropic_wire`` (content blocks, usage, stop reasons, error types), ``anthropic_request``,
``anthropic_stream`` (decoder) and ``anthropic_stream_encoder``. This module holds responses,
errors and the token-count endpoint.

Request fields (wire ↔ canonical ``Request``):

==========================================  ===============================================
Anthropic                                   canonical
==========================================  ===============================================
model / stream / temperature / top_p        same (encode clamps temperature to 0–1; with
/ top_k                                     thinking on drops top_k, temperature ≠ 1, top_p
                                            < 0.95, which Anthropic rejects)
max_tokens (required on decode)             max_tokens; encode default 4096 + thinking budget
                                            (+16384 for adaptive thinking)
system: str | [text blocks]                 system: [TextBlock] (cache_control kept)
messages[].content: str | [blocks]          messages[].content (str → one TextBlock); encode
                                            merges consecutive same-role messages, puts
                                            tool_result blocks first in a user turn, drops
                                            empty text and unsigned thinking blocks
tools[] {name, description, input_schema,   tools[] {name, description, parameters, strict}
strict}
tools[] server tools (type web_search_…,    extra["tools"], verbatim; appended to tools on
bash_…, text_editor_…)                      encode (other formats cannot run them)
tool_choice auto / any / tool / none        ToolChoice AUTO / REQUIRED / TOOL(name) / NONE
disable_parallel_tool_use                   ToolChoice.parallel (inverted)
stop_sequences                              stop
thinking enabled {budget_tokens}            Reasoning(enabled, budget_tokens)
thinking adaptive                           Reasoning(enabled), no budget; effort from
                                            output_config.effort
thinking disabled                           Reasoning(enabled=False)
thinking display summarized / omitted       Reasoning.include_thoughts True / False (decode
                                            only: older models reject ``display``)
output_config.effort (with thinking on)     Reasoning.effort (else kept in extra)
output_config.format / beta output_format   ResponseFormat(json_schema, schema); encoded as
{type: json_schema, schema}                 output_config.format
metadata.user_id                            user (other metadata keys → metadata)
anything else (service_tier, container …)   extra, merged back on encode
==========================================  ===============================================

Encoding reasoning: an explicit budget is sent as is (raised to Anthropic's minimum 1024);
effort without a budget uses ``EFFORT_BUDGETS`` — minimal/low 1024, medium 4096, high 16384,
xhigh/max 32768 — cut to ``max_tokens - 1`` when the client set a smaller ``max_tokens``
(thinking omitted if that leaves < 1024); neither → ``{"type": "adaptive"}``; effort
``none`` or budget 0 → ``{"type": "disabled"}``. Thinking is left out of a request whose last
assistant turn calls a tool without starting with a signed thinking block (history from a
format that does not sign thinking): Anthropic refuses thinking in that tool loop. Lossy:
adaptive thinking *with* an effort comes back as an enabled budget (``Reasoning`` has no
"adaptive" flag), and ``display`` is not re-sent.

Content blocks (wire ↔ canonical):

==============================================  ===========================================
text {text, cache_control}                      TextBlock (citations dropped)
image source base64 / url                       ImageBlock(data, media_type) / (url); a
                                                ``data:`` URL in ``url`` is sent as base64
document source base64 / url / text, title      DocumentBlock(data) / (url) / (text)
                                                (context, citations dropped)
tool_use {id, name, input}                      ToolCallBlock(arguments = compact JSON of
                                                input; encode: "" → {}, other text must be
                                                a JSON object, sent verbatim)
tool_result {tool_use_id, content, is_error}    ToolResultBlock (str content → TextBlock)
thinking {thinking, signature}                  ThinkingBlock
redacted_thinking {data}                        RedactedThinkingBlock
anything else (server_tool_use, search_result,  UnknownBlock(raw, source="anthropic"): sent
image/document with a file source, …)           back to Anthropic verbatim, dropped by others
==============================================  ===========================================

Reasoning state (``omniroute.canonical.envelope``). As an upstream format: thinking goes out
only with an Anthropic signature (``signature_source`` ``anthropic`` or unknown); thinking
signed by another provider is dropped like unsigned thinking (Anthropic would refuse the
signature), and a tool call's Gemini signature is not sent. As a client format: Anthropic's own
signatures reach the client byte-identical; another provider's state rides in the thinking
``signature`` as ``omr1.<source>.<item id>.<payload>`` (a Responses reasoning item keeps its
id there, even one without encrypted content), and a Gemini call signature rides in the
``tool_use`` id (``<id>__omr1g…``, still ``[a-zA-Z0-9_-]``). ``decode_request`` unpacks both
(also ``tool_result.tool_use_id``); answers from an Anthropic upstream are labelled
Anthropic's and never unpacked. Lossy: ``redacted_thinking`` reaches only Anthropic (other
clients drop it).

``cache_control`` survives on text blocks (system and messages); a tool_result's hint moves to
its last text block (the same prompt position). The canonical form has no slot for it on
images, documents, tool_use or tools, so there it is lost — as are custom tools' other keys
(``cache_control``, ``input_examples``, ``defer_loading`` …).

Stop reasons: end_turn ↔ END_TURN, max_tokens ↔ MAX_TOKENS, stop_sequence ↔ STOP_SEQUENCE,
tool_use ↔ TOOL_USE, pause_turn ↔ PAUSE_TURN, refusal ↔ CONTENT_FILTER;
model_context_window_exceeded → MAX_TOKENS; unknown → END_TURN; ERROR → end_turn.

Usage: canonical ``input_tokens`` = Anthropic ``input_tokens`` + ``cache_read_input_tokens`` +
``cache_creation_input_tokens`` (added on decode, subtracted on encode); ``cached_tokens`` ↔
``cache_read_input_tokens``, ``cache_creation_tokens`` ↔ ``cache_creation_input_tokens``,
``reasoning_tokens`` ↔ ``output_tokens_details.thinking_tokens``.

Errors: ``{"type": "error", "error": {"type", "message"}}``; kinds ↔ types in
``anthropic_wire.ERROR_TYPES`` / ``ERROR_KINDS`` (529 ``overloaded_error`` stays itself).
Streams: see ``anthropic_stream``.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    DocumentBlock,
    ImageBlock,
    RedactedThinkingBlock,
    Request,
    Response,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UnknownBlock,
)
from omniroute.canonical.envelope import client_call_id, client_signature
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic_request import (
    EFFORT_BUDGETS,
    decode_count_tokens_request,
    decode_request,
    encode_request,
    fold_system_messages,
)
from omniroute.formats.anthropic_stream import StreamDecoder
from omniroute.formats.anthropic_stream_encoder import MessageOut, StreamEncoder, stream_error_bytes
from omniroute.formats.anthropic_wire import (
    ERROR_KINDS,
    WIRE_STOP_REASONS,
    ErrorBody,
    ErrorDetail,
    UsageWire,
    decode_block,
    decode_stop_reason,
    decode_usage,
    encode_block,
    encode_usage,
    error_message,
    error_type,
    json_encode,
    tool_input,
)
from omniroute.formats.error_words import recognise

__all__ = [
    "EFFORT_BUDGETS",
    "FORWARD_HEADERS",
    "FRAMING",
    "MAX_TOKENS_PATHS",
    "MID_CONVERSATION_BETA",
    "NAME",
    "OVERLOADED_STATUS",
    "REFUSED_ACROSS",
    "StreamDecoder",
    "StreamEncoder",
    "decode_count_tokens",
    "decode_count_tokens_request",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_count_tokens",
    "encode_error",
    "encode_request",
    "encode_response",
    "encode_stream_error",
    "estimate_tokens",
    "fold_system_messages",
]

NAME = "anthropic"
FRAMING = "sse"
#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 529

#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("max_tokens",),)
#: request headers that change this API's meaning: forwarded to upstreams of this format only
#: (the client's ``anthropic-version`` replaces the row's); credentials and hop-by-hop
#: headers never are
FORWARD_HEADERS = (b"anthropic-beta", b"anthropic-version")
#: the beta that lets ``messages`` hold ``role: "system"`` (Claude Code sends it)
MID_CONVERSATION_BETA = "mid-conversation-system-2026-04-07"

#: This format's extras that refuse a route to another upstream format (400, naming the
#: field): state or tools only Anthropic's servers hold, where dropping them would change the
#: answer. Every other extra (``context_management``, ``service_tier``, ``inference_geo``,
#: server ``tools``, leftover ``output_config`` keys …) is dropped on such a route.
REFUSED_ACROSS = {
    "mcp_servers": lambda v: "mcp_servers" if v else None,  # tools run by Anthropic's MCP connector
    "container": lambda v: "container" if v else None,  # a code-execution container's state
}


# ── responses ────────────────────────────────────────────────────────────────────────────


class _Message(msgspec.Struct):
    id: str
    model: str = ""
    content: list[Any] = msgspec.field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: UsageWire | None = None


_message_decoder = msgspec.json.Decoder(_Message)


def decode_response(body: bytes) -> Response:
    """An upstream non-streaming answer → canonical; a malformed one is ``UPSTREAM_PROTOCOL``."""
    try:
        w = _message_decoder.decode(body)
        content = [decode_block(raw, f"content[{i}]", answer=True) for i, raw in enumerate(w.content)]
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"malformed Anthropic response: {exc}") from None
    except GatewayError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"malformed Anthropic response: {exc.message}") from None
    usage = decode_usage(w.usage) if w.usage is not None else None
    return Response(w.id, w.model, content, decode_stop_reason(w.stop_reason), w.stop_sequence, usage)


def _answer_block(b: Block) -> Any:
    """A block of an answer: only what a model emits; unparsable tool input becomes ``{}``."""
    kind = type(b)
    if kind is TextBlock:
        return {"type": "text", "text": b.text} if b.text else None
    if kind is ThinkingBlock:  # the SDK requires a signature string
        signature = client_signature(NAME, b.signature_source, b.signature, b.id)
        return {"type": "thinking", "thinking": b.thinking, "signature": signature or ""}
    if kind is ToolCallBlock:
        try:
            args = tool_input(b.arguments, "content")
        except GatewayError:  # e.g. cut off by max_tokens: the answer still has to be sent
            args = msgspec.Raw(b"{}")
        call_id = client_call_id(NAME, b.id, b.signature_source, b.signature)
        return {"type": "tool_use", "id": call_id, "name": b.name, "input": args}
    if kind is RedactedThinkingBlock or kind is UnknownBlock:
        return encode_block(b, "content")
    return None  # images, documents, tool results: not in Anthropic answers


def encode_response(resp: Response) -> bytes:
    """Canonical → the ``Message`` object the ``anthropic`` SDK parses."""
    content = [w for b in resp.content if (w := _answer_block(b)) is not None]
    stop = resp.stop_reason
    if stop is None:
        stop = StopReason.TOOL_USE if any(type(b) is ToolCallBlock for b in resp.content) else StopReason.END_TURN
    msg = MessageOut(
        id=resp.id or "msg_" + secrets.token_hex(12),
        model=resp.model,
        content=content,
        stop_reason=WIRE_STOP_REASONS[stop],
        stop_sequence=resp.stop_sequence,
        usage=encode_usage(resp.usage),
    )
    return json_encode(msg)


# ── errors ───────────────────────────────────────────────────────────────────────────────


def encode_error(err: GatewayError) -> bytes:
    return json_encode(ErrorBody(ErrorDetail(error_type(err.kind, err.status), error_message(err))))


def encode_stream_error(err: GatewayError) -> bytes:
    """``event: error``: what ends a stream that failed after it started."""
    return stream_error_bytes(err.kind.value, error_message(err), err.status)


class _ErrorInner(msgspec.Struct):
    type: str = ""
    message: str = ""


class _ErrorView(msgspec.Struct):
    error: _ErrorInner | str | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorView)


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    """An Anthropic error answer → ``GatewayError``: kind from the error type (else the
    status), the upstream's status and message kept, the error type as ``code``."""
    etype, message = "", ""
    try:
        view = _error_decoder.decode(body)
        if isinstance(view.error, _ErrorInner):
            etype, message = view.error.type, view.error.message
        else:
            message = view.error or view.message or ""
    except msgspec.DecodeError:
        message = body[:500].decode("utf-8", "replace").strip()
    message = message or f"upstream answered HTTP {status}"
    if etype in ERROR_KINDS:
        err = GatewayError(ERROR_KINDS[etype][0], message, status=status, code=etype, provider=provider)
    else:
        err = GatewayError.from_status(status, message, provider)
        err.code = etype or None
    return recognise(err, etype or None)


# ── /v1/messages/count_tokens ────────────────────────────────────────────────────────────

CHARS_PER_TOKEN = 4
BASE_TOKENS = 3  # request framing
MESSAGE_TOKENS = 4  # role and turn markers
TOOL_TOKENS = 8  # per tool definition, besides its text
IMAGE_TOKENS = 1600  # Anthropic's cost of a ~1.15-megapixel image, the largest it keeps
DOCUMENT_TOKENS = 1600  # per PDF/URL document: one page's worth


def estimate_tokens(req: Request) -> int:
    """A *local estimate* of a request's input tokens, for ``count_tokens`` without an upstream.

    ~4 characters per token over all text (system, messages, thinking, tool names,
    descriptions, JSON schemas and raw tool arguments, tool results, server tools and
    unknown blocks as JSON), plus fixed costs: 3 per request, 4 per message, 8 per tool,
    1600 per image and per non-text document. It is not Anthropic's tokenizer: expect
    ±20% on prose and more on code or non-Latin scripts.
    """
    chars = sum(len(b.text) for b in req.system)
    fixed = BASE_TOKENS + MESSAGE_TOKENS * len(req.messages) + TOOL_TOKENS * len(req.tools)
    for msg in req.messages:
        for block in msg.content:
            c, f = _block_cost(block)
            chars, fixed = chars + c, fixed + f
    for tool in req.tools:
        chars += len(tool.name) + len(tool.description or "") + len(json_encode(tool.parameters or {}))
    server_tools = (req.extra.get(NAME) or {}).get("tools") or []
    chars += len(json_encode(server_tools))
    return fixed + math.ceil(chars / CHARS_PER_TOKEN)


def _block_cost(b: Block) -> tuple[int, int]:
    """(characters, fixed tokens) of one block."""
    kind = type(b)
    if kind is TextBlock:
        return len(b.text), 0
    if kind is ThinkingBlock:
        return len(b.thinking), 0
    if kind is ToolCallBlock:
        return len(b.name) + len(b.arguments), 0
    if kind is ToolResultBlock:
        costs = [_block_cost(x) for x in b.content]
        return sum(c for c, _ in costs), sum(f for _, f in costs)
    if kind is ImageBlock:
        return 0, IMAGE_TOKENS
    if kind is DocumentBlock:
        return (len(b.text), 0) if b.text is not None else (0, DOCUMENT_TOKENS)
    if kind is UnknownBlock:
        return len(json_encode(b.raw)), 0
    return len(b.data) if kind is RedactedThinkingBlock else 0, 0


class _CountTokens(msgspec.Struct):
    input_tokens: int


_count_decoder = msgspec.json.Decoder(_CountTokens)


def encode_count_tokens(input_tokens: int) -> bytes:
    """The ``count_tokens`` answer: ``{"input_tokens": N}``."""
    return json_encode(_CountTokens(input_tokens))


def decode_count_tokens(body: bytes) -> int:
    """An upstream ``count_tokens`` answer → its ``input_tokens``."""
    try:
        return _count_decoder.decode(body).input_tokens
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"malformed count_tokens answer: {exc}") from None

