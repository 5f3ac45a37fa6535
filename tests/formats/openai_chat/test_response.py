"""OpenAI Chat non-streaming answers: decode, encode, the openai SDK parsing them."""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion

from omniroute.canonical import ImageBlock, Response, StopReason, TextBlock, ThinkingBlock, ToolCallBlock, Usage
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_chat as oc
from tests.formats.openai_chat.harness import USER, fixture, sdk_client


def test_decode_text_response() -> None:
    resp = oc.decode_response(fixture("response_text.json"))
    assert resp == Response(
        "chatcmpl-BvZt6uV7wX8yZ9aB0cD1eF2gH3iJ",
        "gpt-4o-2024-08-06",
        [TextBlock("Hello! How can I help you today? 😊")],
        StopReason.END_TURN,
        None,
        Usage(19, 10),
        1753120000,
    )


def test_decode_tool_and_reasoning_responses() -> None:
    tools = oc.decode_response(fixture("response_tools.json"))
    assert [b.arguments for b in tools.content] == ['{"location": "Paris"}', '{"location": "Tokyo"}']
    assert tools.stop_reason is StopReason.TOOL_USE and tools.usage == Usage(82, 46, 64)
    reasoning = oc.decode_response(fixture("response_reasoning.json"))
    assert reasoning.content == [ThinkingBlock("The user asks for 2+2. That is 4."), TextBlock("2 + 2 = **4**")]
    assert reasoning.usage == Usage(13, 96, 0, 0, 81)


@pytest.mark.parametrize("name", ["response_text.json", "response_tools.json", "response_reasoning.json"])
def test_response_round_trip_and_sdk(name: str) -> None:
    resp = oc.decode_response(fixture(name))
    body = oc.encode_response(resp)
    completion = ChatCompletion.model_validate_json(body)
    assert completion.id == resp.id and completion.object == "chat.completion"
    assert oc.decode_response(body) == resp
    via_sdk = sdk_client(body, "application/json").chat.completions.create(model="m", messages=[USER])
    assert via_sdk.usage.total_tokens == resp.usage.total_tokens


def test_encode_response_defaults() -> None:
    resp = Response("", "m", [ToolCallBlock("call_1", "f"), ImageBlock("image/png", "AAAA")], StopReason.END_TURN)
    wire = json.loads(oc.encode_response(resp))
    assert wire["id"].startswith("chatcmpl-") and wire["created"] > 0 and "usage" not in wire
    choice = wire["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "function": {"name": "f", "arguments": "{}"}, "type": "function"}]}


def test_decode_response_errors() -> None:
    with pytest.raises(GatewayError) as info:
        oc.decode_response(b"<html>bad gateway</html>")
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL
    with pytest.raises(GatewayError) as info:
        oc.decode_response(b'{"error": {"message": "quota", "type": "rate_limit_error"}}')
    assert info.value.kind is ErrorKind.RATE_LIMITED and info.value.message == "quota"


def test_finish_reasons_decode() -> None:
    body = b'{"id":"x","model":"m","choices":[{"index":0,"message":{"content":"a"},"finish_reason":"%s"}]}'
    expected = {"stop": StopReason.END_TURN, "length": StopReason.MAX_TOKENS, "tool_calls": StopReason.TOOL_USE,
                "function_call": StopReason.TOOL_USE, "content_filter": StopReason.CONTENT_FILTER,
                "eos": StopReason.END_TURN}
    for wire, stop in expected.items():
        assert oc.decode_response(body % wire.encode()).stop_reason is stop
