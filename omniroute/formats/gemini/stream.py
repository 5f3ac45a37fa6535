"""Gemini streams, upstream → canonical: ``streamGenerateContent?alt=sse`` chunks → stream events.

Each SSE ``data:`` is a whole ``GenerateContentResponse`` chunk. Text and thought parts arrive
in pieces; a ``functionCall`` part arrives whole; the last chunk carries ``finishReason`` (and
the final ``usageMetadata``; earlier chunks carry running usage).
``StreamDecoder`` synthesises blocks: consecutive text parts form one text block, consecutive
thought parts one thinking block (closed after its signature), each ``functionCall`` a whole
tool_call block (BlockStart with the part's thoughtSignature on its block, one ArgumentsDelta
with the args JSON, BlockStop). A thoughtSignature on a plain text part is held until that text
block ends and then emitted as its own ``ThinkingBlock("", signature)`` (see ``gemini``). Every
signature read is labelled Gemini's (``signature_source`` / ``SignatureDelta.source``). An
``{"error": ...}`` chunk becomes ``StreamError``; a stream that ends without a finishReason
ends with ``StreamError(upstream_protocol)``.

The encoder, canonical → client, is ``encode.StreamEncoder``.
"""

from __future__ import annotations

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
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Unknown,
)
from omniroute.errors import STATUS_KINDS as HTTP_KINDS
from omniroute.errors import ErrorKind
from omniroute.formats.framing import SSEFrame
from omniroute.formats.gemini.content import call_block, media_block, unknown_part
from omniroute.formats.gemini.errors import STATUS_KINDS
from omniroute.formats.gemini.wire import (
    RESPONSE_DECODER,
    SOURCE,
    ErrorDetail,
    Part,
    UsageMetadata,
    decode_finish,
    decode_usage,
    synth_id,
)


class StreamDecoder:
    """``feed(SSEFrame) -> [Event]`` for an upstream ``alt=sse`` stream."""

    __slots__ = ("_calls", "_done", "_has_calls", "_id", "_index", "_open", "_pending_sig", "_started", "_usage")

    def __init__(self) -> None:
        self._index = -1
        self._open: str | None = None  # "text" | "thinking" while a block is open
        self._pending_sig: str | None = None
        self._started = False
        self._done = False
        self._has_calls = False
        self._calls = 0
        self._id = ""
        self._usage: UsageMetadata | None = None

    def feed(self, frame: SSEFrame) -> list[Event]:
        try:
            chunk = RESPONSE_DECODER.decode(frame.data)
        except msgspec.DecodeError:
            return [Unknown(raw=frame.data.decode("utf-8", "replace"), event=frame.event, source=SOURCE)]
        if self._done:
            return []
        if chunk.error is not None:
            return self._error(chunk.error)
        events: list[Event] = []
        if not self._started:
            self._started = True
            self._id = chunk.response_id or synth_id(frame.data[:512].decode("utf-8", "replace"), "resp_")
            events.append(MessageStart(id=self._id, model=chunk.model_version or ""))
        if chunk.usage_metadata is not None:
            self._usage = chunk.usage_metadata  # running totals; converted once, at the end
        candidate = chunk.candidates[0] if chunk.candidates else None
        if candidate is not None:
            if candidate.content is not None:
                for part in candidate.content.parts:
                    self._part(part, events)
            if candidate.finish_reason:
                self._finish(decode_finish(candidate.finish_reason, self._has_calls), events)
        elif chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason:
            self._finish(StopReason.CONTENT_FILTER, events)
        return events

    def close(self) -> list[Event]:
        if self._done:
            return []
        self._done = True
        events: list[Event] = []
        self._close(events)
        events.append(StreamError(ErrorKind.UPSTREAM_PROTOCOL.value, "Gemini stream ended without a finishReason"))
        return events

    def _part(self, part: Part, events: list[Event]) -> None:
        text = part.text
        if part.function_call is not None:
            self._close(events)
            self._whole(call_block(part, f"{self._id}:{self._calls}"), events)
            self._calls += 1
            self._has_calls = True
        elif text is not None:
            kind = "thinking" if part.thought else "text"
            if text:
                if self._open != kind:
                    self._start(kind, events)
                events.append(BlockDelta(self._index, TextDelta(text) if kind == "text" else ThinkingDelta(text)))
            if part.thought_signature:
                self._signature(part.thought_signature, kind, events)
        elif part.inline_data is not None:
            self._close(events)
            self._whole(media_block(part), events)
        elif part.thought_signature and part.file_data is None and not part.executable_code:
            self._signature(part.thought_signature, "text", events)
        else:
            self._close(events)
            self._whole(unknown_part(part), events)

    def _start(self, kind: str, events: list[Event]) -> None:
        self._close(events)
        self._index += 1
        self._open = kind
        events.append(BlockStart(self._index, TextBlock("") if kind == "text" else ThinkingBlock()))

    def _close(self, events: list[Event]) -> None:
        if self._open is not None:
            events.append(BlockStop(self._index))
            self._open = None
        if self._pending_sig is not None:
            sig, self._pending_sig = self._pending_sig, None
            self._whole(ThinkingBlock(signature=sig), events)

    def _signature(self, sig: str, kind: str, events: list[Event]) -> None:
        if kind == "text" and self._open == "text":
            self._pending_sig = sig  # emitted as its own block when this text block ends
        elif kind == "text":
            self._close(events)
            self._whole(ThinkingBlock(signature=sig), events)
        else:
            if self._open != "thinking":
                self._start("thinking", events)
            events.append(BlockDelta(self._index, SignatureDelta(sig, SOURCE)))
            self._close(events)

    def _whole(self, block: Block, events: list[Event]) -> None:
        """A block that arrives complete: start (empty payload), its deltas, stop."""
        self._index += 1
        index = self._index
        if type(block) is ToolCallBlock:  # signed calls carry their signature from the start
            events.append(BlockStart(index, msgspec.structs.replace(block, arguments="")))
            events.append(BlockDelta(index, ArgumentsDelta(block.arguments)))
        elif type(block) is ThinkingBlock:
            events.append(BlockStart(index, ThinkingBlock()))
            events.append(BlockDelta(index, SignatureDelta(block.signature or "", SOURCE)))
        else:
            events.append(BlockStart(index, block))
        events.append(BlockStop(index))

    def _finish(self, stop: StopReason, events: list[Event]) -> None:
        self._close(events)
        usage = decode_usage(self._usage) if self._usage is not None else None
        events.append(MessageDelta(stop_reason=stop, usage=usage))
        events.append(MessageStop())
        self._done = True

    def _error(self, err: ErrorDetail) -> list[Event]:
        self._done = True
        kind = STATUS_KINDS.get(err.status) or HTTP_KINDS.get(err.code, ErrorKind.UPSTREAM_ERROR)
        return [StreamError(kind.value, err.message or err.status or "Gemini stream error", err.code or 502)]
