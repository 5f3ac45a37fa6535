"""OpenAI Responses non-streaming answers: decode, encode, the openai SDK parsing them."""

from __future__ import annotations

import json

import pytest
from openai.types.responses import Response as SDKResponse

from omniroute.canonical import (
    RedactedThinkingBlock,
    Response,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_responses as orr
from tests.formats.openai_responses.harness import fixture, sdk_client


def test_decode_response_text() -> None:
    resp = orr.decode_response(fixture("response_text.json"))
    assert resp.id.startswith("resp_68b1c2d3")
    assert resp.content == [TextBlock("Hello! How can I help you today?")]
    assert resp.stop_reason is StopReason.END_TURN
    assert resp.usage == Usage(12, 10)
    assert resp.created == 1756476000


def test_decode_response_tool_call() -> None:
    resp = orr.decode_response(fixture("response_tools.json"))
    assert resp.content == [
        ToolCallBlock("call_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2", "get_weather", '{"location":"Boston, MA","unit":"fahrenheit"}')
    ]
    assert resp.stop_reason is StopReason.TOOL_USE


def test_decode_response_reasoning_and_incomplete() -> None:
    resp = orr.decode_response(fixture("response_reasoning.json"))
    thinking = resp.content[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking.startswith("**Computing the sum**") and "\n\n**Double-checking**" in thinking.thinking
    assert thinking.signature and thinking.id == "rs_68b1c501aa11bb22cc33dd44ee55ff6677889900aabb"
    assert resp.usage and resp.usage.reasoning_tokens == 192
    filtered = orr.decode_response(fixture("response_incomplete.json"))
    assert filtered.stop_reason is StopReason.CONTENT_FILTER


@pytest.mark.parametrize(
    ("status", "reason", "stop"),
    [
        ("incomplete", "max_output_tokens", StopReason.MAX_TOKENS),
        ("incomplete", "content_filter", StopReason.CONTENT_FILTER),
        ("failed", None, StopReason.ERROR),
        ("completed", None, StopReason.END_TURN),
        ("in_progress", None, None),
    ],
)
def test_status_to_stop_reason(status: str, reason: str | None, stop: StopReason | None) -> None:
    body = {
        "id": "r",
        "model": "m",
        "status": status,
        "output": [],
        "incomplete_details": {"reason": reason} if reason else None,
    }
    assert orr.decode_response(json.dumps(body).encode()).stop_reason == stop


def test_decode_response_keeps_unknown_items() -> None:
    body = {
        "id": "r",
        "model": "m",
        "status": "completed",
        "output": [
            {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search"}},
            {
                "type": "message",
                "id": "m",
                "role": "assistant",
                "content": [{"type": "refusal", "refusal": "I can't help with that."}],
            },
        ],
    }
    resp = orr.decode_response(json.dumps(body).encode())
    assert resp.content[0] == UnknownBlock(body["output"][0], orr.ITEM_SOURCE)
    assert resp.content[1] == TextBlock("I can't help with that.")


def test_malformed_upstream_answer_is_a_protocol_error() -> None:
    with pytest.raises(GatewayError) as info:
        orr.decode_response(b'{"id": 5}')
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL


CANONICAL_RESPONSE = Response(
    id="msg_01XYZ",
    model="claude-sonnet-4-5",
    content=[
        ThinkingBlock("step one", signature="EqQBsig"),
        TextBlock("Answer: "),
        TextBlock("42 ✓"),
        ToolCallBlock("toolu_9", "lookup", '{"q": "x"}'),
        RedactedThinkingBlock("zzz"),
    ],
    stop_reason=StopReason.TOOL_USE,
    usage=Usage(30, 12, cached_tokens=4, cache_creation_tokens=6, reasoning_tokens=3),
    created=1700000001,
)


def test_encode_response_is_what_the_sdk_parses() -> None:
    body = orr.encode_response(CANONICAL_RESPONSE)
    SDKResponse.model_validate_json(body)  # strict: every required field present
    parsed = sdk_client(body, "application/json").responses.create(model="m", input="hi")
    assert parsed.output_text == "Answer: 42 ✓"
    assert [o.type for o in parsed.output] == ["reasoning", "message", "function_call"]
    assert parsed.usage is not None and parsed.usage.input_tokens_details.cache_write_tokens == 6


def test_encode_decode_response_round_trip() -> None:
    back = orr.decode_response(orr.encode_response(CANONICAL_RESPONSE))
    thinking, t1, t2, call = back.content
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.thinking, thinking.signature) == ("step one", "EqQBsig")
    assert (t1, t2) == (TextBlock("Answer: "), TextBlock("42 ✓"))
    assert call == ToolCallBlock("toolu_9", "lookup", '{"q": "x"}')
    assert back.stop_reason is StopReason.TOOL_USE
    assert back.usage == CANONICAL_RESPONSE.usage
    assert (back.id, back.model, back.created) == ("msg_01XYZ", "claude-sonnet-4-5", 1700000001)


@pytest.mark.parametrize("stop", [StopReason.MAX_TOKENS, StopReason.CONTENT_FILTER, StopReason.END_TURN])
def test_encode_response_stop_reasons_round_trip(stop: StopReason) -> None:
    resp = Response(id="r", model="m", content=[TextBlock("x")], stop_reason=stop, usage=Usage(1, 1))
    body = orr.encode_response(resp)
    SDKResponse.model_validate_json(body)
    assert orr.decode_response(body).stop_reason is stop
