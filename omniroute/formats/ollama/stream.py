"""Ollama streams, upstream → canonical (NDJSON: one JSON record per line).

Records carry ``message.thinking`` / ``message.content`` pieces; tool calls arrive whole, all
in one record; the last record has ``done: true``, ``done_reason`` and the counts.
``StreamDecoder.feed`` takes one line and synthesises blocks: consecutive thinking pieces form
one thinking block, consecutive content pieces one text block, each tool call a whole tool_call
block (BlockStart, one ArgumentsDelta with the arguments JSON, BlockStop). ``{"error": "..."}``
becomes ``StreamError``; a stream that ends before ``done: true`` ends with
``StreamError(upstream_protocol)``.

The encoder, canonical → client, is ``encode.StreamEncoder``.
"""

from __future__ import annotations

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
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Unknown,
)
from omniroute.errors import ErrorKind
from omniroute.formats.ollama.wire import (
    RESPONSE_DECODER,
    ChatMessage,
    ChatResponse,
    ToolCall,
    call_block,
    decode_created,
    decode_done,
    decode_usage,
    synth_id,
)


class StreamDecoder:
    """``feed(line) -> [Event]`` for an upstream NDJSON stream."""

    __slots__ = ("_calls", "_done", "_id", "_index", "_open", "_started")

    def __init__(self) -> None:
        self._index = -1
        self._open: str | None = None  # "text" | "thinking" while a block is open
        self._started = False
        self._done = False
        self._calls = 0
        self._id = ""

    def feed(self, line: bytes) -> list[Event]:
        try:
            record = RESPONSE_DECODER.decode(line)
        except msgspec.DecodeError:
            return [Unknown(raw=line.decode("utf-8", "replace"), source="ollama")]
        if self._done:
            return []
        if isinstance(record.error, str):
            self._done = True
            return [StreamError(ErrorKind.UPSTREAM_ERROR.value, record.error or "Ollama stream error")]
        events: list[Event] = []
        if not self._started:
            self._started = True
            self._id = synth_id(f"{record.model}:{record.created_at}", "ollama-")
            events.append(MessageStart(id=self._id, model=record.model, created=decode_created(record.created_at)))
        msg = record.message
        if isinstance(msg, ChatMessage):
            if isinstance(msg.thinking, str) and msg.thinking:
                self._delta("thinking", ThinkingDelta(msg.thinking), events)
            if msg.content:
                self._delta("text", TextDelta(msg.content), events)
            if isinstance(msg.tool_calls, list):
                self._tools(msg.tool_calls, events)
        if record.done:
            self._finish(record, events)
        return events

    def close(self) -> list[Event]:
        if self._done:
            return []
        self._done = True
        events: list[Event] = []
        self._close(events)
        events.append(StreamError(ErrorKind.UPSTREAM_PROTOCOL.value, "Ollama stream ended before done: true"))
        return events

    def _delta(self, kind: str, delta: TextDelta | ThinkingDelta, events: list[Event]) -> None:
        if self._open != kind:
            self._close(events)
            self._index += 1
            self._open = kind
            events.append(BlockStart(self._index, TextBlock("") if kind == "text" else ThinkingBlock()))
        events.append(BlockDelta(self._index, delta))

    def _close(self, events: list[Event]) -> None:
        if self._open is not None:
            events.append(BlockStop(self._index))
            self._open = None

    def _tools(self, calls: list[ToolCall], events: list[Event]) -> None:
        self._close(events)
        for call in calls:
            block = call_block(call, f"{self._id}:{self._calls}")
            self._calls += 1
            self._index += 1
            events.append(BlockStart(self._index, ToolCallBlock(id=block.id, name=block.name)))
            events.append(BlockDelta(self._index, ArgumentsDelta(block.arguments)))
            events.append(BlockStop(self._index))

    def _finish(self, record: ChatResponse, events: list[Event]) -> None:
        self._close(events)
        stop = decode_done(record.done_reason, self._calls > 0)
        events.append(MessageDelta(stop_reason=stop, usage=decode_usage(record)))
        events.append(MessageStop())
        self._done = True
