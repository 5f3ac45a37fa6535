"""Gemini errors: ``{"error": {"code": <http status>, "message", "status": <RPC status>}}``.

Kinds ↔ Google RPC status names both ways, the words Gemini uses for an over-long prompt, and
the error answer of an upstream (also the ``[{"error": ...}]`` array form).
"""

from __future__ import annotations

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import context_message, recognise
from omniroute.formats.framing import encode_sse
from omniroute.formats.gemini.wire import ENCODER, ErrorBody, ErrorDetail

#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 503

#: ErrorKind -> Google RPC status name
ERROR_STATUSES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "INVALID_ARGUMENT",
    ErrorKind.AUTHENTICATION: "UNAUTHENTICATED",
    ErrorKind.PERMISSION: "PERMISSION_DENIED",
    ErrorKind.NOT_FOUND: "NOT_FOUND",
    ErrorKind.PAYLOAD_TOO_LARGE: "INVALID_ARGUMENT",
    ErrorKind.UNSUPPORTED: "INVALID_ARGUMENT",
    ErrorKind.CONTEXT_LENGTH: "INVALID_ARGUMENT",
    ErrorKind.RATE_LIMITED: "RESOURCE_EXHAUSTED",
    ErrorKind.OVERLOADED: "UNAVAILABLE",
    ErrorKind.UPSTREAM_ERROR: "INTERNAL",
    ErrorKind.UPSTREAM_UNREACHABLE: "UNAVAILABLE",
    ErrorKind.UPSTREAM_TIMEOUT: "DEADLINE_EXCEEDED",
    ErrorKind.UPSTREAM_PROTOCOL: "UNAVAILABLE",
    ErrorKind.INTERNAL: "INTERNAL",
}

#: Google RPC status name -> ErrorKind (for upstream errors whose HTTP status says little)
STATUS_KINDS: dict[str, ErrorKind] = {
    "INVALID_ARGUMENT": ErrorKind.INVALID_REQUEST,
    "FAILED_PRECONDITION": ErrorKind.INVALID_REQUEST,
    "UNAUTHENTICATED": ErrorKind.AUTHENTICATION,
    "PERMISSION_DENIED": ErrorKind.PERMISSION,
    "NOT_FOUND": ErrorKind.NOT_FOUND,
    "RESOURCE_EXHAUSTED": ErrorKind.RATE_LIMITED,
    "UNAVAILABLE": ErrorKind.UPSTREAM_UNREACHABLE,
    "DEADLINE_EXCEEDED": ErrorKind.UPSTREAM_TIMEOUT,
    "INTERNAL": ErrorKind.UPSTREAM_ERROR,
}

#: what Gemini says when a prompt is over the window
CONTEXT_WORDS = ("The input token count ({tokens}) exceeds the maximum number of tokens allowed ({limit}).",
                 "The input token count exceeds the maximum number of tokens allowed: {message}")


def encode_error(err: GatewayError) -> bytes:
    message, status = err.message, err.status
    if err.kind is ErrorKind.CONTEXT_LENGTH:
        message = context_message(err, *CONTEXT_WORDS)
    elif err.kind is ErrorKind.OVERLOADED:
        status = OVERLOADED_STATUS
    return ENCODER.encode(ErrorBody(ErrorDetail(code=status, message=message, status=ERROR_STATUSES[err.kind])))


def encode_stream_error(err: GatewayError) -> bytes:
    """The SSE event ending a failed ``alt=sse`` stream (the ``google-genai`` SDK raises on it).
    For the JSON-array framing feed a ``StreamError`` to the ``StreamEncoder`` instead: only it
    knows whether the array is open."""
    return encode_sse(encode_error(err))


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    """An upstream error body (also the ``[{"error": ...}]`` array form) → ``GatewayError``."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        value = body[:500].decode("utf-8", "replace").strip()
    if isinstance(value, list) and value:
        value = value[0]
    detail = value.get("error") if isinstance(value, dict) else None
    message = (
        str(detail.get("message") or "") if isinstance(detail, dict) else str(value if isinstance(value, str) else "")
    )
    err = GatewayError.from_status(status, message or f"upstream answered HTTP {status}", provider)
    rpc = detail.get("status") if isinstance(detail, dict) else None
    if err.kind is ErrorKind.UPSTREAM_ERROR and rpc in STATUS_KINDS:
        err.kind = STATUS_KINDS[rpc]
    return recognise(err, None, rpc if isinstance(rpc, str) else None)
