"""OpenAI Chat Completions (``/v1/chat/completions``), both as client and upstream format.

Error body: ``{"error": {"message", "type", "param", "code"}}``. Mid-stream errors are a
``data: {"error": {...}}`` event (the ``openai`` SDK raises ``APIError`` on it) followed by
``data: [DONE]``.
"""

from __future__ import annotations

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats._framing import SSE_DONE, encode_sse

NAME = "openai_chat"
FRAMING = "sse"


class ChatView(msgspec.Struct):
    """The two fields the pass-through path needs; everything else stays raw bytes."""

    model: str
    stream: bool = False


_view_decoder = msgspec.json.Decoder(ChatView)


def decode_view(body: bytes) -> ChatView:
    """Decode just ``model`` and ``stream``; a bad body raises ``INVALID_REQUEST``."""
    try:
        return _view_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, _validation_message(exc), param=_path(exc)) from None
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"request body is not valid JSON: {exc}") from None


def _path(exc: msgspec.ValidationError) -> str | None:
    msg = str(exc)
    at = msg.rfind(" - at `$.")
    return msg[at + 9 : -1] if at >= 0 else None


def _validation_message(exc: msgspec.ValidationError) -> str:
    msg = str(exc)
    if msg.startswith("Object missing required field"):
        return "missing required field " + msg.split("`")[1]
    return msg.replace("`$.", "`")


#: ErrorKind -> OpenAI error ``type``
ERROR_TYPES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.PAYLOAD_TOO_LARGE: "invalid_request_error",
    ErrorKind.UNSUPPORTED: "invalid_request_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.UPSTREAM_ERROR: "upstream_error",
    ErrorKind.UPSTREAM_UNREACHABLE: "upstream_error",
    ErrorKind.UPSTREAM_TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM_PROTOCOL: "upstream_error",
    ErrorKind.INTERNAL: "server_error",
}


class _ErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class _ErrorBody(msgspec.Struct):
    error: _ErrorDetail


_encoder = msgspec.json.Encoder()


def encode_error(err: GatewayError) -> bytes:
    detail = _ErrorDetail(err.message, ERROR_TYPES[err.kind], err.param, err.code or err.kind.value)
    return _encoder.encode(_ErrorBody(detail))


def encode_stream_error(err: GatewayError) -> bytes:
    """The bytes that end a stream that failed after it started."""
    return encode_sse(encode_error(err)) + SSE_DONE


class _UpstreamErrorView(msgspec.Struct):
    error: dict | str | None = None
    message: str | None = None


_upstream_error_decoder = msgspec.json.Decoder(_UpstreamErrorView)


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    """An upstream's error answer → ``GatewayError`` with the upstream's own message."""
    try:
        view = _upstream_error_decoder.decode(body)
        detail = view.error
        message = str(detail.get("message") or "") if isinstance(detail, dict) else detail
        message = message or view.message or ""
    except msgspec.DecodeError:
        message = body[:500].decode("utf-8", "replace").strip()
    return GatewayError.from_status(status, message or f"upstream answered HTTP {status}", provider)
