"""OpenAI Responses streaming: typed SSE events ``event: <type>`` / ``data: {"type", "sequence_number", …}``.

``StreamDecoder`` (upstream events → canonical), one canonical block per output item or
content part:

=============================================  ================================================
Responses event                                canonical
=============================================  ================================================
response.created                               MessageStart(id, model, created)
response.in_progress / queued, ``.done`` of    — (their payload already arrived as deltas; a
text, summary and parts                        ``.done`` with text no delta carried is replayed)
output_item.added function_call                BlockStart(ToolCallBlock(call_id, name))
output_item.added reasoning                    BlockStart(ThinkingBlock(id=item id,
                                               signature_source="openai_responses"))
content_part.added output_text / refusal       BlockStart(TextBlock)
output_text.delta, refusal.delta               TextDelta
function_call_arguments.delta                  ArgumentsDelta
reasoning_summary_text.delta,                  ThinkingDelta (summary parts after the first
reasoning_text.delta                           are preceded by a "\\n\\n" delta)
output_item.done reasoning                     SignatureDelta(encrypted_content,
                                               "openai_responses"), BlockStop
content_part.done, output_item.done            BlockStop
output_item.done of another item type          BlockStart(UnknownBlock(item)) + BlockStop
response.completed / response.incomplete       MessageDelta(stop reason, usage), MessageStop
response.failed, error                         StreamError (after MessageDelta for failed)
anything else                                  Unknown(raw, event=type)
=============================================  ================================================

A stream that ends without a terminal event closes with ``StreamError(upstream_protocol)``.
The encoder is ``encode.StreamEncoder``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import (
    ArgumentsDelta,
    Block,
    BlockDelta,
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
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
from omniroute.errors import ErrorKind
from omniroute.formats.framing import SSEFrame
from omniroute.formats.openai_responses.errors import stream_error
from omniroute.formats.openai_responses.output import decode_item, decode_stop, decode_usage, thinking_text
from omniroute.formats.openai_responses.wire import ITEM_SOURCE, NAME, OutputItem, OutputPart, ResponseBody


class _Event(msgspec.Struct):
    """Every streamed event, as one flat view; ``type`` says which fields are set."""

    type: str
    delta: str | None = None
    output_index: int = 0
    content_index: int = 0
    item_id: str | None = None
    item: msgspec.Raw = msgspec.Raw()  # empty when absent (a ``Raw | None`` union is not supported)
    part: OutputPart | None = None
    response: msgspec.Raw = msgspec.Raw()
    text: str | None = None
    refusal: str | None = None
    arguments: str | None = None
    code: str | None = None
    message: str | None = None
    error: Any = None


_event_decoder = msgspec.json.Decoder(_Event)
_body_decoder = msgspec.json.Decoder(ResponseBody)

_NONE, _TEXT, _TOOL, _THINK = 0, 1, 2, 3
_TEXT_DELTA = "response.output_text.delta"


class StreamDecoder:
    """Upstream Responses SSE frames → canonical events."""

    __slots__ = (
        "_ended",
        "_index",
        "_kind",
        "_last_out",
        "_open",
        "_out",
        "_part",
        "_seen",
        "_started",
        "_summaries",
        "_tool_call",
    )

    def __init__(self) -> None:
        self._index = 0  # next canonical block index
        self._open = -1  # canonical index of the open block (-1: none)
        self._kind = _NONE
        self._out = -1  # output_index of the open block
        self._part = -1  # content_index of the open text block
        self._last_out = -1  # output_index of the last block started
        self._seen = False  # the open block got payload from deltas
        self._summaries = 0  # summary parts seen in the open reasoning item
        self._started = False
        self._tool_call = False
        self._ended = False

    def feed(self, frame: SSEFrame) -> list[Event]:
        if self._ended:
            return []
        try:
            ev = _event_decoder.decode(frame.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return [] if frame.data == b"[DONE]" else _unknown(frame, None)
        if (  # the hot path: text of the open part
            ev.type == _TEXT_DELTA
            and self._kind == _TEXT
            and self._out == ev.output_index
            and self._part == ev.content_index
        ):
            self._seen = True
            return [BlockDelta(self._open, TextDelta(ev.delta or ""))]
        handler = _HANDLERS.get(ev.type)
        return handler(self, ev) if handler is not None else _unknown(frame, ev.type)

    def close(self) -> list[Event]:
        if self._ended:
            return []
        self._ended = True
        err = StreamError(ErrorKind.UPSTREAM_PROTOCOL.value, "the upstream stream ended before response.completed")
        return [*self._stop(), err]

    # ---------------------------------------------------------------- block bookkeeping

    def _begin(self, kind: int, out: int, part: int, block: Block) -> BlockStart:
        index = self._index
        self._index = index + 1
        self._open, self._kind, self._out, self._part, self._last_out = index, kind, out, part, out
        self._seen = False
        self._summaries = 0
        return BlockStart(index, block)

    def _stop(self) -> list[Event]:
        if self._open < 0:
            return []
        stop = BlockStop(self._open)
        self._open, self._kind, self._out, self._part = -1, _NONE, -1, -1
        return [stop]

    def _is_open(self, kind: int, out: int) -> bool:
        return self._kind == kind and self._out == out

    def _delta(self, delta: Any) -> BlockDelta:
        self._seen = True
        return BlockDelta(self._open, delta)

    # ---------------------------------------------------------------- handlers

    def _created(self, ev: _Event) -> list[Event]:
        if self._started or not _given(ev.response):
            return []
        self._started = True
        body = _body_decoder.decode(ev.response)
        return [MessageStart(id=body.id, model=body.model, created=int(body.created_at or 0))]

    def _ignore(self, ev: _Event) -> list[Event]:
        return []

    def _item_added(self, ev: _Event) -> list[Event]:
        item = decode_item(ev.item) if _given(ev.item) else None
        if item is None or item.type == "message":
            return []  # message blocks start with their parts; other items arrive whole at .done
        out = self._stop()
        out.append(self._begin_item(item, ev.output_index))
        if item.type == "function_call" and item.arguments:
            out.append(self._delta(ArgumentsDelta(item.arguments)))
        return out

    def _begin_item(self, item: OutputItem, out: int) -> BlockStart:
        if item.type == "function_call":
            self._tool_call = True
            return self._begin(_TOOL, out, -1, ToolCallBlock(item.call_id or item.id or "", item.name or ""))
        return self._begin(_THINK, out, -1, ThinkingBlock("", id=item.id or "", signature_source=NAME))

    def _part_added(self, ev: _Event) -> list[Event]:
        if ev.part is None or ev.part.type not in ("output_text", "refusal"):
            return []  # reasoning_text parts belong to the reasoning item's block
        out = self._stop()
        out.append(self._begin(_TEXT, ev.output_index, ev.content_index, TextBlock("")))
        return out

    def _text_delta(self, ev: _Event) -> list[Event]:
        """Text for a part that is not the open one (its ``content_part.added`` was skipped)."""
        out: list[Event] = []
        if not (self._is_open(_TEXT, ev.output_index) and self._part == ev.content_index):
            out = self._stop()
            out.append(self._begin(_TEXT, ev.output_index, ev.content_index, TextBlock("")))
        out.append(self._delta(TextDelta(ev.delta or "")))
        return out

    def _text_done(self, ev: _Event) -> list[Event]:
        text = ev.text if ev.text is not None else ev.refusal
        if text and not self._seen and self._is_open(_TEXT, ev.output_index):
            return [self._delta(TextDelta(text))]
        return []

    def _part_done(self, ev: _Event) -> list[Event]:
        if self._is_open(_TEXT, ev.output_index) and self._part == ev.content_index:
            return self._stop()
        return []

    def _args_delta(self, ev: _Event) -> list[Event]:
        return [self._delta(ArgumentsDelta(ev.delta or ""))] if self._is_open(_TOOL, ev.output_index) else []

    def _args_done(self, ev: _Event) -> list[Event]:
        if ev.arguments and not self._seen and self._is_open(_TOOL, ev.output_index):
            return [self._delta(ArgumentsDelta(ev.arguments))]
        return []

    def _thinking_open(self, ev: _Event) -> list[Event]:
        if self._is_open(_THINK, ev.output_index):
            return []
        out = self._stop()
        block = ThinkingBlock("", id=ev.item_id or "", signature_source=NAME)
        out.append(self._begin(_THINK, ev.output_index, -1, block))
        return out

    def _summary_part(self, ev: _Event) -> list[Event]:
        out = self._thinking_open(ev)
        self._summaries += 1
        if self._summaries > 1:
            out.append(self._delta(ThinkingDelta("\n\n")))
        return out

    def _thinking_delta(self, ev: _Event) -> list[Event]:
        out = self._thinking_open(ev)
        out.append(self._delta(ThinkingDelta(ev.delta or "")))
        return out

    def _item_done(self, ev: _Event) -> list[Event]:
        if not _given(ev.item):
            return []
        item = decode_item(ev.item)
        if item is None:
            block = UnknownBlock(msgspec.json.decode(ev.item), ITEM_SOURCE)
            return [*self._stop(), self._begin(_NONE, ev.output_index, -1, block), *self._stop()]
        if item.type == "message":
            return self._message_done(item, ev.output_index)
        out: list[Event] = []
        if not self._is_open(_TOOL if item.type == "function_call" else _THINK, ev.output_index):
            out = self._stop()
            out.append(self._begin_item(item, ev.output_index))
        if item.type == "function_call":
            if not self._seen and item.arguments:
                out.append(self._delta(ArgumentsDelta(item.arguments)))
        else:
            text = "" if self._seen else thinking_text(item)
            if text:
                out.append(self._delta(ThinkingDelta(text)))
            if item.encrypted_content:
                out.append(self._delta(SignatureDelta(item.encrypted_content, NAME)))
        out.extend(self._stop())
        return out

    def _message_done(self, item: OutputItem, out_index: int) -> list[Event]:
        if self._last_out == out_index:
            return self._stop() if self._out == out_index else []
        out = self._stop()  # a message whose parts never streamed: replay it whole
        for j, part in enumerate(item.content or ()):
            out.append(self._begin(_TEXT, out_index, j, TextBlock("")))
            text = part.text if part.text is not None else part.refusal
            if text:
                out.append(self._delta(TextDelta(text)))
            out.extend(self._stop())
        return out

    def _finished(self, ev: _Event) -> list[Event]:
        body = _body_decoder.decode(ev.response) if _given(ev.response) else ResponseBody()
        status = body.status or ev.type.rpartition(".")[2]
        out: list[Event] = []
        if not self._started:
            self._started = True
            out.append(MessageStart(id=body.id, model=body.model, created=int(body.created_at or 0)))
        out.extend(self._stop())
        stop = decode_stop(status, body.incomplete_details, self._tool_call)
        out.append(MessageDelta(stop_reason=stop, usage=decode_usage(body.usage)))
        self._ended = True
        if status in ("failed", "cancelled"):
            err = body.error
            out.append(stream_error(err.code if err else None, err.message if err else None))
        else:
            out.append(MessageStop())
        return out

    def _error(self, ev: _Event) -> list[Event]:
        code, message = ev.code, ev.message
        if isinstance(ev.error, dict):  # some servers nest it: {"type": "error", "error": {...}}
            code, message = code or ev.error.get("code") or ev.error.get("type"), message or ev.error.get("message")
        self._ended = True
        return [*self._stop(), stream_error(code, message)]


def _given(raw: msgspec.Raw) -> bool:
    return len(raw) > 0 and bytes(raw) != b"null"


def _unknown(frame: SSEFrame, kind: str | None) -> list[Event]:
    try:
        raw: Any = msgspec.json.decode(frame.data)
    except msgspec.DecodeError:
        raw = frame.data.decode("utf-8", "replace")
    return [Unknown(raw=raw, event=kind or frame.event, source=NAME)]


_HANDLERS = {
    "response.created": StreamDecoder._created,
    "response.in_progress": StreamDecoder._ignore,
    "response.queued": StreamDecoder._ignore,
    "response.output_item.added": StreamDecoder._item_added,
    "response.content_part.added": StreamDecoder._part_added,
    _TEXT_DELTA: StreamDecoder._text_delta,
    "response.refusal.delta": StreamDecoder._text_delta,
    "response.output_text.done": StreamDecoder._text_done,
    "response.refusal.done": StreamDecoder._text_done,
    "response.content_part.done": StreamDecoder._part_done,
    "response.function_call_arguments.delta": StreamDecoder._args_delta,
    "response.function_call_arguments.done": StreamDecoder._args_done,
    "response.reasoning_summary_part.added": StreamDecoder._summary_part,
    "response.reasoning_summary_part.done": StreamDecoder._ignore,
    "response.reasoning_summary_text.delta": StreamDecoder._thinking_delta,
    "response.reasoning_summary_text.done": StreamDecoder._ignore,
    "response.reasoning_text.delta": StreamDecoder._thinking_delta,
    "response.reasoning_text.done": StreamDecoder._ignore,
    "response.output_item.done": StreamDecoder._item_done,
    "response.completed": StreamDecoder._finished,
    "response.incomplete": StreamDecoder._finished,
    "response.failed": StreamDecoder._finished,
    "error": StreamDecoder._error,
}
