"""OpenAI Responses errors (OpenAI's error body, upstream error answers) and the package contract."""

from __future__ import annotations

import json

import pytest

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_responses as orr
from tests.formats.openai_responses.harness import fixture


def test_encode_error_is_the_openai_shape() -> None:
    err = GatewayError(ErrorKind.INVALID_REQUEST, "bad input", param="input.0.role")
    body = json.loads(orr.encode_error(err))
    assert body == {
        "error": {
            "message": "bad input",
            "type": "invalid_request_error",
            "param": "input.0.role",
            "code": "invalid_request",
        }
    }


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [("error_400.json", 400, ErrorKind.INVALID_REQUEST), ("error_429.json", 429, ErrorKind.RATE_LIMITED)],
)
def test_decode_error_keeps_the_upstream_message(name: str, status: int, kind: ErrorKind) -> None:
    err = orr.decode_error(status, fixture(name), "openai")
    assert err.kind is kind and err.status == status and err.provider == "openai"
    assert err.message == json.loads(fixture(name))["error"]["message"]


def test_module_contract() -> None:
    assert orr.NAME == "openai_responses" and orr.FRAMING == "sse"
    for name in (
        "decode_request",
        "encode_request",
        "decode_response",
        "encode_response",
        "StreamDecoder",
        "StreamEncoder",
        "encode_error",
        "encode_stream_error",
        "decode_error",
    ):
        assert callable(getattr(orr, name)), name
