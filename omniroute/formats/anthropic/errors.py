"""Anthropic errors: ``{"type": "error", "error": {"type", "message"}}``, kinds ↔ error types.

``encode_error`` answers a failed request, ``encode_stream_error`` (``event: error``) ends a
stream that failed after it started, ``decode_error`` reads an upstream's error answer (kind
from the error type, else the status). A 529 ``overloaded_error`` stays itself; a context-length
error is worded as Anthropic words it (Claude Code reads the figures).
"""

from __future__ import annotations

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic.wire import json_encode
from omniroute.formats.error_words import context_message, recognise
from omniroute.formats.framing import encode_sse

#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 529

#: ErrorKind -> Anthropic error ``type`` (https://docs.anthropic.com/en/api/errors)
ERROR_TYPES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.PAYLOAD_TOO_LARGE: "request_too_large",
    ErrorKind.UNSUPPORTED: "invalid_request_error",
    ErrorKind.CONTEXT_LENGTH: "invalid_request_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.UPSTREAM_ERROR: "api_error",
    ErrorKind.UPSTREAM_UNREACHABLE: "api_error",
    ErrorKind.UPSTREAM_TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM_PROTOCOL: "api_error",
    ErrorKind.INTERNAL: "api_error",
}

#: Anthropic error ``type`` -> (kind, the status Anthropic answers it with)
ERROR_KINDS: dict[str, tuple[ErrorKind, int]] = {
    "invalid_request_error": (ErrorKind.INVALID_REQUEST, 400),
    "authentication_error": (ErrorKind.AUTHENTICATION, 401),
    "billing_error": (ErrorKind.PERMISSION, 402),
    "permission_error": (ErrorKind.PERMISSION, 403),
    "not_found_error": (ErrorKind.NOT_FOUND, 404),
    "request_too_large": (ErrorKind.PAYLOAD_TOO_LARGE, 413),
    "rate_limit_error": (ErrorKind.RATE_LIMITED, 429),
    "api_error": (ErrorKind.UPSTREAM_ERROR, 500),
    "timeout_error": (ErrorKind.UPSTREAM_TIMEOUT, 504),
    "overloaded_error": (ErrorKind.OVERLOADED, 529),
}
#: what Anthropic says when a prompt is over the window (Claude Code reads the figures)
CONTEXT_WORDS = ("prompt is too long: {tokens} tokens > {limit} maximum", "prompt is too long: {message}")


def error_type(kind: ErrorKind, status: int) -> str:
    """The Anthropic error ``type`` for a kind; a 529 upstream error stays ``overloaded_error``."""
    if kind is ErrorKind.UPSTREAM_ERROR and status == 529:
        return "overloaded_error"
    return ERROR_TYPES[kind]


def error_message(err: GatewayError) -> str:
    """Anthropic's own words for the errors clients act on; the message as it is otherwise."""
    if err.kind is ErrorKind.CONTEXT_LENGTH:
        return context_message(err, *CONTEXT_WORDS)
    return err.message


class ErrorDetail(msgspec.Struct):
    type: str
    message: str


class ErrorBody(msgspec.Struct, tag="error", tag_field="type"):
    error: ErrorDetail


def stream_error_bytes(kind: str, message: str, status: int) -> bytes:
    """``event: error`` with Anthropic's error body (the SDK raises ``APIStatusError`` on it)."""
    try:
        etype = error_type(ErrorKind(kind), status)
    except ValueError:
        etype = "api_error"
    return encode_sse(json_encode(ErrorBody(ErrorDetail(etype, message))), "error")


def encode_error(err: GatewayError) -> bytes:
    return json_encode(ErrorBody(ErrorDetail(error_type(err.kind, err.status), error_message(err))))


def encode_stream_error(err: GatewayError) -> bytes:
    """``event: error``: what ends a stream that failed after it started."""
    return stream_error_bytes(err.kind.value, error_message(err), err.status)


class _ErrorInner(msgspec.Struct):
    type: str = ""
    message: str = ""


class _ErrorView(msgspec.Struct):
    error: _ErrorInner | str | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorView)


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    """An Anthropic error answer → ``GatewayError``: kind from the error type (else the
    status), the upstream's status and message kept, the error type as ``code``."""
    etype, message = "", ""
    try:
        view = _error_decoder.decode(body)
        if isinstance(view.error, _ErrorInner):
            etype, message = view.error.type, view.error.message
        else:
            message = view.error or view.message or ""
    except msgspec.DecodeError:
        message = body[:500].decode("utf-8", "replace").strip()
    message = message or f"upstream answered HTTP {status}"
    if etype in ERROR_KINDS:
        err = GatewayError(ERROR_KINDS[etype][0], message, status=status, code=etype, provider=provider)
    else:
        err = GatewayError.from_status(status, message, provider)
        err.code = etype or None
    return recognise(err, etype or None)
