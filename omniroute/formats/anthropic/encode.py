"""Anthropic Messages streams, canonical → wire (tables: ``omniroute.formats.anthropic``).

Emits ``message_start`` first even if the canonical stream starts with a block, closes a
block left open, renumbers blocks when one cannot be carried (an image, a foreign
``UnknownBlock``: its deltas and stop are dropped too), and holds ``MessageDelta``s to send
*one* ``message_delta`` just before ``message_stop``: the SDK's accumulator overwrites
``stop_reason`` with every ``message_delta``, and OpenAI-like upstreams send the stop reason
and the usage in separate chunks. A missing stop reason becomes ``tool_use`` if a tool call
was sent, else ``end_turn``. ``StreamError`` becomes ``event: error`` and ends the stream.

Reasoning state of another format (``omniroute.canonical.envelope``): a thinking block's
foreign signature deltas (and a Responses item id) are held and sent as *one* envelope
``signature_delta`` just before the block's ``content_block_stop``; Anthropic's own signature
deltas go out as they come, byte-identical. A tool call's Gemini signature is packed into the
``tool_use`` id at ``content_block_start`` (a signature delta after that start is dropped).

Hot path: a text delta is ``prefix + json(text) + b"}}\\n\\n"`` with the prefix (event line,
block index, delta type) built once per block at ``content_block_start``.
"""

from __future__ import annotations

import secrets
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
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.canonical.envelope import client_call_id, client_signature, collect, is_own
from omniroute.formats.anthropic.errors import stream_error_bytes
from omniroute.formats.anthropic.wire import SOURCE, WIRE_STOP_REASONS, MessageOut, UsageWire, encode_usage, json_encode
from omniroute.formats.framing import encode_sse


class _MessageStart(msgspec.Struct, tag="message_start", tag_field="type"):
    message: MessageOut


class _BlockStartOut(msgspec.Struct, tag="content_block_start", tag_field="type"):
    index: int
    content_block: Any


class _StopOut(msgspec.Struct):
    stop_reason: str | None
    stop_sequence: str | None


class _MessageDeltaOut(msgspec.Struct, tag="message_delta", tag_field="type"):
    delta: _StopOut
    usage: UsageWire


_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n'
_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":{"type":"'
_PING = b'event: ping\ndata: {"type":"ping"}\n\n'
_MESSAGE_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
_END = b"}}\n\n"
_DELTA_WIRE: dict[type, tuple[bytes, str]] = {
    TextDelta: (b'text_delta","text":', "text"),
    ThinkingDelta: (b'thinking_delta","thinking":', "thinking"),
    SignatureDelta: (b'signature_delta","signature":', "signature"),
    ArgumentsDelta: (b'input_json_delta","partial_json":', "partial_json"),
}


def _start_block(block: Any) -> Any:
    """The empty block ``content_block_start`` carries, or None when Anthropic has no such block."""
    kind = type(block)
    if kind is TextBlock:
        return {"type": "text", "text": ""}
    if kind is ThinkingBlock:
        return {"type": "thinking", "thinking": "", "signature": ""}
    if kind is ToolCallBlock:
        call_id = client_call_id(SOURCE, block.id, block.signature_source, block.signature)
        return {"type": "tool_use", "id": call_id, "name": block.name, "input": {}}
    if kind is RedactedThinkingBlock:
        return {"type": "redacted_thinking", "data": block.data}
    if kind is UnknownBlock and block.source == SOURCE and isinstance(block.raw, dict):
        return block.raw
    return None


def _start_payload(block: Any) -> list[Any]:
    """Deltas for payload a ``BlockStart`` carried (canonical blocks normally start empty)."""
    kind = type(block)
    if kind is TextBlock:
        return [TextDelta(block.text)] if block.text else []
    if kind is ThinkingBlock:
        deltas: list[Any] = [ThinkingDelta(block.thinking)] if block.thinking else []
        return deltas + ([SignatureDelta(block.signature, block.signature_source)] if block.signature else [])
    if kind is ToolCallBlock and block.arguments:
        return [ArgumentsDelta(block.arguments)]
    return []


class StreamEncoder:
    """``encode(Event) -> bytes``: canonical events → Anthropic SSE (see the module docstring)."""

    __slots__ = ("_blocks", "_done", "_held", "_model", "_next", "_open", "_started", "_stop", "_stop_seq",
                 "_text", "_tool_seen", "_usage", "include_usage")

    def __init__(self, model: str, include_usage: bool = True) -> None:
        self._model = model
        self.include_usage = include_usage  # Anthropic streams always carry usage
        self._started = False
        self._done = False
        self._next = 0  # next wire block index
        self._blocks: dict[int, tuple[int, type, bytes]] = {}  # canonical index -> (wire index, kind, prefix)
        self._text: dict[int, bytes] = {}  # canonical index -> text_delta prefix (the hot path)
        self._open: int | None = None
        self._held: ThinkingBlock | None = None  # the open thinking block's foreign state
        self._usage: Usage | None = None
        self._stop: StopReason | None = None
        self._stop_seq: str | None = None
        self._tool_seen = False

    def encode(self, event: Event) -> bytes:
        if type(event) is BlockDelta and type(event.delta) is TextDelta:
            prefix = self._text.get(event.index)
            if prefix is not None:
                return prefix + json_encode(event.delta.text) + _END
        if self._done:
            return b""
        return _ENCODERS[type(event)](self, event)

    def _start(self, event: MessageStart | None = None) -> bytes:
        if self._started:
            return b""
        self._started = True
        msg_id = event.id if event and event.id else "msg_" + secrets.token_hex(12)
        model = self._model or (event.model if event else "")
        self._usage = event.usage if event else None
        message = MessageOut(id=msg_id, model=model, content=[], usage=encode_usage(self._usage))
        return encode_sse(json_encode(_MessageStart(message)), "message_start")

    def _message_start(self, event: MessageStart) -> bytes:
        if self._started:  # a late duplicate: keep what it knows
            self._usage = event.usage or self._usage
            return b""
        return self._start(event)

    def _close_open(self) -> bytes:
        index, self._open = self._open, None
        if index is None:
            return b""
        wire, _, prefix = self._blocks[index]
        held, self._held = self._held, None
        if held is None:
            return _STOP % wire
        signature = client_signature(SOURCE, held.signature_source, held.signature, held.id)
        out = prefix + _DELTA_WIRE[SignatureDelta][0] + json_encode(signature) + _END if signature else b""
        return out + _STOP % wire

    def _block_start(self, event: BlockStart) -> bytes:
        out = self._start() + self._close_open()
        wire_block = _start_block(event.block)
        if wire_block is None:  # not carried: its deltas and stop are dropped, later blocks renumbered
            return out
        w, self._next = self._next, self._next + 1
        prefix = _DELTA % w
        self._blocks[event.index] = (w, type(event.block), prefix)
        if type(event.block) is TextBlock:
            self._text[event.index] = prefix + _DELTA_WIRE[TextDelta][0]
        self._tool_seen = self._tool_seen or type(event.block) is ToolCallBlock
        self._open = event.index
        if type(event.block) is ThinkingBlock and not is_own(event.block.signature_source, SOURCE):
            self._held = ThinkingBlock(id=event.block.id, signature_source=event.block.signature_source)
        out += encode_sse(json_encode(_BlockStartOut(w, wire_block)), "content_block_start")
        for delta in _start_payload(event.block):
            out += self._block_delta(BlockDelta(event.index, delta))
        return out

    def _block_delta(self, event: BlockDelta) -> bytes:
        entry = self._blocks.get(event.index)
        if entry is None:
            return b""
        delta = event.delta
        if type(delta) is SignatureDelta:
            if entry[1] is not ThinkingBlock:
                return b""  # a call's signature rides in its id, written at content_block_start
            if self._held is not None or not is_own(delta.source, SOURCE):
                self._held = collect(self._held, delta)  # another format's: sent packed at the stop
                return b""
        head, field = _DELTA_WIRE[type(delta)]
        return entry[2] + head + json_encode(getattr(delta, field)) + _END

    def _block_stop(self, event: BlockStop) -> bytes:
        return self._close_open() if event.index == self._open else b""

    def _message_delta(self, event: MessageDelta) -> bytes:
        self._stop = event.stop_reason or self._stop
        self._stop_seq = event.stop_sequence or self._stop_seq
        self._usage = event.usage or self._usage
        return b""

    def _message_stop(self, event: MessageStop) -> bytes:
        out = self._start() + self._close_open()
        stop = self._stop or (StopReason.TOOL_USE if self._tool_seen else StopReason.END_TURN)
        usage = encode_usage(self._usage)
        if self._usage is None or self._usage.input_tokens == 0:  # input side unknown: omit
            usage.input_tokens = usage.cache_creation_input_tokens = usage.cache_read_input_tokens = None
        delta = _MessageDeltaOut(_StopOut(WIRE_STOP_REASONS[stop], self._stop_seq), usage)
        self._finish()
        return out + encode_sse(json_encode(delta), "message_delta") + _MESSAGE_STOP

    def _ping(self, event: Ping) -> bytes:
        return _PING

    def _error(self, event: StreamError) -> bytes:
        self._finish()
        return stream_error_bytes(event.kind, event.message, event.status)

    def _unknown(self, event: Unknown) -> bytes:
        raw = event.raw
        if event.source != SOURCE or not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            return b""
        if "index" in raw:  # renumber like the blocks around it
            entry = self._blocks.get(raw["index"])
            if entry is None:
                return b""
            raw = {**raw, "index": entry[0]}
        return self._start() + encode_sse(json_encode(raw), raw["type"])

    def _finish(self) -> None:
        self._done = True
        self._text.clear()


_ENCODERS: dict[type, Any] = {
    MessageStart: StreamEncoder._message_start,
    BlockStart: StreamEncoder._block_start,
    BlockDelta: StreamEncoder._block_delta,
    BlockStop: StreamEncoder._block_stop,
    MessageDelta: StreamEncoder._message_delta,
    MessageStop: StreamEncoder._message_stop,
    Ping: StreamEncoder._ping,
    StreamError: StreamEncoder._error,
    Unknown: StreamEncoder._unknown,
}
