"""The Code Assist envelope (``omniroute.formats.gemini_cli``) around Gemini bodies."""

from __future__ import annotations

import json

from omniroute.canonical import Message, Request, TextBlock
from omniroute.formats import gemini_cli
from omniroute.formats.framing import SSEFrame


def test_request_envelope_and_project() -> None:
    req = Request(model="m", messages=[Message("user", [TextBlock("hi")])])
    body = gemini_cli.with_project(gemini_cli.encode_request(req, "gemini-2.5-flash"), "proj")
    data = json.loads(body)
    assert list(data) == ["project", "model", "request"] and data["model"] == "gemini-2.5-flash"
    assert data["request"]["contents"][0]["parts"][0]["text"] == "hi" and "model" not in data["request"]
    assert gemini_cli.with_project(b'{"model":"x"}', "") == b'{"model":"x"}'


def test_responses_are_unwrapped() -> None:
    inner = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP"}]}
    answer = gemini_cli.decode_response(json.dumps({"response": inner, "traceId": "t"}).encode())
    assert answer.content[0].text == "Hi"
    decoder = gemini_cli.StreamDecoder()
    events = decoder.feed(SSEFrame(None, json.dumps({"response": inner}).encode()))
    assert any(getattr(getattr(e, "delta", None), "text", None) == "Hi" for e in events)
