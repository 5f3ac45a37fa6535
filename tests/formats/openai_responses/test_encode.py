"""OpenAI Responses stream encoding: the openai SDK's event types and accumulator are the judge."""

from __future__ import annotations

import pytest

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    Event,
    ImageBlock,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    RedactedThinkingBlock,
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_responses as orr
from tests.formats.openai_responses.harness import (
    STREAM_EVENTS,
    STREAMS,
    calls,
    decode_stream,
    encode_stream,
    fixture,
    sdk_client,
    sse_payloads,
    texts,
    thoughts,
)
from tests.formats.streams import fold

CANONICAL_STREAM: list[Event] = [
    MessageStart(id="resp_gw1", model="claude-x", created=1700000000),
    Ping(),
    BlockStart(0, ThinkingBlock("")),
    BlockDelta(0, ThinkingDelta("Let me think")),
    BlockDelta(0, ThinkingDelta(" about ünïcödé 🧠")),
    BlockDelta(0, SignatureDelta("EqQBCkYIBxgC")),
    BlockStop(0),
    BlockStart(1, TextBlock("")),
    BlockDelta(1, TextDelta("Sure — ")),
    BlockDelta(1, TextDelta("calling 🔧")),
    BlockStop(1),
    BlockStart(2, TextBlock("")),
    BlockDelta(2, TextDelta("second part")),
    BlockStop(2),
    BlockStart(3, ToolCallBlock("toolu_01A", "get_weather")),
    BlockDelta(3, ArgumentsDelta('{"location": "Par')),
    BlockDelta(3, ArgumentsDelta('is"}')),
    BlockStop(3),
    BlockStart(4, ToolCallBlock("toolu_01B", "get_time")),
    BlockDelta(4, ArgumentsDelta("{}")),
    BlockStop(4),
    MessageDelta(stop_reason=StopReason.TOOL_USE, usage=Usage(100, 50, cached_tokens=20, reasoning_tokens=7)),
    MessageStop(),
]


def test_encoded_stream_validates_against_sdk_event_models() -> None:
    raw = encode_stream(CANONICAL_STREAM)
    payloads = sse_payloads(raw)
    for event_name, data in payloads:
        STREAM_EVENTS.validate_python(data)  # strict: every required field present and typed
        assert event_name == data["type"]
    assert [d["sequence_number"] for _, d in payloads] == list(range(len(payloads)))
    final = payloads[-1][1]
    assert final["type"] == "response.completed"
    kinds = [o["type"] for o in final["response"]["output"]]
    assert kinds == ["reasoning", "message", "function_call", "function_call"]
    message = final["response"]["output"][1]
    assert [p["text"] for p in message["content"]] == ["Sure — calling 🔧", "second part"]
    assert final["response"]["usage"]["total_tokens"] == 150
    text_deltas = [d for _, d in payloads if d["type"] == "response.output_text.delta"]
    assert [(d["output_index"], d["content_index"]) for d in text_deltas] == [(1, 0), (1, 0), (1, 1)]
    assert len({d["item_id"] for d in text_deltas}) == 1


def test_encoded_stream_through_sdk_create_and_accumulator() -> None:
    raw = encode_stream(CANONICAL_STREAM)
    client = sdk_client(raw)
    types = [ev.type for ev in client.responses.create(model="m", input="hi", stream=True)]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    with client.responses.stream(model="m", input="hi") as stream:
        deltas = [ev.delta for ev in stream if ev.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "Sure — calling 🔧second part"
    assert final.output_text == "Sure — calling 🔧second part"
    assert final.id == "resp_gw1"
    assert final.usage is not None and final.usage.input_tokens_details.cached_tokens == 20
    calls_out = [o for o in final.output if o.type == "function_call"]
    assert [(c.call_id, c.name, c.arguments) for c in calls_out] == [
        ("toolu_01A", "get_weather", '{"location": "Paris"}'),
        ("toolu_01B", "get_time", "{}"),
    ]
    reasoning = final.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content == "EqQBCkYIBxgC"


def test_encode_decode_stream_round_trip() -> None:
    back = fold(decode_stream(encode_stream(CANONICAL_STREAM)))
    assert texts(back) == ["Sure — calling 🔧", "second part"]
    assert calls(back) == [("toolu_01A", "get_weather", '{"location": "Paris"}'), ("toolu_01B", "get_time", "{}")]
    ((thinking, signature, item_id),) = thoughts(back)
    assert (thinking, signature) == ("Let me think about ünïcödé 🧠", "EqQBCkYIBxgC")
    assert item_id  # the encoder names the reasoning item
    assert back["stop"] is StopReason.TOOL_USE
    assert back["usage"] == Usage(100, 50, cached_tokens=20, reasoning_tokens=7)


@pytest.mark.parametrize("name", [n for n in STREAMS if n != "midstream_error.sse"])
def test_fixture_decode_encode_decode_is_stable(name: str) -> None:
    first = decode_stream(fixture(name))
    again = fold(decode_stream(encode_stream(first)))
    once = fold(first)
    assert texts(again) == texts(once)
    assert calls(again) == calls(once)
    assert thoughts(again) == thoughts(once)
    assert again["stop"] == once["stop"]
    assert again["usage"] == once["usage"]
    assert [b.raw for b in again["blocks"] if isinstance(b, UnknownBlock)] == [
        b.raw for b in once["blocks"] if isinstance(b, UnknownBlock)
    ]


@pytest.mark.parametrize(
    ("stop", "event", "status"),
    [
        (StopReason.MAX_TOKENS, "response.incomplete", "max_output_tokens"),
        (StopReason.CONTENT_FILTER, "response.incomplete", "content_filter"),
        (StopReason.END_TURN, "response.completed", None),
        (StopReason.ERROR, "response.failed", None),
    ],
)
def test_final_event_follows_stop_reason(stop: StopReason, event: str, status: str | None) -> None:
    events = [
        MessageStart(id="resp_x"),
        BlockStart(0, TextBlock("")),
        BlockDelta(0, TextDelta("a")),
        BlockStop(0),
        MessageDelta(stop_reason=stop, usage=Usage(1, 1)),
        MessageStop(),
    ]
    payloads = sse_payloads(encode_stream(events))
    name, final = payloads[-1]
    assert name == event
    STREAM_EVENTS.validate_python(final)
    assert (final["response"]["incomplete_details"] or {}).get("reason") == status
    back = fold(decode_stream(encode_stream(events)))
    assert back["stop"] is stop or (stop is StopReason.ERROR and back["error"] is not None)


def test_stream_error_becomes_error_event_then_failed() -> None:
    events = [
        MessageStart(id="resp_e"),
        BlockStart(0, TextBlock("")),
        BlockDelta(0, TextDelta("par")),
        StreamError(ErrorKind.RATE_LIMITED.value, "slow down", 429),
    ]
    raw = encode_stream(events)
    payloads = sse_payloads(raw)
    assert [d["type"] for _, d in payloads[-2:]] == ["error", "response.failed"]
    err = payloads[-2][1]
    assert (err["code"], err["message"], err["param"]) == ("rate_limit_exceeded", "slow down", None)
    for _, d in payloads:
        STREAM_EVENTS.validate_python(d)
    sdk_types = [ev.type for ev in sdk_client(raw).responses.create(model="m", input="x", stream=True)]
    assert sdk_types[-2:] == ["error", "response.failed"]
    back = decode_stream(raw)
    assert isinstance(back[-1], StreamError) and back[-1].kind == ErrorKind.RATE_LIMITED.value
    assert texts(fold(back)) == ["par"]


def test_encoder_drops_what_responses_cannot_carry() -> None:
    events = [
        MessageStart(id="resp_d"),
        BlockStart(0, RedactedThinkingBlock("opaque")),
        BlockStop(0),
        BlockStart(1, ImageBlock(url="https://x/y.png")),
        BlockStop(1),
        Unknown(raw={"type": "whatever"}, event="whatever", source="anthropic"),
        BlockStart(2, TextBlock("hi")),
        BlockStop(2),
        MessageDelta(stop_reason=StopReason.END_TURN),
        MessageStop(),
    ]
    payloads = sse_payloads(encode_stream(events))
    final = payloads[-1][1]["response"]
    assert [o["type"] for o in final["output"]] == ["message"]
    assert final["output"][0]["content"][0]["text"] == "hi"
    assert final["usage"] is None


def test_encode_stream_error_alone_is_an_error_event() -> None:
    raw = orr.encode_stream_error(GatewayError(ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"))
    ((name, data),) = sse_payloads(raw)
    assert name == "error"
    STREAM_EVENTS.validate_python(data)
    assert data["message"] == "upstream timed out"


def test_events_after_the_end_are_ignored() -> None:
    encoder = orr.StreamEncoder("m", True)
    for e in [MessageStart(id="resp_z"), MessageDelta(stop_reason=StopReason.END_TURN), MessageStop()]:
        encoder.encode(e)
    assert encoder.encode(StreamError("internal", "late")) == b""
    assert encoder.encode(MessageStop()) == b""
