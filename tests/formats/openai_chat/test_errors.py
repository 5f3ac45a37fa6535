"""OpenAI Chat errors: the error body, upstream errors, stream errors."""

from __future__ import annotations

import json

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_chat as oc
from tests.formats.openai_chat.harness import fixture


def test_error_bodies() -> None:
    err = GatewayError(ErrorKind.INVALID_REQUEST, "bad", param="messages[0].role")
    assert json.loads(oc.encode_error(err)) == {"error": {
        "message": "bad", "type": "invalid_request_error", "param": "messages[0].role", "code": "invalid_request"}}
    upstream = oc.decode_error(400, fixture("error_400.json"), "openai")
    assert upstream.kind is ErrorKind.INVALID_REQUEST and upstream.status == 400
    assert upstream.message.startswith("Invalid type for 'messages[0].content'")
    assert oc.encode_stream_error(err).endswith(b"\n\ndata: [DONE]\n\n")
