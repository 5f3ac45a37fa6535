"""Gemini non-streaming answers: decode, encode, the google-genai SDK parsing them."""

from __future__ import annotations

import json

import httpx
import msgspec
import pytest
from google.genai import types as genai_types

from omniroute.canonical import Response, StopReason, TextBlock, ThinkingBlock, ToolCallBlock, Usage
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import gemini as fmt
from tests.formats.gemini.harness import load, sdk_client

SDK_RESPONSE = Response(
    id="resp-9",
    model="gemini-2.5-pro",
    content=[
        ThinkingBlock("plan", signature="c2lnMQ==", signature_source="gemini"),
        TextBlock("Sunny."),
        ToolCallBlock(id="call_x", name="get_weather", arguments='{"city":"Paris"}', signature="c2lnMg==",
                      signature_source="gemini"),
    ],
    stop_reason=StopReason.TOOL_USE,
    usage=Usage(input_tokens=100, output_tokens=40, cached_tokens=30, reasoning_tokens=25),
)


def test_sdk_parses_response() -> None:
    body = fmt.encode_response(SDK_RESPONSE)
    client = sdk_client(lambda request: httpx.Response(200, content=body))
    r = client.models.generate_content(model="gemini-2.5-pro", contents="hi")
    assert r.text == "Sunny."
    (call,) = r.function_calls
    assert (call.name, call.args, call.id) == ("get_weather", {"city": "Paris"}, "call_x")
    assert r.response_id == "resp-9" and r.model_version == "gemini-2.5-pro"
    assert r.candidates[0].finish_reason == genai_types.FinishReason.STOP
    meta = r.usage_metadata
    assert (meta.prompt_token_count, meta.candidates_token_count, meta.thoughts_token_count) == (100, 15, 25)
    assert (meta.cached_content_token_count, meta.total_token_count) == (30, 140)
    assert r.candidates[0].content.parts[0].thought is True
    assert r.candidates[0].content.parts[0].thought_signature == b"sig1"
    assert fmt.decode_response(body).content == SDK_RESPONSE.content


def test_decode_response_with_thoughts_parallel_calls_and_cache() -> None:
    resp = fmt.decode_response(load("response_tools.json"))
    thinking, paris, tokyo = resp.content
    assert thinking == ThinkingBlock("**Planning the lookup**\n\nThe user wants weather for two cities.")
    assert json.loads(paris.arguments) == {"location": "Paris", "unit": "celsius"} and paris.signature
    assert tokyo.signature is None and paris.id != tokyo.id
    assert resp.stop_reason is StopReason.TOOL_USE
    assert resp.usage == Usage(input_tokens=120, output_tokens=110, cached_tokens=64, reasoning_tokens=64)
    assert (resp.id, resp.model) == ("Zk1eaNDQHp6Nz7IP5bK-uAc", "gemini-2.5-pro")


def test_decode_response_prompt_blocked() -> None:
    resp = fmt.decode_response(load("response_prompt_blocked.json"))
    assert resp.content == [] and resp.stop_reason is StopReason.CONTENT_FILTER


@pytest.mark.parametrize(
    "stop", [StopReason.END_TURN, StopReason.MAX_TOKENS, StopReason.CONTENT_FILTER, StopReason.ERROR]
)
def test_response_round_trip(stop: StopReason) -> None:
    signed = ThinkingBlock("", signature="c2ln", signature_source="gemini")
    resp = Response(id="r", model="m", content=[TextBlock("hi"), signed], stop_reason=stop,
                    usage=Usage(3, 4, cached_tokens=1, reasoning_tokens=2))  # fmt: skip
    body = fmt.encode_response(resp)
    parts = json.loads(body)["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "hi", "thoughtSignature": "c2ln"}]  # the signature goes back onto its text part
    assert fmt.decode_response(body) == resp


def test_response_tool_use_round_trip_keeps_real_ids_and_raw_args() -> None:
    resp = msgspec.structs.replace(SDK_RESPONSE)
    back = fmt.decode_response(fmt.encode_response(resp))
    assert back.content == resp.content and back.stop_reason is StopReason.TOOL_USE and back.usage == resp.usage


def test_garbage_response_is_a_protocol_error() -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_response(b"<html>")
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL
