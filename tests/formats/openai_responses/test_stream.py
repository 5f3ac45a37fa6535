"""OpenAI Responses stream decoding: golden fixtures, one canonical block per item or part."""

from __future__ import annotations

import json
import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.canonical import (
    MessageDelta,
    MessageStop,
    StopReason,
    StreamError,
    TextBlock,
    ToolCallBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind
from omniroute.formats import openai_responses as orr
from omniroute.formats.framing import SSEFrame
from tests.formats import streams
from tests.formats.openai_responses.harness import STREAMS, calls, decode_stream, fixture, texts, thoughts
from tests.formats.streams import fold


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
