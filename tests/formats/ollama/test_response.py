"""Ollama non-streaming answers: decode, encode, the ollama SDK parsing them."""

from __future__ import annotations

import json

import httpx
import msgspec
import pytest

from omniroute.canonical import Response, StopReason, TextBlock, ThinkingBlock, ToolCallBlock, Usage
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import ollama as fmt
from tests.formats.ollama.harness import load, sdk_client

SDK_RESPONSE = Response(
    id="r",
    model="qwen3",
    content=[ThinkingBlock("plan", signature="dropped"), TextBlock("Sunny."),
             ToolCallBlock(id="call_x", name="get_weather", arguments='{"city":"Paris"}')],
    stop_reason=StopReason.TOOL_USE,
    usage=Usage(input_tokens=100, output_tokens=40),
    created=1748386497,
)  # fmt: skip


def test_sdk_parses_response() -> None:
    body = fmt.encode_response(SDK_RESPONSE)
    r = sdk_client(lambda request: httpx.Response(200, content=body)).chat(model="qwen3", messages=[])
    assert (r.message.content, r.message.thinking, r.done, r.done_reason) == ("Sunny.", "plan", True, "stop")
    (call,) = r.message.tool_calls
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "Paris"})
    assert (r.prompt_eval_count, r.eval_count, r.created_at) == (100, 40, "2025-05-27T22:54:57.000000Z")


def test_decode_responses() -> None:
    text = fmt.decode_response(load("response_text.json"))
    assert text.content == [ThinkingBlock("The tool said 18."), TextBlock("It is 18 °C in Paris.")]
    assert (text.stop_reason, text.usage, text.model) == (StopReason.END_TURN, Usage(301, 19), "qwen3")
    assert text.created == 1748386501
    tools = fmt.decode_response(load("response_tools.json"))
    (call,) = tools.content
    assert json.loads(call.arguments) == {"location": "Paris", "format": "celsius"} and call.id.startswith("ocall_")
    assert tools.stop_reason is StopReason.TOOL_USE


@pytest.mark.parametrize("stop", [StopReason.END_TURN, StopReason.MAX_TOKENS, StopReason.TOOL_USE])
def test_response_round_trip(stop: StopReason) -> None:
    resp = msgspec.structs.replace(SDK_RESPONSE, stop_reason=stop)
    back = fmt.decode_response(fmt.encode_response(resp))
    assert back.content == [
        ThinkingBlock("plan"),
        TextBlock("Sunny."),
        resp.content[2],
    ]  # signatures: no place in Ollama
    assert back.stop_reason is (StopReason.TOOL_USE if stop is not StopReason.MAX_TOKENS else stop)
    assert (back.usage, back.created, back.model) == (resp.usage, resp.created, "qwen3")


def test_garbage_response_is_a_protocol_error() -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_response(b"not json")
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL
