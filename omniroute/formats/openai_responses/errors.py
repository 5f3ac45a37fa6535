"""OpenAI Responses errors: OpenAI's error body (OpenAI Chat's code), the ``error`` event that ends a
failed stream, and the stream's error codes ↔ kinds."""

from __future__ import annotations

import msgspec

from omniroute.canonical import StreamError
from omniroute.errors import KIND_TABLE, ErrorKind, GatewayError
from omniroute.formats.framing import encode_sse
from omniroute.formats.openai_chat.errors import OVERLOADED_STATUS, decode_error, encode_error

__all__ = [
    "ERROR_CODES",
    "ERROR_KINDS",
    "OVERLOADED_STATUS",
    "decode_error",
    "encode_error",
    "encode_stream_error",
    "stream_error",
]


#: upstream error ``code`` → kind (anything else is an upstream error)
ERROR_KINDS: dict[str, ErrorKind] = {
    "rate_limit_exceeded": ErrorKind.RATE_LIMITED,
    "insufficient_quota": ErrorKind.RATE_LIMITED,
    "context_length_exceeded": ErrorKind.INVALID_REQUEST,
    "invalid_prompt": ErrorKind.INVALID_REQUEST,
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
}


def stream_error(code: str | None, message: str | None) -> StreamError:
    kind = ERROR_KINDS.get(code or "", ErrorKind.UPSTREAM_ERROR)
    return StreamError(kind.value, message or "the upstream stream failed", KIND_TABLE[kind][0])


#: ErrorKind value → ``response.error.code`` (the SDK's closed list of codes)
ERROR_CODES: dict[str, str] = {
    ErrorKind.RATE_LIMITED.value: "rate_limit_exceeded",
    ErrorKind.INVALID_REQUEST.value: "invalid_prompt",
}
_encode = msgspec.json.Encoder().encode


def encode_stream_error(err: GatewayError) -> bytes:
    """What ends a stream that failed before an encoder could say more: one ``error`` event."""
    code = err.code or ERROR_CODES.get(err.kind.value, "server_error")
    data = {"type": "error", "code": code, "message": err.message, "param": err.param, "sequence_number": 0}
    return encode_sse(_encode(data), "error")
