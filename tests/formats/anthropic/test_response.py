"""Anthropic non-streaming answers: decode, encode, the SDK parsing them, stop reasons."""

from __future__ import annotations

import json

import pytest

from omniroute.canonical import (
    ImageBlock,
    Response,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import anthropic as fmt
from tests.formats.anthropic.harness import load, sdk_create


def test_decode_response_text_with_cache_usage() -> None:
    resp = fmt.decode_response(load("response_text.json"))
    assert resp.id == "msg_01BrHk3cVqGEn7Dr8wFfN2xY" and resp.stop_reason is StopReason.END_TURN
    assert resp.content[0].text.endswith("«la Ville Lumière» 🗼.")
    assert resp.usage == Usage(input_tokens=14 + 1024 + 8192, output_tokens=31, cached_tokens=8192,
                               cache_creation_tokens=1024)


def test_decode_response_tool_use_compacts_input() -> None:
    resp = fmt.decode_response(load("response_tool_use.json"))
    thinking, text, tool = resp.content
    assert thinking.signature.startswith("EqQBCgIYAhIM") and text.text.startswith("I'll check")
    assert tool.arguments == ('{"location":"San Francisco, CA","unit":"celsius","days":3,'
                              '"detail":{"hourly":true,"alerts":null}}')
    assert resp.stop_reason is StopReason.TOOL_USE


@pytest.mark.parametrize("name", ["response_text.json", "response_tool_use.json"])
def test_response_round_trip_and_sdk_parse(name: str) -> None:
    resp = fmt.decode_response(load(name))
    body = fmt.encode_response(resp)
    assert fmt.decode_response(body) == resp
    original = json.loads(load(name))
    msg = sdk_create(200, body)
    assert msg.id == original["id"] and msg.model == original["model"] and msg.type == "message"
    assert msg.stop_reason == original["stop_reason"]
    for key in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        assert getattr(msg.usage, key) == original["usage"][key]
    assert [b.model_dump(exclude_none=True) for b in msg.content] == [
        {k: v for k, v in b.items() if v is not None or k == "input"} for b in original["content"]]


def test_encode_response_fills_what_anthropic_requires() -> None:
    resp = Response(id="", model="gpt-x", content=[
        ThinkingBlock("hmm"), TextBlock(""), ImageBlock(url="u"), ToolCallBlock("c1", "f", '{"cut'),
        UnknownBlock({"type": "x"}, "gemini")])
    body = json.loads(fmt.encode_response(resp))
    assert body["id"].startswith("msg_") and body["stop_reason"] == "tool_use"
    assert body["content"] == [{"type": "thinking", "thinking": "hmm", "signature": ""},
                               {"type": "tool_use", "id": "c1", "name": "f", "input": {}}]
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0}
    body = json.loads(fmt.encode_response(Response(id="r", model="m", usage=Usage(10, 5, reasoning_tokens=3))))
    assert body["stop_reason"] == "end_turn" and body["usage"]["output_tokens_details"] == {"thinking_tokens": 3}


@pytest.mark.parametrize(("wire", "canonical"), [
    ("end_turn", StopReason.END_TURN), ("max_tokens", StopReason.MAX_TOKENS),
    ("stop_sequence", StopReason.STOP_SEQUENCE), ("tool_use", StopReason.TOOL_USE),
    ("pause_turn", StopReason.PAUSE_TURN), ("refusal", StopReason.CONTENT_FILTER),
])
def test_stop_reasons_both_ways(wire: str, canonical: StopReason) -> None:
    body = json.dumps({"id": "m", "model": "x", "content": [], "stop_reason": wire}).encode()
    assert fmt.decode_response(body).stop_reason is canonical
    assert json.loads(fmt.encode_response(Response("m", "x", stop_reason=canonical)))["stop_reason"] == wire


def test_lossy_stop_reasons() -> None:
    body = b'{"id":"m","model":"x","content":[],"stop_reason":"model_context_window_exceeded"}'
    assert fmt.decode_response(body).stop_reason is StopReason.MAX_TOKENS
    unknown = body.replace(b"model_context_window_exceeded", b"new")
    assert fmt.decode_response(unknown).stop_reason is StopReason.END_TURN
    error = fmt.encode_response(Response("m", "x", stop_reason=StopReason.ERROR))
    assert json.loads(error)["stop_reason"] == "end_turn"


@pytest.mark.parametrize("body", [b"{", b'{"model":"x"}', b'{"id":"m","content":[{"type":"text"}]}'])
def test_malformed_responses_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_response(body)
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL
