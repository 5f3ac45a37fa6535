"""Anthropic non-streaming answers: the ``Message`` object ↔ canonical ``Response`` (tables:
``omniroute.formats.anthropic``)."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    RedactedThinkingBlock,
    Response,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    UnknownBlock,
)
from omniroute.canonical.envelope import client_call_id, client_signature
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic.content import decode_block, encode_block, tool_input
from omniroute.formats.anthropic.wire import (
    NAME,
    WIRE_STOP_REASONS,
    MessageOut,
    UsageWire,
    decode_stop_reason,
    decode_usage,
    encode_usage,
    json_encode,
)


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
