"""The usage an upstream answer reports, read from its bytes without decoding the answer.

Usage records need only the upstream's token counts, not the answer: instead of assembling
the whole response (every content block, every stream event), ``usage_of`` finds the frame
that carries the counts and decodes that frame alone into a small view, with the format's
own ``decode_usage`` (so the canonical convention holds: ``input_tokens`` counts every prompt
token, cached ones included).

==================  ============================================  ==========================
format              non-streaming body                            stream: the frame(s) read
==================  ============================================  ==========================
openai_chat         ``usage``                                     the last chunk whose
                                                                  ``usage`` is an object (the
                                                                  usage-only chunk)
anthropic           ``usage`` (cache reads/writes added in)       ``message_start``'s usage,
                                                                  overwritten field by field
                                                                  by the last
                                                                  ``message_delta``'s
openai_responses    ``usage``                                     the last
                                                                  ``response.completed`` /
                                                                  ``incomplete`` / ``failed``
gemini              ``usageMetadata``                             the last chunk with
                                                                  ``usageMetadata`` (running
                                                                  totals: the last is final)
ollama              ``prompt_eval_count``, ``eval_count``         the last line (``done``)
==================  ============================================  ==========================

``strip_usage_chunks`` removes OpenAI Chat usage-only chunks from whole SSE frames: the
gateway asks an OpenAI-format upstream for usage when the client did not
(``stream_options.include_usage``) and gives the client the stream it asked for.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from omniroute.canonical import Usage
from omniroute.formats.anthropic.wire import UsageWire as AnthropicUsage
from omniroute.formats.anthropic.wire import decode_usage as anthropic_usage
from omniroute.formats.gemini.wire import UsageMetadata
from omniroute.formats.gemini.wire import decode_usage as gemini_usage
from omniroute.formats.openai_chat.wire import WireUsage as ChatUsage
from omniroute.formats.openai_chat.wire import decode_usage as chat_usage
from omniroute.formats.openai_responses.output import decode_usage as responses_usage
from omniroute.formats.openai_responses.wire import WireUsage as ResponsesUsage


class _Chat(msgspec.Struct):
    usage: ChatUsage | None = None


class _Anthropic(msgspec.Struct):
    usage: AnthropicUsage | None = None


class _AnthropicStart(msgspec.Struct):
    message: _Anthropic | None = None


class _Responses(msgspec.Struct):
    usage: ResponsesUsage | None = None


class _ResponsesEvent(msgspec.Struct):
    response: _Responses | None = None


class _Gemini(msgspec.Struct, rename="camel"):
    usage_metadata: UsageMetadata | None = None


class _Ollama(msgspec.Struct):
    prompt_eval_count: int | None = None
    eval_count: int | None = None


class _ChatChunk(msgspec.Struct):
    choices: list[msgspec.Raw] | None = None
    usage: msgspec.Raw = msgspec.Raw(b"null")


_chat = msgspec.json.Decoder(_Chat)
_anthropic = msgspec.json.Decoder(_Anthropic)
_anthropic_start = msgspec.json.Decoder(_AnthropicStart)
_responses = msgspec.json.Decoder(_Responses)
_responses_event = msgspec.json.Decoder(_ResponsesEvent)
_gemini = msgspec.json.Decoder(_Gemini)
_ollama = msgspec.json.Decoder(_Ollama)
_chat_chunk = msgspec.json.Decoder(_ChatChunk)
#: how many frames holding a marker are tried, newest first, before giving up
_TRIES = 8


def usage_of(fmt: str, stream: bool, chunks: list[bytes]) -> Usage | None:
    """The upstream's usage in ``chunks`` (the answer's bytes as read) of format ``fmt``;
    ``None`` when the answer carries none (or is not of that format)."""
    if not chunks:
        return None
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    reader = (_STREAMS if stream else _BODIES).get(fmt)
    if reader is None:
        return None
    try:
        return reader(data)
    except (msgspec.DecodeError, ValueError):
        return None


# -- whole bodies --------------------------------------------------------------------------
def _chat_body(data: bytes) -> Usage | None:
    u = _chat.decode(data).usage
    return chat_usage(u) if u is not None else None


def _anthropic_body(data: bytes) -> Usage | None:
    u = _anthropic.decode(data).usage
    return anthropic_usage(u) if u is not None else None


def _responses_body(data: bytes) -> Usage | None:
    return responses_usage(_responses.decode(data).usage)


def _gemini_body(data: bytes) -> Usage | None:
    u = _gemini.decode(data).usage_metadata
    return gemini_usage(u) if u is not None else None


def _ollama_line(data: bytes) -> Usage | None:
    v = _ollama.decode(data)
    if v.prompt_eval_count is None and v.eval_count is None:
        return None
    return Usage(input_tokens=v.prompt_eval_count or 0, output_tokens=v.eval_count or 0)


# -- streams -------------------------------------------------------------------------------
def _lines_with(data: bytes, marker: bytes, last: bool = True) -> list[bytes]:
    """The JSON payloads of the lines holding ``marker`` (``data:`` stripped), newest first
    (``last``) or oldest first; at most ``_TRIES``."""
    found: list[bytes] = []
    end = len(data)
    pos = 0
    while len(found) < _TRIES:
        at = data.rfind(marker, 0, end) if last else data.find(marker, pos)
        if at < 0:
            break
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        stop = len(data) if stop < 0 else stop
        line = data[start:stop].strip()
        if line.startswith(b"data:"):
            line = line[5:].lstrip()
        found.append(line)
        end, pos = start, stop
    return found


def _first(data: bytes, marker: bytes, read: Callable[[bytes], Usage | None], last: bool = True) -> Usage | None:
    for line in _lines_with(data, marker, last):
        try:
            usage = read(line)
        except msgspec.DecodeError:
            continue
        if usage is not None:
            return usage
    return None


def _chat_stream(data: bytes) -> Usage | None:
    return _first(data, b'"usage"', _chat_body)


def _anthropic_stream(data: bytes) -> Usage | None:
    head = None
    for line in _lines_with(data, b'"message_start"', last=False):
        message = _anthropic_start.decode(line).message
        if message is not None and message.usage is not None:
            head = message.usage
            break
    tail = None
    for line in _lines_with(data, b'"message_delta"'):
        tail = _anthropic.decode(line).usage
        if tail is not None:
            break
    if head is None and tail is None:
        return None
    merged = AnthropicUsage()
    for part in (head, tail):  # message_delta's counts are cumulative: present fields overwrite
        if part is not None:
            for field in AnthropicUsage.__struct_fields__:
                value = getattr(part, field)
                if value is not None:
                    setattr(merged, field, value)
    return anthropic_usage(merged)


def _responses_stream(data: bytes) -> Usage | None:
    for marker in (b'"response.completed"', b'"response.incomplete"', b'"response.failed"'):
        usage = _first(data, marker, _responses_event_usage)
        if usage is not None:
            return usage
    return None


def _responses_event_usage(line: bytes) -> Usage | None:
    body = _responses_event.decode(line).response
    return responses_usage(body.usage) if body is not None else None


def _gemini_stream(data: bytes) -> Usage | None:
    return _first(data, b'"usageMetadata"', _gemini_body)


def _ollama_stream(data: bytes) -> Usage | None:
    return _first(data, b'"done"', _ollama_line)


_BODIES: dict[str, Callable[[bytes], Usage | None]] = {
    "openai_chat": _chat_body, "anthropic": _anthropic_body, "openai_responses": _responses_body,
    "gemini": _gemini_body, "ollama": _ollama_line,
}
_STREAMS: dict[str, Callable[[bytes], Usage | None]] = {
    "openai_chat": _chat_stream, "anthropic": _anthropic_stream, "openai_responses": _responses_stream,
    "gemini": _gemini_stream, "ollama": _ollama_stream,
}


# -- OpenAI Chat: asking for usage, and the client's stream without it ----------------------
_OPTIONS = b'"stream_options"'
_ASK = b'{"stream_options":{"include_usage":true},'


def ask_for_usage(body: bytes) -> bytes | None:
    """A streaming OpenAI Chat body asking for usage (``stream_options.include_usage``), or
    ``None`` when it already does. The body is untouched but for the one member added at the
    front; a body whose own ``stream_options`` says otherwise is decoded and re-encoded."""
    if _OPTIONS not in body:
        at = body.find(b"{")
        return _ASK + body[at + 1 :] if at >= 0 and not body[:at].strip() else None
    data = msgspec.json.decode(body)
    options = data.get("stream_options") if isinstance(data, dict) else None
    if isinstance(options, dict) and options.get("include_usage") is True:
        return None
    data["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return msgspec.json.encode(data)


def strip_usage_chunks(data: bytes) -> bytes:
    """``data`` (whole SSE frames) without OpenAI Chat usage-only chunks (``choices`` empty,
    ``usage`` an object); every other byte as it was. Cheap when there is none: frames are
    decoded only where ``[]`` occurs."""
    at = data.find(b"[]")
    if at < 0:
        return data
    out, done = [], 0
    while at >= 0:
        start = _frame_start(data, done, at)
        end = _frame_end(data, at)
        if _usage_only(data[start:end]):
            out.append(data[done:start])
            done = end
        at = data.find(b"[]", end)
    if not done:
        return data
    out.append(data[done:])
    return b"".join(out)


def _frame_start(data: bytes, done: int, at: int) -> int:
    lf, crlf = data.rfind(b"\n\n", done, at), data.rfind(b"\r\n\r\n", done, at)
    return max(lf + 2 if lf >= 0 else done, crlf + 4 if crlf >= 0 else done)


def _frame_end(data: bytes, at: int) -> int:
    ends = [i + n for i, n in ((data.find(b"\n\n", at), 2), (data.find(b"\r\n\r\n", at), 4)) if i >= 0]
    return min(ends) if ends else len(data)


def _usage_only(frame: bytes) -> bool:
    line = frame.strip()
    if not line.startswith(b"data:"):
        return False
    try:
        chunk = _chat_chunk.decode(line[5:])
    except msgspec.DecodeError:
        return False
    return chunk.choices == [] and bytes(chunk.usage).startswith(b"{")
