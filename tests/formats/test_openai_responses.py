"""OpenAI Responses: requests, answers and typed-event streams, both directions.

Golden fixtures in ``tests/fixtures/openai_responses`` are raw upstream bodies/streams in the
shape OpenAI sends them; the ``openai`` SDK (its pydantic models, ``responses.create`` and the
``responses.stream`` accumulator) is the judge of what the encoders write.
"""

from __future__ import annotations

import json
import random
from functools import partial
from typing import Any

import httpx2
import msgspec
import openai
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseStreamEvent
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    DocumentBlock,
    Event,
    ImageBlock,
    Message,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    RedactedThinkingBlock,
    Request,
    Response,
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_responses as orr
from omniroute.formats._framing import SSEFrame
from tests.formats import streams
from tests.formats.streams import fold

fixture = streams.Fixtures("openai_responses")
STREAMS = fixture.names(".sse")
STREAM_EVENTS = pydantic.TypeAdapter(ResponseStreamEvent)
CREATE_PARAMS = pydantic.TypeAdapter(ResponseCreateParamsStreaming)

decode_stream = partial(streams.decode_stream, orr.StreamDecoder)


# --- helpers ----------------------------------------------------------------------------------


def encode_stream(events: list[Event], model: str = "gpt-test") -> bytes:
    return streams.encode_events(orr.StreamEncoder(model, True), events)


def sdk_client(body: bytes, content_type: str = "text/event-stream", status: int = 200) -> openai.OpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers={"content-type": content_type}, content=body)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(api_key="sk-test", base_url="http://upstream.test/v1", http_client=http, max_retries=0)


def validate_create_params(body: dict[str, Any]) -> None:
    """Check a request body against the SDK's param types.

    Assistant history is sent as ``{"type": "message", "role": "assistant", "content":
    [output_text…]}`` without an item id — what Codex sends and the API accepts — but the SDK's
    param union only models that content with an ``id`` and ``status``; those items are checked
    by shape instead.
    """
    items = body.get("input") or []
    for item in items:
        if item.get("role") == "assistant":
            assert item["type"] == "message" and all(p["type"] == "output_text" for p in item["content"])
    others = [i for i in items if i.get("role") != "assistant"]
    CREATE_PARAMS.validate_python({**body, "input": others, "stream": True})


def sse_payloads(raw: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    return [(f.event, json.loads(f.data)) for f in streams.sse_frames(raw)]


def texts(folded: dict[str, Any]) -> list[str]:
    return [b.text for b in folded["blocks"] if isinstance(b, TextBlock)]


def calls(folded: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(b.id, b.name, b.arguments) for b in folded["blocks"] if isinstance(b, ToolCallBlock)]


def thoughts(folded: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(b.thinking, b.signature, b.id) for b in folded["blocks"] if isinstance(b, ThinkingBlock)]


# --- stream decoding: golden fixtures ---------------------------------------------------------


def test_text_stream() -> None:
    got = fold(decode_stream(fixture("text.sse")))
    assert got["start"].id == "resp_68b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3"
    assert got["start"].model == "gpt-4.1-2025-04-14"
    assert got["start"].created == 1756476000
    assert texts(got) == ["Hello! How can I help you today?"]
    assert got["stop"] is StopReason.END_TURN
    assert got["usage"] == Usage(input_tokens=12, output_tokens=10)
    assert got["error"] is None


def test_tool_stream_keeps_raw_argument_json() -> None:
    got = fold(decode_stream(fixture("tools_partial_json.sse")))
    assert calls(got) == [
        ("call_Vq3dKx8mPz1rT0yLw2Ns9HbE", "get_weather", '{"location":"Paris, France","unit":"celsius"}')
    ]
    assert got["stop"] is StopReason.TOOL_USE


def test_parallel_tools_stream() -> None:
    got = fold(decode_stream(fixture("parallel_tools.sse")))
    assert texts(got) == ["Checking both cities."]
    assert [c[0] for c in calls(got)] == ["call_A1b2C3d4E5f6G7h8I9j0K1l2", "call_M3n4O5p6Q7r8S9t0U1v2W3x4"]
    assert [json.loads(c[2])["location"] for c in calls(got)] == ["Paris, France", "Tokyo, Japan"]
    assert [type(b) for b in got["blocks"]] == [TextBlock, ToolCallBlock, ToolCallBlock]
    assert got["stop"] is StopReason.TOOL_USE


def test_thinking_stream_with_encrypted_content() -> None:
    got = fold(decode_stream(fixture("thinking_signature.sse")))
    ((thinking, signature, item_id),) = thoughts(got)
    assert thinking == (
        "**Computing the sum**\n\nThe user asks for 17 + 25. That is 42."
        "\n\n**Double-checking**\n\n17 + 25 = 42, confirmed."
    )
    assert signature is not None and signature.startswith("gAAAAABosVEx")
    assert item_id == "rs_68b1c501aa11bb22cc33dd44ee55ff6677889900aabb"
    assert texts(got) == ["17 + 25 = **42**"]
    assert got["usage"].reasoning_tokens == 192


def test_incomplete_stream_usage_only_in_final_event() -> None:
    events = decode_stream(fixture("usage_only_final.sse"))
    assert all(not isinstance(e, MessageDelta) for e in events[:-2])
    got = fold(events)
    assert got["stop"] is StopReason.MAX_TOKENS
    assert got["usage"] == Usage(input_tokens=2048, output_tokens=64, cached_tokens=1920, reasoning_tokens=40)
    assert thoughts(got) == [("", None, "rs_68b1c2f1aa00bb11cc22dd33ee44ff5566778899")]
    assert texts(got) == ["The three primary colors of light are red,"]
    assert isinstance(events[-1], MessageStop)


def test_midstream_error_ends_with_stream_error() -> None:
    events = decode_stream(fixture("midstream_error.sse"))
    got = fold(events)
    assert texts(got) == ["Once upon a time"]
    err = events[-1]
    assert isinstance(err, StreamError)
    assert err.kind == ErrorKind.UPSTREAM_ERROR.value
    assert "error while processing" in err.message
    assert not any(isinstance(e, MessageStop) for e in events)


def test_builtin_tool_items_and_unknown_events_are_values() -> None:
    events = decode_stream(fixture("web_search.sse"))
    got = fold(events)
    unknown_blocks = [b for b in got["blocks"] if isinstance(b, UnknownBlock)]
    assert [b.raw["type"] for b in unknown_blocks] == ["web_search_call"]
    assert unknown_blocks[0].source == orr.ITEM_SOURCE
    assert unknown_blocks[0].raw["action"]["query"] == "positive news today"
    unknown_events = {e.event for e in events if isinstance(e, Unknown)}
    assert "response.output_text.annotation.added" in unknown_events
    assert "response.web_search_call.searching" in unknown_events
    assert texts(got) == ["A community garden opened in Austin ([example.com](https://example.com/garden))."]
    assert got["stop"] is StopReason.END_TURN


def test_utf8_stream() -> None:
    got = fold(decode_stream(fixture("utf8.sse")))
    assert texts(got) == ["Grüße aus 東京 🎌! Ça va — naïve café 👩‍💻 résumé 中文字符 ✓"]


@pytest.mark.parametrize("name", STREAMS)
def test_random_splits_give_identical_events(name: str) -> None:
    raw = fixture(name)
    whole = decode_stream(raw)
    rng = random.Random(name)
    multibyte = [i for i, byte in enumerate(raw) if byte >= 0x80 and i > 0]
    for _ in range(25):
        cuts = streams.random_cuts(len(raw), rng, most=40)
        cuts += rng.sample(multibyte, k=min(len(multibyte), 3))  # inside multi-byte characters
        assert decode_stream(raw, cuts) == whole
    assert decode_stream(raw, list(range(1, len(raw)))) == whole  # one byte per read


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4000), max_size=30))
def test_any_split_of_the_utf8_stream(cuts: list[int]) -> None:
    raw = fixture("utf8.sse")
    assert decode_stream(raw, [c for c in cuts if c < len(raw)]) == decode_stream(raw)


def test_stream_cut_before_completion_is_a_protocol_error() -> None:
    raw = fixture("text.sse")
    cut = raw[: raw.index(b"event: response.output_text.done")]
    events = decode_stream(cut)
    assert texts(fold(events)) == ["Hello! How can I help you today?"]
    assert isinstance(events[-1], StreamError)
    assert events[-1].kind == ErrorKind.UPSTREAM_PROTOCOL.value


def test_stream_without_part_events_still_yields_text() -> None:
    """Some Responses-compatible servers skip content_part.added/done."""
    frames = [
        {"type": "response.created", "response": {"id": "resp_1", "model": "m", "created_at": 1}},
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "m1"}},
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Hi"},
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": " there"},
        {"type": "response.output_item.done", "output_index": 0, "item": {"type": "message", "id": "m1"}},
        {"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}},
    ]
    decoder = orr.StreamDecoder()
    events = [e for f in frames for e in decoder.feed(SSEFrame(f["type"], msgspec.json.encode(f)))]
    got = fold(events)
    assert texts(got) == ["Hi there"]
    assert got["stop"] is StopReason.END_TURN
    assert decoder.close() == []


def test_done_events_replay_text_no_delta_carried() -> None:
    frames = [
        {"type": "response.created", "response": {"id": "r", "model": "m"}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "function_call", "call_id": "c1", "name": "f", "arguments": ""},
        },
        {"type": "response.function_call_arguments.done", "output_index": 0, "arguments": '{"a":1}'},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a":1}'},
        },
        {
            "type": "response.output_item.done",
            "output_index": 1,
            "item": {
                "type": "reasoning",
                "id": "rs_9",
                "summary": [{"type": "summary_text", "text": "why"}],
                "encrypted_content": "SIG",
            },
        },
        {"type": "response.completed", "response": {"id": "r", "status": "completed"}},
    ]
    decoder = orr.StreamDecoder()
    got = fold([e for f in frames for e in decoder.feed(SSEFrame(None, msgspec.json.encode(f)))])
    assert calls(got) == [("c1", "f", '{"a":1}')]
    assert thoughts(got) == [("why", "SIG", "rs_9")]


def test_malformed_frames_are_unknown_not_exceptions() -> None:
    decoder = orr.StreamDecoder()
    assert isinstance(decoder.feed(SSEFrame("x", b"{not json"))[0], Unknown)
    assert isinstance(decoder.feed(SSEFrame(None, b'{"type": 5}'))[0], Unknown)
    assert decoder.feed(SSEFrame(None, b"[DONE]")) == []


# --- stream encoding: the SDK is the judge ----------------------------------------------------


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


# --- non-streaming answers --------------------------------------------------------------------


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


# --- requests ---------------------------------------------------------------------------------


def test_decode_request_full() -> None:
    req = orr.decode_request(fixture("request_full.json"))
    assert req.model == "gpt-4.1"
    assert [b.text for b in req.system] == ["You are a concise travel assistant.", "Always answer in metric units."]
    user, assistant, results, last = req.messages
    assert user.role == "user"
    image_data, image_url, image_file, pdf, pdf_url, file_ref = user.content[1:]
    assert isinstance(image_data, ImageBlock) and image_data.media_type == "image/jpeg" and image_data.detail == "high"
    assert image_data.data and image_data.data.startswith("/9j/")
    assert isinstance(image_url, ImageBlock) and image_url.url and image_url.url.startswith("https://upload")
    assert isinstance(image_file, UnknownBlock) and image_file.raw["file_id"] == "file-6F2ksmvXxt4VdoqmHRw6kL"
    assert isinstance(pdf, DocumentBlock) and pdf.media_type == "application/pdf" and pdf.title == "itinerary.pdf"
    assert isinstance(pdf_url, DocumentBlock) and pdf_url.url and pdf_url.url.endswith("2024ltr.pdf")
    assert isinstance(file_ref, UnknownBlock) and file_ref.source == orr.NAME
    assert assistant.role == "assistant"
    assert assistant.content == [
        TextBlock("Let me check the weather."),
        ToolCallBlock("call_pWq1x2Y3z4A5b6C7d8E9f0G1", "get_weather", '{"location":"Paris, France","unit":"celsius"}'),
    ]
    result, reference = results.content
    assert result == ToolResultBlock(
        "call_pWq1x2Y3z4A5b6C7d8E9f0G1", [TextBlock('{"temperature":21,"conditions":"sunny"}')], name="get_weather"
    )
    assert reference == UnknownBlock(
        {"type": "item_reference", "id": "ws_67f0c1d2e3f4a5b6c7d8e9f0a1b2c3d6"}, orr.ITEM_SOURCE
    )
    assert last == Message("user", [TextBlock("Thanks! Also book me a table.")])
    assert [t.name for t in req.tools] == ["get_weather", "book_table"]
    assert req.tools[0].strict is True and req.tools[1].strict is False
    assert req.extra["openai_responses"]["tools_builtin"][0]["type"] == "web_search"
    assert req.tool_choice == ToolChoice(ToolChoiceMode.AUTO, parallel=False)
    assert (req.max_tokens, req.temperature, req.top_p, req.stream) == (2048, 0.3, 0.9, True)
    assert req.reasoning is not None and (req.reasoning.effort, req.reasoning.include_thoughts) == ("low", True)
    assert req.response_format is not None and req.response_format.name == "travel_answer"
    assert req.response_format.schema and req.response_format.strict is True
    assert (req.user, req.metadata) == ("user-8431", {"session": "abc-123", "app": "travel-bot"})
    extra = req.extra["openai_responses"]
    assert extra["store"] is True and extra["truncation"] == "auto"
    assert extra["text_verbosity"] == "low" and extra["reasoning_summary"] == "auto"


def test_decode_request_codex() -> None:
    req = orr.decode_request(fixture("request_codex.json"))
    assert [m.role for m in req.messages] == ["user", "user", "assistant", "user", "assistant", "user"]
    thinking, call = req.messages[2].content
    assert isinstance(thinking, ThinkingBlock) and thinking.id and thinking.signature
    assert thinking.thinking.startswith("**Inspecting the test target**")
    assert isinstance(call, ToolCallBlock) and call.name == "shell"
    (result,) = req.messages[3].content
    assert isinstance(result, ToolResultBlock) and result.name == "shell"
    empty_thinking, answer = req.messages[4].content
    assert isinstance(empty_thinking, ThinkingBlock) and empty_thinking.thinking == ""
    assert empty_thinking.signature and empty_thinking.signature.startswith("gAAAAABo0qH9")
    assert answer == TextBlock("`test_login` fails because the response no longer includes `token`.")
    extra = req.extra["openai_responses"]
    assert [t["type"] for t in extra["tools_builtin"]] == ["custom"]
    assert extra["store"] is False and extra["include"] == ["reasoning.encrypted_content"]


def _round_trip(req: Request) -> Request:
    return orr.decode_request(orr.encode_request(req, req.model))


@pytest.mark.parametrize("name", ["request_full.json", "request_codex.json"])
def test_request_decode_encode_decode_round_trip(name: str) -> None:
    first = orr.decode_request(fixture(name))
    body = orr.encode_request(first, first.model)
    validate_create_params(json.loads(body))
    second = orr.decode_request(body)
    assert second.messages == first.messages
    assert "\n\n".join(b.text for b in second.system) == "\n\n".join(b.text for b in first.system)
    assert second.tools == first.tools
    assert second.tool_choice == first.tool_choice
    assert (second.max_tokens, second.temperature, second.top_p, second.stream) == (
        first.max_tokens,
        first.temperature,
        first.top_p,
        first.stream,
    )
    assert second.reasoning == first.reasoning
    assert second.response_format == first.response_format
    assert (second.user, second.metadata) == (first.user, first.metadata)
    for key in ("tools_builtin", "store", "include", "text_verbosity", "reasoning_summary", "prompt_cache_key"):
        assert second.extra["openai_responses"].get(key) == first.extra["openai_responses"].get(key), key


def test_encode_request_shapes_items() -> None:
    req = Request(
        model="claude-x",
        system=[TextBlock("Be brief.")],
        messages=[
            Message(
                "user",
                [
                    TextBlock("hi"),
                    ImageBlock(media_type="image/png", data="iVBOR"),
                    DocumentBlock(media_type="application/pdf", data="JVBER", title="a.pdf"),
                ],
            ),
            Message(
                "assistant",
                [
                    ThinkingBlock("anthropic thoughts", signature="sig-from-anthropic"),
                    TextBlock("calling"),
                    ToolCallBlock("toolu_1", "f", ""),
                ],
            ),
            Message("user", [ToolResultBlock("toolu_1", [TextBlock("a"), TextBlock("b")], is_error=True)]),
        ],
        tools=[Tool("f", "does f", None)],
        tool_choice=ToolChoice(ToolChoiceMode.TOOL, "f", parallel=True),
        extra={"openai_chat": {"frequency_penalty": 1.0, "logit_bias": {}}},  # another format's extras never leak
    )
    body = json.loads(orr.encode_request(req, "gpt-5"))
    validate_create_params(body)
    assert body["model"] == "gpt-5" and body["instructions"] == "Be brief."
    assert "frequency_penalty" not in body and "logit_bias" not in body
    assert [i["type"] for i in body["input"]] == ["message", "message", "function_call", "function_call_output"]
    user = body["input"][0]["content"]
    assert user[1] == {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "auto"}
    assert user[2] == {"type": "input_file", "file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}
    assert body["input"][1]["content"] == [{"type": "output_text", "text": "calling", "annotations": []}]
    assert body["input"][2] == {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"}
    assert body["input"][3]["output"] == [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "f",
            "description": "does f",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        }
    ]
    assert body["tool_choice"] == {"type": "function", "name": "f"} and body["parallel_tool_calls"] is True
    assert "store" not in body and "include" not in body  # no reasoning asked, none sent back


def test_encode_request_sends_encrypted_reasoning_statelessly() -> None:
    req = Request(
        model="m",
        messages=[
            Message("user", [TextBlock("q")]),
            Message("assistant", [ThinkingBlock("sum", signature="gAAAenc", id="rs_1"), TextBlock("a")]),
            Message("user", [TextBlock("q2")]),
        ],
    )
    body = json.loads(orr.encode_request(req, "o4-mini"))
    assert body["input"][1] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "sum"}],
        "id": "rs_1",
        "encrypted_content": "gAAAenc",
    }
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    req.extra = {"openai_responses": {"store": True, "include": ["file_search_call.results"]}}
    body = json.loads(orr.encode_request(req, "o4-mini"))
    assert body["store"] is True
    assert body["include"] == ["file_search_call.results", "reasoning.encrypted_content"]


def test_encode_request_reasoning_from_budget() -> None:
    from omniroute.canonical import Reasoning

    body = json.loads(
        orr.encode_request(Request(model="m", reasoning=Reasoning(budget_tokens=10000, include_thoughts=True)), "o3")
    )
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    off = json.loads(orr.encode_request(Request(model="m", reasoning=Reasoning(enabled=False)), "o3"))
    assert "reasoning" not in off and "store" not in off


def test_encode_request_rejects_stop_sequences() -> None:
    with pytest.raises(GatewayError) as info:
        orr.encode_request(Request(model="m", stop=["\n\n"]), "gpt-4.1")
    assert info.value.kind is ErrorKind.UNSUPPORTED and info.value.param == "stop"


def test_unknown_parts_and_items_pass_through_to_a_responses_upstream() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}
    shell = {
        "type": "local_shell_call",
        "id": "lsh_1",
        "call_id": "c",
        "status": "completed",
        "action": {"type": "exec", "command": ["ls"], "env": {}},
    }
    body = {"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}, audio]}, shell]}
    req = orr.decode_request(json.dumps(body).encode())
    assert req.messages[0].content[1] == UnknownBlock(audio, orr.NAME)
    assert req.messages[0].content[2] == UnknownBlock(shell, orr.ITEM_SOURCE)
    again = json.loads(orr.encode_request(req, "m"))
    assert again["input"][0]["content"][1] == audio
    assert again["input"][1] == shell


def test_string_input_and_typeless_items() -> None:
    req = orr.decode_request(b'{"model": "m", "input": "hello", "stream": false}')
    assert req.messages == [Message("user", [TextBlock("hello")])] and req.stream is False
    ref = orr.decode_request(b'{"model": "m", "input": [{"id": "msg_1"}]}')
    assert ref.messages[0].content == [UnknownBlock({"id": "msg_1"}, orr.ITEM_SOURCE)]


def _body(**fields: Any) -> bytes:
    return json.dumps({"model": "gpt-4.1", **fields}).encode()


def _user(*parts: Any) -> list[Any]:
    return [{"role": "user", "content": list(parts)}]


BAD_REQUESTS: list[tuple[bytes, str | None]] = [
    (b"{not json", None),
    (b"[1, 2]", None),
    (b"{}", "model"),
    (b'{"model": 5}', "model"),
    (_body(input=5), "input"),
    (_body(input=[{"role": "user"}]), "input.0.content"),
    (_body(input=[{"role": "wizard", "content": "x"}]), "input.0.role"),
    (_body(input=[{"type": "message", "content": "x"}]), "input.0.role"),
    (_body(input=[{"role": "user", "content": 7}]), "input.0.content"),
    (_body(input=["just a string"]), "input.0"),
    (_body(input=_user({"type": "input_text"})), "input.0.content.0.text"),
    (_body(input=_user({"type": "input_text", "text": 5})), "input.0.content.0.text"),
    (_body(input=_user(5)), "input.0.content.0"),
    (_body(input=_user({"type": "input_image", "detail": "auto"})), "input.0.content.0"),
    (_body(input=_user({"type": "input_image", "image_url": "data:image/png,abc"})), "input.0.content.0.image_url"),
    (_body(input=_user({"type": "input_file", "filename": "a.pdf"})), "input.0.content.0"),
    (_body(input=[{"type": "function_call", "name": "f", "arguments": "{}"}]), "input.0.call_id"),
    (_body(input=[{"type": "function_call", "call_id": "c", "arguments": "{}"}]), "input.0.name"),
    (_body(input=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]), "input.0.arguments"),
    (_body(input=[{"type": "function_call_output", "call_id": "c"}]), "input.0.output"),
    (_body(input=[{"type": "function_call_output", "output": "x"}]), "input.0.call_id"),
    (_body(input=[{"type": "reasoning", "id": "rs", "summary": "nope"}]), "input.0.summary"),
    (
        _body(input=[{"role": "system", "content": [{"type": "input_image", "image_url": "https://x"}]}]),
        "input.0.content.0",
    ),
    (_body(tools=[{"type": "function"}]), "tools.0.name"),
    (_body(tools=[{"name": "f"}]), "tools.0.type"),
    (_body(tools=[{"type": "function", "name": "f", "parameters": "oops"}]), "tools.0.parameters"),
    (_body(tools={"type": "function"}), "tools"),
    (_body(tool_choice="sometimes"), "tool_choice"),
    (_body(tool_choice={"type": "function"}), "tool_choice.name"),
    (_body(max_output_tokens="10"), "max_output_tokens"),
    (_body(temperature="hot"), "temperature"),
    (_body(stream="yes"), "stream"),
    (_body(reasoning={"effort": 3}), "reasoning.effort"),
    (_body(text={"format": {"type": "xml"}}), "text.format.type"),
    (_body(text={"format": {"type": "json_schema", "name": "x"}}), "text.format.schema"),
    (_body(instructions=["a"]), "instructions"),
    (_body(metadata="x"), "metadata"),
]


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS)
def test_bad_requests_name_the_field(body: bytes, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        orr.decode_request(body)
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.param == param
    assert info.value.message


# --- errors -----------------------------------------------------------------------------------


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
