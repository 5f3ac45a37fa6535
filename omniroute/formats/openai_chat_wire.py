"""OpenAI Chat Completions: the vocabulary shared by requests, answers and streams.

Error body, finish reasons ↔ ``StopReason``, usage, tool-call wire types, validation and
content parts (wire part ↔ canonical block). The mapping tables, and what is lossy, are in
the docstring of ``omniroute.formats.openai_chat``.

Parts are read as ``msgspec.Raw`` and decoded after peeking at ``type``, so an unknown part
becomes ``UnknownBlock(raw, source="openai_chat")`` instead of an error, and a bad known part
names its exact path (``messages[1].content[0].image_url.url``).
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    DocumentBlock,
    ImageBlock,
    StopReason,
    StreamError,
    TextBlock,
    UnknownBlock,
    Usage,
)
from omniroute.errors import STATUS_KINDS, ErrorKind, GatewayError
from omniroute.formats._framing import SSE_DONE, encode_sse
from omniroute.formats.error_words import context_message

NAME = "openai_chat"
#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 503

#: ErrorKind -> OpenAI error ``type`` (OpenAI's own vocabulary; ``code`` carries the kind
#: unless a more specific code is known, e.g. ``model_not_found``, ``context_length_exceeded``)
ERROR_TYPES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "invalid_request_error",
    ErrorKind.PAYLOAD_TOO_LARGE: "invalid_request_error",
    ErrorKind.UNSUPPORTED: "invalid_request_error",
    ErrorKind.CONTEXT_LENGTH: "invalid_request_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.OVERLOADED: "server_error",
    ErrorKind.UPSTREAM_ERROR: "server_error",
    ErrorKind.UPSTREAM_UNREACHABLE: "server_error",
    ErrorKind.UPSTREAM_TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM_PROTOCOL: "server_error",
    ErrorKind.INTERNAL: "server_error",
}
#: what OpenAI says when a prompt is over the window (with and without the figures)
CONTEXT_WORDS = ("This model's maximum context length is {limit} tokens. However, your messages resulted in "
                 "{tokens} tokens. Please reduce the length of the messages.",
                 "This model's maximum context length was exceeded: {message}")

#: OpenAI error ``type`` (as sent by upstreams mid-stream) -> ErrorKind
_TYPE_KINDS: dict[str, ErrorKind] = {
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
    "authentication_error": ErrorKind.AUTHENTICATION,
    "permission_error": ErrorKind.PERMISSION,
    "rate_limit_error": ErrorKind.RATE_LIMITED,
    "timeout_error": ErrorKind.UPSTREAM_TIMEOUT,
}


class _ErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class _ErrorBody(msgspec.Struct):
    error: _ErrorDetail


encoder = msgspec.json.Encoder()


def encode_error(err: GatewayError) -> bytes:
    message, param, code = err.message, err.param, err.code or err.kind.value
    if err.kind is ErrorKind.CONTEXT_LENGTH:
        message, param, code = context_message(err, *CONTEXT_WORDS), "messages", "context_length_exceeded"
    return encoder.encode(_ErrorBody(_ErrorDetail(message, ERROR_TYPES[err.kind], param, code)))


def encode_stream_error(err: GatewayError) -> bytes:
    """The bytes that end a stream that failed after it started."""
    return encode_sse(encode_error(err)) + SSE_DONE


FINISH_TO_STOP: dict[str, StopReason] = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
    "error": StopReason.ERROR,
}

STOP_TO_FINISH: dict[StopReason | None, str] = {
    None: "stop",
    StopReason.END_TURN: "stop",
    StopReason.MAX_TOKENS: "length",
    StopReason.STOP_SEQUENCE: "stop",
    StopReason.TOOL_USE: "tool_calls",
    StopReason.CONTENT_FILTER: "content_filter",
    StopReason.PAUSE_TURN: "stop",
    StopReason.ERROR: "stop",
}


def decode_finish(reason: str | None) -> StopReason | None:
    return None if reason is None else FINISH_TO_STOP.get(reason, StopReason.END_TURN)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


class PromptDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class WireUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: PromptDetails | None = None
    completion_tokens_details: CompletionDetails | None = None
    prompt_cache_hit_tokens: int | None = None  # DeepSeek


def decode_usage(u: WireUsage) -> Usage:
    pd, cd = u.prompt_tokens_details, u.completion_tokens_details
    cached = (pd.cached_tokens if pd else None) or u.prompt_cache_hit_tokens or 0
    return Usage(
        input_tokens=u.prompt_tokens or 0,
        output_tokens=u.completion_tokens or 0,
        cached_tokens=cached,
        cache_creation_tokens=(pd.cache_write_tokens or 0) if pd else 0,
        reasoning_tokens=(cd.reasoning_tokens or 0) if cd else 0,
    )


def encode_usage(u: Usage | None) -> dict[str, Any]:
    u = u or Usage()
    prompt_details: dict[str, int] = {"cached_tokens": u.cached_tokens}
    if u.cache_creation_tokens:
        prompt_details["cache_write_tokens"] = u.cache_creation_tokens
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


def decode_error_object(error: Any) -> StreamError:
    """An ``error`` member found in a stream (``{"message", "type", "code"}`` or a string)."""
    if not isinstance(error, dict):
        return StreamError(ErrorKind.UPSTREAM_ERROR.value, str(error))
    code, etype = error.get("code"), error.get("type")
    if isinstance(code, int) and 400 <= code < 600:  # OpenRouter puts the HTTP status here
        kind = STATUS_KINDS.get(code, ErrorKind.UPSTREAM_ERROR)
        return StreamError(kind.value, str(error.get("message") or ""), code)
    kind = _TYPE_KINDS.get(etype, ErrorKind.UPSTREAM_ERROR) if isinstance(etype, str) else ErrorKind.UPSTREAM_ERROR
    status = 429 if kind is ErrorKind.RATE_LIMITED else 502
    return StreamError(kind.value, str(error.get("message") or etype or "upstream stream error"), status)


class Function(msgspec.Struct):
    name: str
    arguments: str = ""


class OutToolCall(msgspec.Struct):
    """An encoded tool call (``type`` always written)."""

    id: str
    function: Function
    type: str = "function"


def invalid(exc: msgspec.ValidationError, prefix: str = "") -> GatewayError:
    """A msgspec validation error → INVALID_REQUEST naming the path (``messages[0].role``).

    Paths use OpenAI's own style (and ``openai_chat_view``'s), so the pass-through and the
    translating paths name the same ``param`` for the same bad body.
    """
    text, _, at = str(exc).partition(" - at `$")
    path = (prefix + at[:-1]).lstrip(".")
    if text.startswith("Object missing required field"):
        path = f"{path}.{text.split('`')[1]}".lstrip(".")
        text = "missing required field"
    if not path:
        return GatewayError(ErrorKind.INVALID_REQUEST, text)
    return GatewayError(ErrorKind.INVALID_REQUEST, f"{text} at `{path}`", param=path)


def unsupported(message: str, param: str) -> GatewayError:
    return GatewayError(ErrorKind.UNSUPPORTED, message, param=param)


def decode_checked(decoder: msgspec.json.Decoder[Any], data: bytes, prefix: str = "") -> Any:
    """Decode a client body (or a part of it at ``prefix``); bad input is INVALID_REQUEST."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise invalid(exc, prefix) from None
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"request body is not valid JSON: {exc}") from None


# --- content parts ----------------------------------------------------------------------------


class _PartType(msgspec.Struct):
    type: str


class _TextPart(msgspec.Struct):
    text: str
    cache_control: dict[str, Any] | None = None


class _ImageURL(msgspec.Struct):
    url: str
    detail: str | None = None


class _ImagePart(msgspec.Struct):
    image_url: _ImageURL


class _FileRef(msgspec.Struct):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class _FilePart(msgspec.Struct):
    file: _FileRef


class _RefusalPart(msgspec.Struct):
    refusal: str


_part_type_decoder = msgspec.json.Decoder(_PartType)
_PART_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "text": msgspec.json.Decoder(_TextPart),
    "image_url": msgspec.json.Decoder(_ImagePart),
    "file": msgspec.json.Decoder(_FilePart),
    "refusal": msgspec.json.Decoder(_RefusalPart),
}


def decode_content(content: str | list[msgspec.Raw], path: str) -> list[Block]:
    """A message ``content`` (string or parts) at ``path`` → blocks."""
    if isinstance(content, str):
        return [TextBlock(content)]
    return [_decode_part(raw, f"{path}.content[{j}]") for j, raw in enumerate(content)]


def _decode_part(raw: msgspec.Raw, path: str) -> Block:
    decoder = _PART_DECODERS.get(decode_checked(_part_type_decoder, raw, path).type)
    if decoder is None:  # input_audio and types we do not know
        return UnknownBlock(msgspec.json.decode(raw), NAME)
    part = decode_checked(decoder, raw, path)
    if type(part) is _TextPart:
        return TextBlock(part.text, part.cache_control)
    if type(part) is _RefusalPart:
        return TextBlock(part.refusal)
    if type(part) is _ImagePart:
        url, detail = part.image_url.url, part.image_url.detail
        media_type, data = _split_data_url(url)
        return ImageBlock(media_type, data, None, detail) if data is not None else ImageBlock(url=url, detail=detail)
    file = part.file
    if file.file_data is None:  # a file_id only means something to OpenAI itself
        if file.file_id is None:
            message = "file parts need `file_data` or `file_id`"
            raise GatewayError(ErrorKind.INVALID_REQUEST, message, param=path + ".file")
        return UnknownBlock(msgspec.json.decode(raw), NAME)
    media_type, data = _split_data_url(file.file_data)
    return DocumentBlock(media_type, data if data is not None else file.file_data, title=file.filename)


def _split_data_url(url: str) -> tuple[str | None, str | None]:
    """``data:<type>;base64,<data>`` → (type, data); anything else → (None, None)."""
    if not url.startswith("data:"):
        return None, None
    head, sep, data = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None, None
    return head[:-7] or None, data


def encode_content(blocks: list[Block], path: str) -> str | list[Any]:
    """A lone plain text block becomes a string; anything else a list of parts."""
    if len(blocks) == 1 and type(blocks[0]) is TextBlock and blocks[0].cache_control is None:
        return blocks[0].text
    parts = [_encode_part(b, f"{path}.content[{j}]") for j, b in enumerate(blocks)]
    return [p for p in parts if p is not None]


def _encode_part(block: Block, path: str) -> Any:
    if type(block) is TextBlock:
        part: dict[str, Any] = {"type": "text", "text": block.text}
        if block.cache_control is not None:
            part["cache_control"] = block.cache_control
        return part
    if type(block) is ImageBlock:
        url = block.url or (f"data:{block.media_type or 'image/png'};base64,{block.data}" if block.data else None)
        image = {"url": url} if block.detail is None else {"url": url, "detail": block.detail}
        return {"type": "image_url", "image_url": image} if url else None
    if type(block) is DocumentBlock:
        if block.text is not None:
            return {"type": "text", "text": block.text}
        if block.data is None:
            raise unsupported("OpenAI Chat file parts take inline data only, not a document URL", path)
        file = {"file_data": f"data:{block.media_type or 'application/pdf'};base64,{block.data}"}
        return {"type": "file", "file": file if block.title is None else {**file, "filename": block.title}}
    if type(block) is UnknownBlock and block.source == NAME:
        return block.raw
    return None  # thinking / tool blocks in a user turn, foreign unknown blocks: no place here
