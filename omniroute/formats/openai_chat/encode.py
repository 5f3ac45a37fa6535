"""OpenAI Chat Completions streams, canonical → ``chat.completion.chunk`` SSE for a client.

``StreamEncoder`` writes OpenAI's chunk sequence: a ``role`` chunk, content/reasoning/tool-call
chunks, a finish chunk, a usage chunk (``choices: []``) only when the client asked for it,
then ``data: [DONE]``. Thinking goes out as ``delta.reasoning_content`` (DeepSeek style);
signatures, redacted thinking and non-text blocks have no place in a chunk and are dropped —
except a tool call's Gemini signature, packed into the call's ``id`` (``canonical.envelope``).
``Ping`` becomes an SSE comment. Text deltas are spliced into prebuilt byte prefixes.
"""

from __future__ import annotations

import time
from typing import Any

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Usage,
)
from omniroute.canonical.envelope import client_call_id
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.framing import SSE_DONE
from omniroute.formats.openai_chat.errors import encode_stream_error
from omniroute.formats.openai_chat.wire import NAME, STOP_TO_FINISH, encode_usage, encoder, new_id

_enc = encoder.encode
_OPEN_END = b'},"finish_reason":null}]}\n\n'
_ARGS_END = b'}}]},"finish_reason":null}]}\n\n'


class StreamEncoder:
    """Canonical events → ``chat.completion.chunk`` SSE bytes for a client.

    ``model`` is the name the client asked for; ``include_usage`` mirrors the client's
    ``stream_options.include_usage`` (the upstream is always asked for usage).
    """

    __slots__ = ("_args_pre", "_base", "_done", "_head", "_include_usage", "_model", "_reason_pre",
                 "_started", "_stop", "_text_pre", "_tools", "_usage")

    def __init__(self, model: str, include_usage: bool = False) -> None:
        self._model = model
        self._include_usage = include_usage
        self._started = False
        self._done = False
        self._tools = 0  # tool calls started so far (their OpenAI index)
        self._stop: StopReason | None = None
        self._usage: Usage | None = None
        self._base = self._head = self._text_pre = self._reason_pre = self._args_pre = b""

    def encode(self, event: Event) -> bytes:
        if type(event) is BlockDelta and not self._done:
            delta = event.delta
            pre = b"" if self._started else self._start(MessageStart())
            if type(delta) is TextDelta:
                return pre + self._text_pre + _enc(delta.text) + _OPEN_END
            if type(delta) is ThinkingDelta:
                return pre + self._reason_pre + _enc(delta.thinking) + _OPEN_END
            if type(delta) is ArgumentsDelta and self._args_pre:
                return pre + self._args_pre + _enc(delta.partial_json) + _ARGS_END
            return pre
        if self._done:
            return b""
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None else b""

    def _start(self, event: MessageStart) -> bytes:
        self._started = True
        chunk_id = _enc(event.id or new_id("chatcmpl-"))
        created = str(event.created or int(time.time())).encode()
        model = _enc(self._model or event.model)
        self._base = b'data: {"id":' + chunk_id + b',"object":"chat.completion.chunk","created":' + created
        self._base += b',"model":' + model
        self._head = self._base + b',"choices":[{"index":0,"delta":{'
        self._text_pre = self._head + b'"content":'
        self._reason_pre = self._head + b'"reasoning_content":'
        return self._head + b'"role":"assistant","content":""' + _OPEN_END

    def _message_start(self, event: MessageStart) -> bytes:
        return b"" if self._started else self._start(event)

    def _block_start(self, event: BlockStart) -> bytes:
        pre = b"" if self._started else self._start(MessageStart())
        block = event.block
        if type(block) is ToolCallBlock:
            index = self._tools
            self._tools += 1
            self._args_pre = self._head + b'"tool_calls":[{"index":' + str(index).encode()
            self._args_pre += b',"function":{"arguments":'
            call_id = client_call_id(NAME, block.id or new_id("call_"), block.signature_source, block.signature)
            call = {"index": index, "id": call_id, "type": "function",
                    "function": {"name": block.name, "arguments": block.arguments}}
            return pre + self._head + _enc({"tool_calls": [call]})[1:] + b',"finish_reason":null}]}\n\n'
        if type(block) is TextBlock and block.text:
            return pre + self._text_pre + _enc(block.text) + _OPEN_END
        if type(block) is ThinkingBlock and block.thinking:
            return pre + self._reason_pre + _enc(block.thinking) + _OPEN_END
        return pre

    def _message_delta(self, event: MessageDelta) -> bytes:
        if event.stop_reason is not None:
            self._stop = event.stop_reason
        if event.usage is not None:
            self._usage = event.usage
        return b""

    def _message_stop(self, event: MessageStop) -> bytes:
        pre = b"" if self._started else self._start(MessageStart())
        self._done = True
        reason = STOP_TO_FINISH[self._stop]
        if self._tools and self._stop in (None, StopReason.END_TURN):
            reason = "tool_calls"  # a client loops on this, whatever the upstream said
        out = pre + self._head + b'},"finish_reason":"' + reason.encode() + b'"}]}\n\n'
        if self._include_usage:
            out += self._base + b',"choices":[],"usage":' + _enc(encode_usage(self._usage)) + b"}\n\n"
        return out + SSE_DONE

    def _stream_error(self, event: StreamError) -> bytes:
        self._done = True
        try:
            kind = ErrorKind(event.kind)
        except ValueError:
            kind = ErrorKind.UPSTREAM_ERROR
        return encode_stream_error(GatewayError(kind, event.message, status=event.status))

    def _ping(self, event: Event) -> bytes:
        return b": ping\n\n"


_HANDLERS: dict[type, Any] = {
    MessageStart: StreamEncoder._message_start,
    BlockStart: StreamEncoder._block_start,
    MessageDelta: StreamEncoder._message_delta,
    MessageStop: StreamEncoder._message_stop,
    StreamError: StreamEncoder._stream_error,
    Ping: StreamEncoder._ping,
}
