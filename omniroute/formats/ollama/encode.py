"""Ollama streams, canonical → client (NDJSON records).

``StreamEncoder`` writes records with ``model``, ``created_at`` (the stream's start time:
per-record clocks would cost a clock read per delta), ``message`` and ``done: false``. Text and
thinking deltas are spliced into prebuilt bytes. Ollama only carries whole tool calls, so
ArgumentsDelta is buffered and the call is written at BlockStop (inherent; arguments that are
not a JSON object are sent as ``{}``). MessageStop writes the ``done: true`` record with
``done_reason`` and, with ``include_usage``, ``prompt_eval_count``/``eval_count`` (durations
are 0: the gateway does not know the upstream's timings). Signatures, images and unknown blocks
are dropped: the format has no place for them.
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
    StopReason,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ToolCallBlock,
    Usage,
)
from omniroute.formats.ollama.wire import ENCODER, ChatMessage, ChatResponse, encode_created, encode_done, wire_call

_encode_str = msgspec.json.encode


class StreamEncoder:
    """Canonical events → Ollama NDJSON records."""

    __slots__ = (
        "_args",
        "_calls",
        "_created",
        "_done",
        "_head",
        "_include_usage",
        "_model",
        "_stop",
        "_tool",
        "_usage",
    )

    def __init__(self, model: str, include_usage: bool = True) -> None:
        self._model = model
        self._include_usage = include_usage
        self._tool: ToolCallBlock | None = None
        self._args: list[str] = []
        self._calls = 0
        self._stop: StopReason | None = None
        self._usage: Usage | None = None
        self._done = False
        self._prebuild(0)

    def _prebuild(self, created: int) -> None:
        self._created = encode_created(created)
        head = b'{"model":' + _encode_str(self._model) + b',"created_at":' + _encode_str(self._created)
        self._head = head + b',"message":{"role":"assistant","content":'

    def encode(self, event: Event) -> bytes:
        if type(event) is BlockDelta:
            delta = event.delta
            if type(delta) is TextDelta:
                return self._head + _encode_str(delta.text) + b'},"done":false}\n'
            if type(delta) is ThinkingDelta:
                return self._head + b'"","thinking":' + _encode_str(delta.thinking) + b'},"done":false}\n'
            if type(delta) is ArgumentsDelta and self._tool is not None:
                self._args.append(delta.partial_json)
            return b""
        if self._done:
            return b""
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None else b""

    def _record(self, record: ChatResponse) -> bytes:
        return ENCODER.encode(record) + b"\n"

    def _message_start(self, event: MessageStart) -> bytes:
        self._prebuild(event.created)
        return b""

    def _block_start(self, event: BlockStart) -> bytes:
        block = event.block
        if type(block) is ToolCallBlock:
            self._tool, self._args = block, []
        return b""

    def _block_stop(self, event: BlockStop) -> bytes:
        tool, self._tool = self._tool, None
        if tool is None:
            return b""
        call = wire_call(ToolCallBlock(id=tool.id, name=tool.name, arguments="".join(self._args)), self._calls)
        self._calls += 1
        msg = ChatMessage(tool_calls=[call])
        return self._record(ChatResponse(model=self._model, created_at=self._created, message=msg))

    def _message_delta(self, event: MessageDelta) -> bytes:
        self._stop = event.stop_reason or self._stop
        self._usage = event.usage or self._usage
        return b""

    def _message_stop(self, event: MessageStop) -> bytes:
        self._done = True
        record = ChatResponse(self._model, self._created, ChatMessage(), True, encode_done(self._stop), 0, 0)
        if self._include_usage and self._usage is not None:
            record.prompt_eval_count = self._usage.input_tokens
            record.eval_count = self._usage.output_tokens
            record.prompt_eval_duration = record.eval_duration = 0
        return self._record(record)

    def _stream_error(self, event: StreamError) -> bytes:
        self._done = True
        return ENCODER.encode({"error": event.message}) + b"\n"


_HANDLERS = {
    MessageStart: StreamEncoder._message_start,
    BlockStart: StreamEncoder._block_start,
    BlockStop: StreamEncoder._block_stop,
    MessageDelta: StreamEncoder._message_delta,
    MessageStop: StreamEncoder._message_stop,
    StreamError: StreamEncoder._stream_error,
}
