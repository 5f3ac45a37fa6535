"""Anthropic errors: error types the SDK maps to its exceptions, upstream error bodies, stream errors."""

from __future__ import annotations

import json

import anthropic
import pytest

from omniroute.canonical import StreamError
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import anthropic as fmt
from tests.formats.anthropic.harness import decode_chunks, load, sdk_create


@pytest.mark.parametrize(("kind", "status", "etype", "sdk_error"), [
    (ErrorKind.INVALID_REQUEST, None, "invalid_request_error", anthropic.BadRequestError),
    (ErrorKind.AUTHENTICATION, None, "authentication_error", anthropic.AuthenticationError),
    (ErrorKind.PERMISSION, None, "permission_error", anthropic.PermissionDeniedError),
    (ErrorKind.NOT_FOUND, None, "not_found_error", anthropic.NotFoundError),
    (ErrorKind.PAYLOAD_TOO_LARGE, None, "request_too_large", anthropic.APIStatusError),
    (ErrorKind.UNSUPPORTED, None, "invalid_request_error", anthropic.BadRequestError),
    (ErrorKind.RATE_LIMITED, None, "rate_limit_error", anthropic.RateLimitError),
    (ErrorKind.OVERLOADED, None, "overloaded_error", anthropic.InternalServerError),
    (ErrorKind.UPSTREAM_ERROR, 500, "api_error", anthropic.InternalServerError),
    (ErrorKind.UPSTREAM_TIMEOUT, None, "timeout_error", anthropic.APIStatusError),
    (ErrorKind.INTERNAL, None, "api_error", anthropic.InternalServerError),
])
def test_encode_error_types(kind: ErrorKind, status: int | None, etype: str, sdk_error: type) -> None:
    err = GatewayError(kind, "it broke", status=status)
    body = fmt.encode_error(err)
    assert json.loads(body) == {"type": "error", "error": {"type": etype, "message": "it broke"}}
    with pytest.raises(sdk_error) as info:
        sdk_create(err.status, body)
    assert info.value.status_code == err.status
    assert fmt.decode_error(err.status, body).kind is (
        ErrorKind.INVALID_REQUEST if kind is ErrorKind.UNSUPPORTED
        else ErrorKind.UPSTREAM_ERROR if kind is ErrorKind.INTERNAL else kind)


def test_decode_error_fixtures() -> None:
    err = fmt.decode_error(529, load("error_overloaded.json"), "anthropic")
    assert (err.kind, err.status, err.message, err.code, err.provider) == (
        ErrorKind.OVERLOADED, 529, "Overloaded", "overloaded_error", "anthropic")
    assert err.retryable and err.fallback
    err = fmt.decode_error(400, load("error_invalid_request.json"))
    assert (err.kind, err.message) == (ErrorKind.INVALID_REQUEST, "max_tokens: Field required")
    err = fmt.decode_error(429, load("error_rate_limit.json"))
    assert err.kind is ErrorKind.RATE_LIMITED and err.retryable
    err = fmt.decode_error(502, b"<html>Bad Gateway</html>")
    assert (err.kind, err.status, err.message) == (ErrorKind.UPSTREAM_ERROR, 502, "<html>Bad Gateway</html>")
    err = fmt.decode_error(403, b'{"type":"error","error":{"type":"brand_new_error","message":"no"}}')
    assert (err.kind, err.code, err.message) == (ErrorKind.PERMISSION, "brand_new_error", "no")
    assert fmt.decode_error(500, b"").message == "upstream answered HTTP 500"


def test_encode_stream_error() -> None:
    out = fmt.encode_stream_error(GatewayError(ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"))
    assert out == b'event: error\ndata: {"type":"error","error":{"type":"timeout_error",' \
                  b'"message":"upstream timed out"}}\n\n'
    events = decode_chunks([out])
    assert events[0] == StreamError("upstream_timeout", "upstream timed out", 504)
