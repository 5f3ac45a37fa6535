"""Gemini streams, canonical → client.

``StreamEncoder(model, include_usage, framing)`` writes chunks as SSE (``framing="sse"``, what
``alt=sse`` asks for) or as the elements of one JSON array
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
    UnknownBlock,
    Usage,
)
from omniroute.canonical.envelope import collect, is_own
from omniroute.errors import ErrorKind
from omniroute.formats.framing import JSONArrayEncoder, encode_sse
from omniroute.formats.gemini.errors import ERROR_STATUSES
from omniroute.formats.gemini.wire import (
    ENCODER,
    SOURCE,
    STOP_REASONS,
    Blob,
    Candidate,
    Content,
    ErrorBody,
    ErrorDetail,
    FunctionCall,
    GenerateContentResponse,
    Part,
    client_thought_signature,
    encode_usage,
    wire_id,
    wire_signature,
)

_encode_str = msgspec.json.encode


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
