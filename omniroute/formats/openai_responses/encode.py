"""OpenAI Responses streaming, encoder side: canonical events → typed SSE events.

The sequence the ``openai`` SDK (``client.responses.create(stream=True)`` and the
``client.responses.stream`` accumulator) accepts::

    response.created, response.in_progress
    per text block:     [output_item.added message]  content_part.added  output_text.delta*
                        output_text.done  content_part.done   (consecutive text blocks are parts
                        of one message item, closed by output_item.done before the next item)
    per tool call:      output_item.added function_call  function_call_arguments.delta*
                        function_call_arguments.done  output_item.done
    per thinking block: output_item.added reasoning  [reasoning_summary_part.added
                        reasoning_summary_text.delta* reasoning_summary_text.done
                        reasoning_summary_part.done]  output_item.done (encrypted_content =
                        the signature deltas)
    response.completed | response.incomplete | response.failed  (full response + usage)
    StreamError → error {code, message, param}, then response.failed

Reasoning state of another format: its signature deltas are collected and written packed
(``omniroute.canonical.envelope``) as the reasoning item's ``encrypted_content``, under a fresh
item id; a Gemini call signature is packed into the ``call_id`` when the call starts.

``sequence_number`` counts up from 0. The ``.done`` events repeat the whole text, so the
encoder keeps the open block's pieces (inherent in the format). Text deltas are spliced into a
prebuilt prefix (no dict per delta). Images, redacted thinking and ``Unknown`` events are
dropped; ``Ping`` becomes an SSE comment (keeps proxies from timing out, ignored by clients).
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
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    UnknownBlock,
    Usage,
)
from omniroute.canonical.envelope import client_call_id, client_signature, collect, is_own
from omniroute.formats.framing import encode_sse
from omniroute.formats.openai_responses.errors import ERROR_CODES
from omniroute.formats.openai_responses.output import item_id, response_object
from omniroute.formats.openai_responses.wire import (
    ITEM_SOURCE,
    NAME,
    ErrorOut,
    FunctionCallItem,
    MessageItem,
    OutputText,
    ReasoningItem,
    SummaryText,
)

_NONE, _TEXT, _TOOL, _THINK = 0, 1, 2, 3
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_FINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}
_INCOMPLETE = (StopReason.MAX_TOKENS, StopReason.CONTENT_FILTER)


def _prefix(kind: str, head: dict[str, Any]) -> bytes:
    """``event: kind`` + ``data: {"type": kind, **head, "delta":`` — the delta and seq follow."""
    data = _encode({"type": kind, **head})
    return b"event: " + kind.encode() + b"\ndata: " + data[:-1] + b',"delta":'


class StreamEncoder:
    """Canonical events → Responses SSE bytes, one ``encode`` call per event."""

    __slots__ = (
        "_at",
        "_chunks",
        "_created",
        "_ended",
        "_item",
        "_kind",
        "_model",
        "_msg",
        "_msg_at",
        "_output",
        "_part_at",
        "_prefix",
        "_rid",
        "_seq",
        "_started",
        "_state",
        "_stop",
        "_summary",
        "_usage",
    )

    def __init__(self, model: str, include_usage: bool = True) -> None:
        self._model = model  # Responses always reports usage: include_usage changes nothing
        self._seq = 0
        self._rid = ""
        self._created = 0
        self._started = False
        self._ended = False
        self._output: list[Any] = []  # every item added so far, in output order
        self._msg: MessageItem | None = None  # the open message item (spans text blocks)
        self._msg_at = -1  # its output_index
        self._item: Any = None  # the item (or part) of the open block
        self._at = -1  # output_index of the open block's item
        self._part_at = -1  # content_index of the open text part
        self._kind = _NONE
        self._chunks: list[str] = []  # payload of the open block, for its .done events
        self._prefix = b""  # prebuilt delta event for the open block
        self._state = ThinkingBlock()  # the open reasoning block's signature, id and their source
        self._summary = False  # the open reasoning item has a summary part
        self._stop: StopReason | None = None
        self._usage: Usage | None = None

    def encode(self, event: Event) -> bytes:
        if type(event) is BlockDelta:
            delta = event.delta
            if self._kind == _TEXT and type(delta) is TextDelta:  # the hot path
                self._chunks.append(delta.text)
                seq = self._seq
                self._seq = seq + 1
                return self._prefix + _encode(delta.text) + b',"sequence_number":%d}\n\n' % seq
            return self._delta(delta)
        if self._ended:
            return b""
        handler = _ENCODERS.get(type(event))
        return handler(self, event) if handler is not None else b""

    def _emit(self, kind: str, **fields: Any) -> bytes:
        seq = self._seq
        self._seq = seq + 1
        return encode_sse(_encode({"type": kind, **fields, "sequence_number": seq}), kind)

    def _splice(self, text: str) -> bytes:
        self._chunks.append(text)
        seq = self._seq
        self._seq = seq + 1
        return self._prefix + _encode(text) + b',"sequence_number":%d}\n\n' % seq

    def _response(self, stop: StopReason | None) -> Any:
        return response_object(self._rid, self._model, self._created, stop, self._output, self._usage)

    # ---------------------------------------------------------------- message level

    def _start(self, event: MessageStart) -> bytes:
        if self._started:
            return b""
        self._started = True
        self._rid = event.id or "resp_" + secrets.token_hex(16)
        self._model = self._model or event.model
        self._created = event.created
        obj = self._response(None)
        self._created = obj.created_at
        obj.status = "in_progress"
        return self._emit("response.created", response=obj) + self._emit("response.in_progress", response=obj)

    def _message_delta(self, event: MessageDelta) -> bytes:
        self._stop = event.stop_reason or self._stop
        self._usage = event.usage or self._usage
        return b""

    def _finish(self, event: MessageStop) -> bytes:
        out = self._block_stop(None) + self._close_message()
        obj = self._response(self._stop)
        self._ended = True
        return out + self._emit(_FINAL_EVENTS[obj.status], response=obj)

    def _error(self, event: StreamError) -> bytes:
        out = self._start(MessageStart())
        code = ERROR_CODES.get(event.kind, "server_error")
        out += self._emit("error", code=code, message=event.message, param=None)
        obj = self._response(StopReason.ERROR)
        obj.error = ErrorOut(code, event.message)
        self._ended = True
        return out + self._emit("response.failed", response=obj)

    def _ping(self, event: Ping) -> bytes:
        return b": ping\n\n"

    # ---------------------------------------------------------------- blocks

    def _block_start(self, event: BlockStart) -> bytes:
        out = self._start(MessageStart()) + self._block_stop(None)
        block = event.block
        kind = type(block)
        if kind is TextBlock:
            return out + self._open_text(block.text)
        out += self._close_message()
        if kind is ToolCallBlock:
            return out + self._open_call(block)
        if kind is ThinkingBlock:
            return out + self._open_reasoning(block)
        if kind is UnknownBlock and block.source == ITEM_SOURCE and isinstance(block.raw, dict):
            index = len(self._output)
            self._output.append(block.raw)
            added = self._emit("response.output_item.added", output_index=index, item=block.raw)
            return out + added + self._emit("response.output_item.done", output_index=index, item=block.raw)
        return out  # images, redacted thinking …: a Responses answer has no place for them

    def _open_text(self, text: str) -> bytes:
        out = b""
        if self._msg is None:
            index = len(self._output)
            self._msg = MessageItem(item_id("msg", self._rid, index), "in_progress", [])
            self._output.append(self._msg)
            out = self._emit("response.output_item.added", output_index=index, item=self._msg)
            self._msg_at = index
        msg, part = self._msg, OutputText("")
        head = {"item_id": msg.id, "output_index": self._msg_at, "content_index": len(msg.content)}
        out += self._emit("response.content_part.added", **head, part=part)
        self._part_at = len(msg.content)
        msg.content.append(part)
        self._open_block(_TEXT, part, self._msg_at, _prefix("response.output_text.delta", {**head, "logprobs": []}))
        return out + (self._splice(text) if text else b"")

    def _open_call(self, block: ToolCallBlock) -> bytes:
        index = len(self._output)
        call_id = client_call_id(NAME, block.id, block.signature_source, block.signature)
        item = FunctionCallItem(item_id("fc", self._rid, index), call_id, block.name, "", "in_progress")
        out = self._emit("response.output_item.added", output_index=index, item=item)
        self._output.append(item)
        self._open_block(_TOOL, item, index, _prefix("response.function_call_arguments.delta", _head(item, index)))
        return out + (self._splice(block.arguments) if block.arguments else b"")

    def _open_reasoning(self, block: ThinkingBlock) -> bytes:
        index = len(self._output)
        own = is_own(block.signature_source, NAME)
        item = ReasoningItem((block.id if own else None) or item_id("rs", self._rid, index), [])
        out = self._emit("response.output_item.added", output_index=index, item=item)
        self._output.append(item)
        head = {**_head(item, index), "summary_index": 0}
        self._open_block(_THINK, item, index, _prefix("response.reasoning_summary_text.delta", head))
        self._state = ThinkingBlock(signature=block.signature, id=block.id, signature_source=block.signature_source)
        self._summary = False
        return out + (self._thinking(block.thinking) if block.thinking else b"")

    def _open_block(self, kind: int, item: Any, at: int, prefix: bytes) -> None:
        self._kind, self._item, self._at, self._prefix, self._chunks = kind, item, at, prefix, []

    def _delta(self, delta: Any) -> bytes:
        kind, dtype = self._kind, type(delta)
        if kind == _TOOL and dtype is ArgumentsDelta:
            return self._splice(delta.partial_json)
        if kind == _THINK and dtype is ThinkingDelta:
            return self._thinking(delta.thinking)
        if kind == _THINK and dtype is SignatureDelta:
            self._state = collect(self._state, delta)
        return b""

    def _thinking(self, text: str) -> bytes:
        out = b""
        if not self._summary:
            self._summary = True
            head = {**_head(self._item, self._at), "summary_index": 0}
            out = self._emit("response.reasoning_summary_part.added", **head, part=SummaryText(""))
        return out + self._splice(text)

    def _block_stop(self, event: BlockStop | None) -> bytes:
        kind, item = self._kind, self._item
        if kind == _NONE:
            return b""
        self._kind, self._item = _NONE, None
        text = "".join(self._chunks)
        if kind == _TEXT:
            return self._text_done(item, text)
        index = self._at
        head = _head(item, index)
        if kind == _TOOL:
            item.arguments, item.status = text, "completed"
            out = self._emit("response.function_call_arguments.done", **head, arguments=text)
            return out + self._emit("response.output_item.done", output_index=index, item=item)
        out = b""
        if self._summary:
            out = self._emit("response.reasoning_summary_text.done", **head, summary_index=0, text=text)
            part = SummaryText(text)
            out += self._emit("response.reasoning_summary_part.done", **head, summary_index=0, part=part)
        state = self._state
        item.summary = [SummaryText(text)] if self._summary else []
        item.encrypted_content = client_signature(NAME, state.signature_source, state.signature, state.id)
        return out + self._emit("response.output_item.done", output_index=index, item=item)

    def _text_done(self, part: OutputText, text: str) -> bytes:
        msg = self._msg
        assert msg is not None
        part.text = text
        head = {"item_id": msg.id, "output_index": self._msg_at, "content_index": self._part_at}
        out = self._emit("response.output_text.done", **head, text=text, logprobs=[])
        return out + self._emit("response.content_part.done", **head, part=part)

    def _close_message(self) -> bytes:
        msg = self._msg
        if msg is None:
            return b""
        self._msg = None
        msg.status = "incomplete" if self._stop in _INCOMPLETE else "completed"
        return self._emit("response.output_item.done", output_index=self._msg_at, item=msg)


def _head(item: Any, index: int) -> dict[str, Any]:
    return {"item_id": item.id, "output_index": index}


_ENCODERS: dict[type, Any] = {
    MessageStart: StreamEncoder._start,
    BlockStart: StreamEncoder._block_start,
    BlockStop: StreamEncoder._block_stop,
    MessageDelta: StreamEncoder._message_delta,
    MessageStop: StreamEncoder._finish,
    StreamError: StreamEncoder._error,
    Ping: StreamEncoder._ping,
}
