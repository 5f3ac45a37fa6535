"""OpenAI's error body ``{"error": {"message", "type", "param", "code"}}`` (OpenAI Responses uses it too).

``encode_error`` words a context-length error as OpenAI does (``context_length_exceeded``);
``encode_stream_error`` is a ``data: {"error": {...}}`` event (the ``openai`` SDK raises
``APIError`` on it) followed by ``data: [DONE]``; ``decode_error_object`` reads an ``error``
member found in a stream, ``decode_error`` an upstream's error answer.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import StreamError
from omniroute.errors import STATUS_KINDS, ErrorKind, GatewayError
from omniroute.formats.error_words import context_message, recognise
from omniroute.formats.framing import SSE_DONE, encode_sse
from omniroute.formats.openai_chat.wire import encoder

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


def encode_error(err: GatewayError) -> bytes:
    message, param, code = err.message, err.param, err.code or err.kind.value
    if err.kind is ErrorKind.CONTEXT_LENGTH:
        message, param, code = context_message(err, *CONTEXT_WORDS), "messages", "context_length_exceeded"
    return encoder.encode(_ErrorBody(_ErrorDetail(message, ERROR_TYPES[err.kind], param, code)))


def encode_stream_error(err: GatewayError) -> bytes:
    """The bytes that end a stream that failed after it started."""
    return encode_sse(encode_error(err)) + SSE_DONE


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


class _UpstreamErrorView(msgspec.Struct):
    error: dict | str | None = None
    message: str | None = None


_upstream_error_decoder = msgspec.json.Decoder(_UpstreamErrorView)


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    """An upstream's error answer → ``GatewayError`` with the upstream's own message."""
    code = None
    try:
        view = _upstream_error_decoder.decode(body)
        detail = view.error
        message = str(detail.get("message") or "") if isinstance(detail, dict) else detail
        message = message or view.message or ""
        code = detail.get("code") if isinstance(detail, dict) else None
    except msgspec.DecodeError:
        message = body[:500].decode("utf-8", "replace").strip()
    err = GatewayError.from_status(status, message or f"upstream answered HTTP {status}", provider)
    return recognise(err, code if isinstance(code, str) else None)
