"""Anthropic Messages streams, wire → canonical (tables: ``omniroute.formats.anthropic``).

The canonical stream grammar *is* Anthropic's, so both directions map event for event:

====================================  ================================================
Anthropic SSE event                   canonical event
====================================  ================================================
message_start                         MessageStart(id, model, usage)
content_block_start                   BlockStart(index, empty block) (+ a delta if the
                                      start block already carries payload)
content_block_delta text_delta        BlockDelta(TextDelta)
content_block_delta thinking_delta    BlockDelta(ThinkingDelta)
content_block_delta signature_delta   BlockDelta(SignatureDelta(source="anthropic"))
content_block_delta input_json_delta  BlockDelta(ArgumentsDelta)
content_block_delta citations_delta   Unknown (raw frame; passed back to Anthropic)
content_block_stop                    BlockStop(index)
message_delta                         MessageDelta(stop_reason, stop_sequence, usage)
message_stop                          MessageStop
ping                                  Ping
error                                 StreamError(kind, message, status)
anything else                         Unknown(raw, event)
====================================  ================================================

Decoder: ``MessageDelta.usage`` is cumulative, so the decoder carries the input side of
``message_start`` forward (a ``message_delta`` may send only ``output_tokens``). Malformed
JSON or a known event of the wrong shape raises ``GatewayError(UPSTREAM_PROTOCOL)``; a stream
that ends without ``message_stop`` or ``error`` yields a ``StreamError`` from ``close()``.

The encoder, canonical → wire, is ``encode.StreamEncoder``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Unknown,
    UnknownBlock,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic.errors import ERROR_KINDS
from omniroute.formats.anthropic.wire import (
    SOURCE,
    UsageWire,
    decode_stop_reason,
    decode_usage,
    json_decode,
    json_encode,
)
from omniroute.formats.framing import SSEFrame


class _Delta(msgspec.Struct):
    type: str = ""
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None


class _Head(msgspec.Struct):
    id: str = ""
    model: str = ""
    usage: UsageWire | None = None


class _Error(msgspec.Struct):
    type: str = "api_error"
    message: str = ""


class _Frame(msgspec.Struct):
    """Every Anthropic stream event in one flat view; ``type`` says which fields matter."""

    type: str = ""
    index: int = 0
    delta: _Delta | None = None
    content_block: dict[str, Any] | None = None
    message: _Head | None = None
    usage: UsageWire | None = None
    error: _Error | None = None


_frame_decoder = msgspec.json.Decoder(_Frame)
def _signature(value: str) -> SignatureDelta:
    return SignatureDelta(value, SOURCE)


_DELTAS = {
    "text_delta": ("text", TextDelta),
    "thinking_delta": ("thinking", ThinkingDelta),
    "signature_delta": ("signature", _signature),
    "input_json_delta": ("partial_json", ArgumentsDelta),
}


def _protocol(message: str) -> GatewayError:
    return GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"malformed Anthropic stream: {message}")


# ── decoder: wire → canonical ────────────────────────────────────────────────────────────


class StreamDecoder:
    """``feed(SSEFrame) -> [Event]``; ``close() -> [Event]``."""

    __slots__ = ("_done", "_usage")

    def __init__(self) -> None:
        self._usage = UsageWire()  # cumulative, input side from message_start
        self._done = False

    def feed(self, frame: SSEFrame) -> list[Event]:
        try:
            f = _frame_decoder.decode(frame.data)
        except msgspec.DecodeError:
            return self._odd(frame)
        if f.type == "content_block_delta":
            if f.delta is None:
                raise _protocol(f"content_block_delta without a delta: {frame.data[:200]!r}")
            name, cls = _DELTAS.get(f.delta.type, (None, None))
            value = getattr(f.delta, name) if name else None
            if value is None:  # citations_delta and future deltas
                return [Unknown(json_decode(frame.data), frame.event, SOURCE)]
            return [BlockDelta(f.index, cls(value))]  # type: ignore[misc]
        handler = _HANDLERS.get(f.type)
        if handler is None:
            return [Unknown(json_decode(frame.data), frame.event, SOURCE)]
        return handler(self, f)

    def close(self) -> list[Event]:
        if self._done:
            return []
        self._done = True
        return [StreamError(ErrorKind.UPSTREAM_PROTOCOL.value, "upstream stream ended before message_stop", 502)]

    def _odd(self, frame: SSEFrame) -> list[Event]:
        """Not a well-formed known event: unknown events are values, broken ones errors."""
        try:
            raw = json_decode(frame.data)
        except msgspec.DecodeError:
            raise _protocol(f"data is not JSON: {frame.data[:200]!r}") from None
        if isinstance(raw, dict) and (raw.get("type") in _HANDLERS or raw.get("type") == "content_block_delta"):
            raise _protocol(f"bad {raw['type']} event: {frame.data[:200]!r}")
        return [Unknown(raw, frame.event, SOURCE)]

    def _message_start(self, f: _Frame) -> list[Event]:
        head = f.message or _Head()
        if head.usage is not None:
            self._usage = head.usage
        usage = decode_usage(head.usage) if head.usage is not None else None
        return [MessageStart(head.id, head.model, usage)]

    def _block_start(self, f: _Frame) -> list[Event]:
        raw = f.content_block or {}
        kind = raw.get("type")
        if kind == "text":
            return _with_payload(f.index, TextBlock(""), TextDelta, raw.get("text"))
        if kind == "thinking":
            events = _with_payload(f.index, ThinkingBlock(""), ThinkingDelta, raw.get("thinking"))
            return events + _with_payload(f.index, None, _signature, raw.get("signature"))
        if kind == "tool_use" and isinstance(raw.get("id"), str) and isinstance(raw.get("name"), str):
            args = raw.get("input")
            args_text = json_encode(args).decode() if args else None  # usually {} at start
            return _with_payload(f.index, ToolCallBlock(raw["id"], raw["name"], ""), ArgumentsDelta, args_text)
        if kind == "redacted_thinking" and isinstance(raw.get("data"), str):
            return [BlockStart(f.index, RedactedThinkingBlock(raw["data"]))]
        return [BlockStart(f.index, UnknownBlock(raw, SOURCE))]  # server tool blocks and the like

    def _block_stop(self, f: _Frame) -> list[Event]:
        return [BlockStop(f.index)]

    def _message_delta(self, f: _Frame) -> list[Event]:
        d = f.delta or _Delta()
        u = self._usage
        if f.usage is not None:  # cumulative totals: present fields overwrite
            n = f.usage
            u = self._usage = UsageWire(
                u.input_tokens if n.input_tokens is None else n.input_tokens,
                u.output_tokens if n.output_tokens is None else n.output_tokens,
                u.cache_creation_input_tokens if n.cache_creation_input_tokens is None
                else n.cache_creation_input_tokens,
                u.cache_read_input_tokens if n.cache_read_input_tokens is None else n.cache_read_input_tokens,
                n.output_tokens_details or u.output_tokens_details,
            )
        return [MessageDelta(decode_stop_reason(d.stop_reason), d.stop_sequence, decode_usage(u))]

    def _message_stop(self, f: _Frame) -> list[Event]:
        self._done = True
        return [MessageStop()]

    def _ping(self, f: _Frame) -> list[Event]:
        return [Ping()]

    def _error(self, f: _Frame) -> list[Event]:
        self._done = True
        err = f.error or _Error()
        kind, status = ERROR_KINDS.get(err.type, (ErrorKind.UPSTREAM_ERROR, 502))
        return [StreamError(kind.value, err.message or err.type, status)]


def _with_payload(index: int, block: Any, delta: Any, payload: str | None) -> list[Event]:
    events: list[Event] = [BlockStart(index, block)] if block is not None else []
    if payload:
        events.append(BlockDelta(index, delta(payload)))
    return events


_HANDLERS = {
    "message_start": StreamDecoder._message_start,
    "content_block_start": StreamDecoder._block_start,
    "content_block_stop": StreamDecoder._block_stop,
    "message_delta": StreamDecoder._message_delta,
    "message_stop": StreamDecoder._message_stop,
    "ping": StreamDecoder._ping,
    "error": StreamDecoder._error,
}
