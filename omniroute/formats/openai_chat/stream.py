"""OpenAI Chat Completions streams (``chat.completion.chunk`` over SSE), wire → canonical.

Chunk → canonical events (``StreamDecoder``):

=============================================  =============================================
chunk                                          canonical
=============================================  =============================================
first chunk (``id``, ``model``, ``created``)   ``MessageStart``
``delta.reasoning_content`` / ``reasoning``    ``thinking`` block + ``ThinkingDelta``
``delta.content``, ``delta.refusal``           ``text`` block + ``TextDelta`` (refusal is
                                               lossy: it becomes plain text)
``delta.tool_calls[i]``                        ``tool_call`` block + ``ArgumentsDelta`` (raw)
``finish_reason``                              closes the open block; ``MessageDelta``
                                               ``.stop_reason``
``usage`` (any chunk, last one wins)           ``MessageDelta.usage``
usage-only chunk (``choices: []``)             after a finish: ``MessageDelta`` +
                                               ``MessageStop``
``data: [DONE]``                               ``MessageDelta`` + ``MessageStop`` unless sent
``data: {"error": {...}}``                     ``StreamError`` (and the stream is over)
data that is not a chunk                       ``Unknown``
=============================================  =============================================

Blocks are synthesised: a block starts when the kind of content changes and stops before the
next one starts. **Parallel tool calls** are keyed by ``index`` (a new ``id`` at a used index
is a new call). The first named call of a run streams live; every later call of the same run
is buffered and emitted as one complete block (start, one ``ArgumentsDelta``, stop) when the
run ends (text, finish, usage-only chunk, ``[DONE]`` or end of stream). OpenAI sends calls one
after another, but some providers interleave fragments by index; buffering keeps canonical
blocks sequential and whole in both cases, at the cost of liveness for calls 2..n. A call
that never gets a name is dropped. Only choice ``index`` 0 is read (``n > 1`` is lossy).

Finish reasons and usage: see the tables in ``omniroute.formats.openai_chat``.

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
from omniroute.formats.framing import SSEFrame
from omniroute.formats.openai_chat.errors import decode_error_object
from omniroute.formats.openai_chat.wire import NAME, WireUsage, decode_finish, decode_usage, new_id


class _FunctionDelta(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class _ToolCallDelta(msgspec.Struct):
    index: int = 0
    id: str | None = None
    function: _FunctionDelta | None = None


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: Any = None  # a string for vLLM/OpenRouter; ignored when it is not
    refusal: str | None = None
    tool_calls: list[_ToolCallDelta] | None = None


class _ChunkChoice(msgspec.Struct):
    index: int = 0
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Chunk(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    created: int | float | None = None  # a few servers send a float
    choices: list[_ChunkChoice] | None = None
    usage: WireUsage | None = None
    error: Any = None


_chunk_decoder = msgspec.json.Decoder(_Chunk)

_NONE, _TEXT, _THINKING, _TOOL = 0, 1, 2, 3


def _error_event(data: bytes) -> StreamError:
    """The data of an ``event: error`` frame: ``{"error": {...}}``, a bare error object or text."""
    try:
        body = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return decode_error_object(data.decode("utf-8", "replace"))
    return decode_error_object(body.get("error", body) if isinstance(body, dict) else body)


class _Call:
    """One tool call of the current run, keyed by its OpenAI ``index``."""

    __slots__ = ("args", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.args: list[str] = []


class StreamDecoder:
    """Upstream ``chat.completion.chunk`` SSE frames → canonical events."""

    __slots__ = ("_calls", "_done", "_finished", "_live", "_next", "_open", "_open_index", "_order",
                 "_started", "_stop", "_usage")

    def __init__(self) -> None:
        self._started = False
        self._done = False
        self._finished = False  # a finish_reason was seen
        self._next = 0  # next block index
        self._open = _NONE
        self._open_index = -1
        self._stop: StopReason | None = None
        self._usage: Usage | None = None
        self._calls: dict[int, _Call] = {}  # OpenAI tool index -> call, current run
        self._order: list[_Call] = []  # calls of the run in first-seen order
        self._live: _Call | None = None  # the call streaming live in the open block

    def feed(self, frame: SSEFrame) -> list[Event]:
        if self._done:
            return []
        data = frame.data
        if data == b"[DONE]":
            return self._end()
        if frame.event == "error":  # some providers name the event instead of sending {"error": ...}
            self._done = True
            return [_error_event(data)]
        try:
            chunk = _chunk_decoder.decode(data)
        except msgspec.DecodeError:
            return [Unknown(data.decode("utf-8", "replace"), frame.event, NAME)]
        if chunk.error is not None:
            self._done = True
            return [decode_error_object(chunk.error)]
        out: list[Event] = []
        if not self._started:
            self._started = True
            out.append(MessageStart(chunk.id or "", chunk.model or "", None, int(chunk.created or 0)))
        if chunk.choices:
            self._choice(chunk.choices, out)
        if chunk.usage is not None:
            self._usage = decode_usage(chunk.usage)
            if self._finished and not chunk.choices:
                out += self._end()
        return out

    def close(self) -> list[Event]:
        """End of the upstream body: flush whatever the stream did not finish."""
        return [] if self._done else self._end()

    def _choice(self, choices: list[_ChunkChoice], out: list[Event]) -> None:
        for choice in choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                reasoning = delta.reasoning_content or delta.reasoning
                if reasoning and type(reasoning) is str:
                    self._content(reasoning, _THINKING, out)
                if delta.content:
                    self._content(delta.content, _TEXT, out)
                if delta.refusal:
                    self._content(delta.refusal, _TEXT, out)
                if delta.tool_calls:
                    for tc in delta.tool_calls:
                        self._tool(tc, out)
            if choice.finish_reason:
                self._stop = decode_finish(choice.finish_reason)
                self._finished = True
                self._close(out)

    def _content(self, text: str, kind: int, out: list[Event]) -> None:
        if self._open != kind:
            self._close(out)
            self._open, self._open_index = kind, self._next
            self._next += 1
            out.append(BlockStart(self._open_index, TextBlock("") if kind == _TEXT else ThinkingBlock()))
        out.append(BlockDelta(self._open_index, TextDelta(text) if kind == _TEXT else ThinkingDelta(text)))

    def _tool(self, tc: _ToolCallDelta, out: list[Event]) -> None:
        if self._open != _TOOL:
            self._close(out)
            self._open = _TOOL
        call = self._calls.get(tc.index)
        if call is None or (tc.id and call.id and tc.id != call.id):
            call = self._calls[tc.index] = _Call()
            self._order.append(call)
        fn = tc.function
        fragment = fn.arguments if fn is not None else None
        if call is self._live:
            if fragment:
                out.append(BlockDelta(self._open_index, ArgumentsDelta(fragment)))
            return
        if tc.id:
            call.id = tc.id
        if fn is not None and fn.name:
            call.name = fn.name
        if fragment:
            call.args.append(fragment)
        if self._live is None and call.name and call is self._order[0]:
            self._start_call(call, out)

    def _start_call(self, call: _Call, out: list[Event]) -> None:
        self._live, self._open_index = call, self._next
        self._next += 1
        out.append(BlockStart(self._open_index, ToolCallBlock(call.id or new_id("call_"), call.name, "")))
        if call.args:
            out.append(BlockDelta(self._open_index, ArgumentsDelta("".join(call.args))))
            call.args = []

    def _close(self, out: list[Event]) -> None:
        """Stop the open block; a tool run also emits its buffered calls as whole blocks."""
        if self._open == _TOOL:
            if self._live is not None:
                out.append(BlockStop(self._open_index))
            for call in self._order:
                if call is not self._live and call.name:
                    self._start_call(call, out)
                    out.append(BlockStop(self._open_index))
            self._calls, self._order, self._live = {}, [], None
        elif self._open != _NONE:
            out.append(BlockStop(self._open_index))
        self._open = _NONE

    def _end(self) -> list[Event]:
        out: list[Event] = []
        if not self._started:
            self._started = True
            out.append(MessageStart())
        self._close(out)
        if self._stop is not None or self._usage is not None:
            out.append(MessageDelta(self._stop, None, self._usage))
        out.append(MessageStop())
        self._done = True
        return out
