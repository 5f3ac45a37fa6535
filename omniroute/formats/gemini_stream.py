"""Gemini streams: ``streamGenerateContent?alt=sse`` ↔ canonical stream events.

Upstream (decode): each SSE ``data:`` is a whole ``GenerateContentResponse`` chunk. Text and
thought parts arrive in pieces; a ``functionCall`` part arrives whole; the last chunk carries
``finishReason`` (and the final ``usageMetadata``; earlier chunks carry running usage).
``StreamDecoder`` synthesises blocks: consecutive text parts form one text block, consecutive
thought parts one thinking block (closed after its signature), each ``functionCall`` a whole
tool_call block (BlockStart with the part's thoughtSignature on its block, one ArgumentsDelta
with the args JSON, BlockStop). A thoughtSignature on a plain text part is held until that text
block ends and then emitted as its own ``ThinkingBlock("", signature)`` (see ``gemini``). Every
signature read is labelled Gemini's (``signature_source`` / ``SignatureDelta.source``). An
``{"error": ...}`` chunk becomes ``StreamError``; a stream that ends without a finishReason
ends with ``StreamError(upstream_protocol)``.

Client (encode): ``StreamEncoder(model, include_usage, framing)`` writes chunks as SSE
(``framing="sse"``, what ``alt=sse`` asks for) or as the elements of one JSON array
(``framing="json_array"``, Gemini's default without ``alt=sse``). Text and thought deltas are
spliced into prebuilt bytes. Gemini can only carry whole function calls, so ArgumentsDelta is
buffered per tool block and the ``functionCall`` part is written at BlockStop (inherent; args
that are not a JSON object are sent as ``{}``). The last chunk, written at MessageStop, carries
``finishReason`` and, with ``include_usage``, ``usageMetadata``. ``StreamError`` becomes a final
``{"error": {"code", "message", "status"}}`` element (the ``google-genai`` SDK raises on it).
Gemini's own signatures are written as they come; another format's reasoning state (its
signature deltas, a Responses item id) is held and written at the thinking block's end as one
empty thought part whose ``thoughtSignature`` is an envelope (``omniroute.canonical.envelope``).
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
    ImageBlock,
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
    UnknownBlock,
    Usage,
)
from omniroute.canonical.envelope import collect, is_own
from omniroute.errors import STATUS_KINDS as HTTP_KINDS
from omniroute.errors import ErrorKind
from omniroute.formats._framing import JSONArrayEncoder, SSEFrame, encode_sse
from omniroute.formats.gemini_wire import (
    ENCODER,
    ERROR_STATUSES,
    RESPONSE_DECODER,
    SOURCE,
    STATUS_KINDS,
    STOP_REASONS,
    Blob,
    Candidate,
    Content,
    ErrorBody,
    ErrorDetail,
    FunctionCall,
    GenerateContentResponse,
    Part,
    UsageMetadata,
    client_thought_signature,
    decode_finish,
    decode_usage,
    encode_usage,
    synth_id,
    wire_id,
    wire_signature,
)

_encode_str = msgspec.json.encode


def _unknown_part(part: Part) -> UnknownBlock:
    return UnknownBlock(raw=msgspec.json.decode(ENCODER.encode(part)), source=SOURCE)


def _call_block(part: Part, seed: str) -> ToolCallBlock:
    fc = part.function_call
    assert fc is not None
    args = bytes(fc.args).decode() or "{}"
    sig = part.thought_signature
    return ToolCallBlock(fc.id or synth_id(f"{seed}:{fc.name}"), fc.name, args, sig, SOURCE if sig else None)


def _media_block(part: Part) -> Block:
    blob = part.inline_data
    if blob is not None and blob.mime_type.startswith("image/"):
        return ImageBlock(media_type=blob.mime_type, data=blob.data)
    return _unknown_part(part)


def decode_parts(parts: list[Part], response_id: str) -> list[Block]:
    """Parts of a whole (non-streamed) candidate → canonical blocks."""
    blocks: list[Block] = []
    for i, part in enumerate(parts):
        sig = part.thought_signature
        if part.function_call is not None:
            blocks.append(_call_block(part, f"{response_id}:{i}"))
        elif part.text is not None and part.thought:
            blocks.append(ThinkingBlock(part.text, sig, signature_source=SOURCE if sig else None))
        elif part.text is not None:
            if part.text or not sig:
                blocks.append(TextBlock(part.text))
            if sig:
                blocks.append(ThinkingBlock(signature=sig, signature_source=SOURCE))
        elif part.inline_data is not None:
            blocks.append(_media_block(part))
        elif sig and part.file_data is None and not part.executable_code and not part.code_execution_result:
            blocks.append(ThinkingBlock(signature=sig, signature_source=SOURCE))
        else:
            blocks.append(_unknown_part(part))
    return blocks


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
            self._whole(_call_block(part, f"{self._id}:{self._calls}"), events)
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
            self._whole(_media_block(part), events)
        elif part.thought_signature and part.file_data is None and not part.executable_code:
            self._signature(part.thought_signature, "text", events)
        else:
            self._close(events)
            self._whole(_unknown_part(part), events)

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


class StreamEncoder:
    """Canonical events → Gemini stream bytes (``framing`` "sse" or "json_array")."""

    __slots__ = (
        "_args",
        "_array",
        "_done",
        "_held",
        "_id",
        "_include_usage",
        "_kind",
        "_model",
        "_pre",
        "_stop",
        "_text_post",
        "_thought",
        "_thought_post",
        "_tool",
        "_usage",
    )  # fmt: skip

    def __init__(self, model: str, include_usage: bool = True, framing: str = "sse") -> None:
        self._model = model
        self._include_usage = include_usage
        self._array = JSONArrayEncoder() if framing == "json_array" else None
        self._kind: str | None = None
        self._thought = False
        self._tool: ToolCallBlock | None = None
        self._held: ThinkingBlock | None = None  # the open thinking block's foreign state
        self._args: list[str] = []
        self._stop: StopReason | None = None
        self._usage: Usage | None = None
        self._done = False
        self._prebuild("")

    def _prebuild(self, response_id: str) -> None:
        self._id = response_id
        tail = b',"role":"model"},"index":0}],"modelVersion":' + _encode_str(self._model)
        tail += b',"responseId":' + _encode_str(response_id) + b"}"
        self._pre = b'{"candidates":[{"content":{"parts":[{"text":'
        self._text_post = b"}]" + tail
        self._thought_post = b',"thought":true}]' + tail
        if self._array is None:  # splice the SSE framing in too: one concatenation per delta
            self._pre = b"data: " + self._pre
            self._text_post += b"\n\n"
            self._thought_post += b"\n\n"

    def encode(self, event: Event) -> bytes:
        if type(event) is BlockDelta:
            delta = event.delta
            if type(delta) is TextDelta:
                data = self._pre + _encode_str(delta.text) + self._text_post
                return data if self._array is None else self._array.item(data)
            return self._delta(delta)
        if self._done:
            return b""
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None else b""

    def _frame(self, body: bytes) -> bytes:
        return encode_sse(body) if self._array is None else self._array.item(body)

    def _chunk(self, part: Part | dict, finish: str | None = None, usage: Usage | None = None) -> bytes:
        candidate = Candidate(content=Content(parts=[part], role="model"), finish_reason=finish, index=0)  # type: ignore[list-item]
        meta = encode_usage(usage) if usage is not None and self._include_usage else None
        body = GenerateContentResponse([candidate], None, meta, self._model, self._id)
        return self._frame(ENCODER.encode(body))

    def _delta(self, delta: object) -> bytes:
        if type(delta) is ThinkingDelta:
            self._thought = True
            data = self._pre + _encode_str(delta.thinking) + self._thought_post
            return data if self._array is None else self._array.item(data)
        if type(delta) is ArgumentsDelta:
            self._args.append(delta.partial_json)
        elif type(delta) is SignatureDelta:
            if self._kind == "tool" and self._tool is not None:
                self._tool.signature = client_thought_signature(delta.source, delta.signature, None)
            elif self._kind == "thinking" and (self._held is not None or not is_own(delta.source, SOURCE)):
                self._held = collect(self._held, delta)  # another format's: written packed at the end
            elif self._kind == "thinking" and (sig := wire_signature(delta.signature)):
                return self._chunk(Part(text="", thought=self._thought or None, thought_signature=sig))
        return b""

    def _message_start(self, event: MessageStart) -> bytes:
        self._prebuild(event.id)
        return b""

    def _block_start(self, event: BlockStart) -> bytes:
        block = event.block
        kind = type(block)
        self._kind = "text" if kind is TextBlock else "thinking" if kind is ThinkingBlock else None
        self._thought = False
        self._held = None
        if kind is ThinkingBlock and not is_own(block.signature_source, SOURCE):
            self._held = ThinkingBlock(id=block.id, signature_source=block.signature_source)
        if kind is ToolCallBlock:
            self._kind, self._args = "tool", []
            signature = client_thought_signature(block.signature_source, block.signature, None)
            self._tool = ToolCallBlock(id=block.id, name=block.name, signature=signature)
        elif kind is ImageBlock and block.data:
            return self._chunk(Part(inline_data=Blob(block.media_type or "image/png", block.data)))
        elif kind is UnknownBlock and block.source == SOURCE and isinstance(block.raw, dict):
            return self._chunk(block.raw)
        return b""

    def _block_stop(self, event: BlockStop) -> bytes:
        tool, self._tool, self._kind = self._tool, None, None
        held, self._held = self._held, None
        if held is not None:
            sig = client_thought_signature(held.signature_source, held.signature, held.id)
            return self._chunk(Part(text="", thought=self._thought or None, thought_signature=sig)) if sig else b""
        if tool is None:
            return b""
        text = "".join(self._args) or "{}"
        try:
            ok = isinstance(msgspec.json.decode(text), dict)
        except msgspec.DecodeError:
            ok = False
        args = msgspec.Raw(text.encode() if ok else b"{}")
        call = FunctionCall(name=tool.name, args=args, id=wire_id(tool.id))
        return self._chunk(Part(function_call=call, thought_signature=tool.signature))

    def _message_delta(self, event: MessageDelta) -> bytes:
        self._stop = event.stop_reason or self._stop
        self._usage = event.usage or self._usage
        return b""

    def _message_stop(self, event: MessageStop) -> bytes:
        self._done = True
        finish = STOP_REASONS.get(self._stop, "STOP") if self._stop else "STOP"
        data = self._chunk(Part(text=""), finish, self._usage)
        return data if self._array is None else data + self._array.close()

    def _stream_error(self, event: StreamError) -> bytes:
        self._done = True
        try:
            status = ERROR_STATUSES[ErrorKind(event.kind)]
        except ValueError:
            status = "INTERNAL"
        data = self._frame(ENCODER.encode(ErrorBody(ErrorDetail(event.status, event.message, status))))
        return data if self._array is None else data + self._array.close()


_HANDLERS = {
    MessageStart: StreamEncoder._message_start,
    BlockStart: StreamEncoder._block_start,
    BlockStop: StreamEncoder._block_stop,
    MessageDelta: StreamEncoder._message_delta,
    MessageStop: StreamEncoder._message_stop,
    StreamError: StreamEncoder._stream_error,
}
