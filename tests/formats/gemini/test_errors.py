"""Gemini errors: RPC statuses both ways, upstream error bodies, stream errors."""

from __future__ import annotations

import json

import pytest

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import gemini as fmt
from tests.formats.gemini.harness import load


@pytest.mark.parametrize(
    ("kind", "status", "rpc"),
    [
        (ErrorKind.INVALID_REQUEST, 400, "INVALID_ARGUMENT"),
        (ErrorKind.AUTHENTICATION, 401, "UNAUTHENTICATED"),
        (ErrorKind.PERMISSION, 403, "PERMISSION_DENIED"),
        (ErrorKind.NOT_FOUND, 404, "NOT_FOUND"),
        (ErrorKind.RATE_LIMITED, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind.INTERNAL, 500, "INTERNAL"),
        (ErrorKind.UPSTREAM_UNREACHABLE, 502, "UNAVAILABLE"),
        (ErrorKind.UPSTREAM_TIMEOUT, 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_encode_error(kind: ErrorKind, status: int, rpc: str) -> None:
    body = json.loads(fmt.encode_error(GatewayError(kind, "nope")))
    assert body == {"error": {"code": status, "message": "nope", "status": rpc}}
    back = fmt.decode_error(status, fmt.encode_error(GatewayError(kind, "nope")))
    assert back.status == status and back.message == "nope"


def test_encode_stream_error_is_an_sse_event() -> None:
    data = fmt.encode_stream_error(GatewayError(ErrorKind.RATE_LIMITED, "slow"))
    assert data == b'data: {"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED"}}\n\n'


def test_decode_error_bodies() -> None:
    err = fmt.decode_error(429, load("error_429.json"), "gemini")
    assert err.kind is ErrorKind.RATE_LIMITED and err.status == 429 and err.provider == "gemini"
    assert err.message.startswith("You exceeded your current quota")
    array = fmt.decode_error(503, b'[{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}]')
    assert array.message == "overloaded" and array.kind is ErrorKind.OVERLOADED and array.retryable
    html = fmt.decode_error(502, b"<html>Bad Gateway</html>")
    assert html.message == "<html>Bad Gateway</html>" and html.status == 502
    assert fmt.decode_error(500, b"").message == "upstream answered HTTP 500"
