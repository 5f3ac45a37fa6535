"""Ollama ``/api/chat`` wire types and streams (NDJSON: one JSON record per line).

Upstream (decode): records carry ``message.thinking`` / ``message.content`` pieces; tool calls
arrive whole, all in one record; the last record has ``done: true``, ``done_reason`` and the
counts. ``StreamDecoder.feed`` takes one line and synthesises blocks: consecutive thinking
pieces form one thinking block, consecutive content pieces one text block, each tool call a
whole tool_call block (BlockStart, one ArgumentsDelta with the arguments JSON, BlockStop).
``{"error": "..."}`` becomes ``StreamError``; a stream that ends before ``done: true`` ends with
``StreamError(upstream_protocol)``.

Client (encode): ``StreamEncoder`` writes records with ``model``, ``created_at`` (the stream's
start time: per-record clocks would cost a clock read per delta), ``message`` and ``done:
false``. Text and thinking deltas are spliced into prebuilt bytes. Ollama only carries whole
tool calls, so ArgumentsDelta is buffered and the call is written at BlockStop (inherent;
arguments that are not a JSON object are sent as ``{}``). MessageStop writes the ``done: true``
record with ``done_reason`` and, with ``include_usage``, ``prompt_eval_count``/``eval_count``
(durations are 0: the gateway does not know the upstream's timings). Signatures, images and
unknown blocks are dropped: the format has no place for them.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import msgspec
from msgspec import UNSET, UnsetType

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
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Unknown,
    Usage,
)
from omniroute.errors import ErrorKind

SYNTH_PREFIX = "ocall_"


class ToolCallFunction(msgspec.Struct):
    name: str
    arguments: msgspec.Raw = msgspec.Raw(b"{}")
    index: int | UnsetType = UNSET


class ToolCall(msgspec.Struct):
    function: ToolCallFunction
    id: str | UnsetType = UNSET


class ChatMessage(msgspec.Struct):
    role: str = "assistant"
    content: str = ""
    thinking: str | UnsetType = UNSET
    tool_calls: list[ToolCall] | UnsetType = UNSET


class ChatResponse(msgspec.Struct):
    """A whole answer, or one stream record (``error`` set on an error record)."""

    model: str = ""
    created_at: str = ""
    message: ChatMessage | UnsetType = UNSET
    done: bool = False
    done_reason: str | UnsetType = UNSET
    total_duration: int | UnsetType = UNSET
    load_duration: int | UnsetType = UNSET
    prompt_eval_count: int | UnsetType = UNSET
    prompt_eval_duration: int | UnsetType = UNSET
    eval_count: int | UnsetType = UNSET
    eval_duration: int | UnsetType = UNSET
    error: str | UnsetType = UNSET


ENCODER = msgspec.json.Encoder()
RESPONSE_DECODER = msgspec.json.Decoder(ChatResponse)
_encode_str = msgspec.json.encode

#: Ollama ``done_reason`` -> canonical ("stop" becomes tool_use when the answer calls tools)
DONE_REASONS: dict[str, StopReason] = {"stop": StopReason.END_TURN, "length": StopReason.MAX_TOKENS}


def decode_done(reason: str | UnsetType, has_calls: bool) -> StopReason:
    stop = DONE_REASONS.get(reason, StopReason.END_TURN) if isinstance(reason, str) else StopReason.END_TURN
    return StopReason.TOOL_USE if has_calls and stop is StopReason.END_TURN else stop


def encode_done(stop: StopReason | None) -> str:
    return "length" if stop is StopReason.MAX_TOKENS else "stop"


def decode_usage(record: ChatResponse) -> Usage | None:
    if record.prompt_eval_count is UNSET and record.eval_count is UNSET:
        return None
    prompt = record.prompt_eval_count if isinstance(record.prompt_eval_count, int) else 0
    output = record.eval_count if isinstance(record.eval_count, int) else 0
    return Usage(input_tokens=prompt, output_tokens=output)


def synth_id(seed: str, prefix: str = SYNTH_PREFIX) -> str:
    return prefix + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


def decode_created(created_at: str) -> int:
    try:
        return int(datetime.fromisoformat(created_at).timestamp())
    except ValueError:
        return 0


def encode_created(created: int) -> str:
    """Unix seconds (0 = now) → Ollama's RFC 3339 ``created_at``."""
    return datetime.fromtimestamp(created or time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def call_block(call: ToolCall, seed: str) -> ToolCallBlock:
    fn = call.function
    call_id = call.id if isinstance(call.id, str) and call.id else synth_id(f"{seed}:{fn.name}")
    return ToolCallBlock(id=call_id, name=fn.name, arguments=bytes(fn.arguments).decode())


def wire_call(block: ToolCallBlock, index: int) -> ToolCall:
    """A canonical tool call → Ollama's, with ``arguments`` as a JSON object."""
    text = block.arguments or "{}"
    try:
        ok = isinstance(msgspec.json.decode(text), dict)
    except msgspec.DecodeError:
        ok = False
    args = msgspec.Raw(text.encode() if ok else b"{}")
    call_id = block.id if block.id and not block.id.startswith(SYNTH_PREFIX) else UNSET
    return ToolCall(function=ToolCallFunction(name=block.name, arguments=args, index=index), id=call_id)


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
