"""OpenAI Chat stream decoding: fixtures, parallel tool calls, usage-only chunks, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.canonical import (
    BlockDelta,
    BlockStart,
    BlockStop,
    MessageDelta,
    MessageStart,
    MessageStop,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ToolCallBlock,
    Unknown,
    Usage,
)
from omniroute.formats import openai_chat as oc
from omniroute.formats.framing import SSEDecoder, SSEFrame
from tests.formats import streams
from tests.formats.openai_chat.harness import STREAMS, decode_stream, final, fixture
from tests.formats.streams import check_grammar, fold


@pytest.mark.parametrize("name", STREAMS)
def test_fixture_streams_follow_the_grammar(name: str) -> None:
    check_grammar(decode_stream(fixture(name)))


@pytest.mark.parametrize("name", STREAMS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_splits_give_identical_events(name: str, data: st.DataObject) -> None:
    raw = fixture(name)
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=40))
    assert decode_stream(raw, cuts) == decode_stream(raw)


def test_split_inside_every_multibyte_character() -> None:
    raw = fixture("utf8.sse")
    expected = decode_stream(raw)
    inside = streams.inside_characters(raw)
    assert decode_stream(raw, inside) == expected
    assert decode_stream(raw, list(range(len(raw)))) == expected  # one byte per read


def test_text_stream() -> None:
    events = decode_stream(fixture("text.sse"))
    assert events[0] == MessageStart("chatcmpl-BvZk5qRZ8mG2vHc3xT1pLw9sJd0aE", "gpt-4o-2024-08-06", None, 1753120000)
    assert fold(events)["blocks"] == [TextBlock("Hello! How can I help you today?")]
    assert final(events) == MessageDelta(StopReason.END_TURN, None, Usage(19, 10))
    assert type(events[-1]) is MessageStop


def test_utf8_stream() -> None:
    text = "こんにちは、世界！ Ça va ? 👋🏽 👩‍💻 Ελληνικά — 漢字"
    assert fold(decode_stream(fixture("utf8.sse")))["blocks"] == [TextBlock(text)]


def test_tool_call_arguments_stay_raw() -> None:
    events = decode_stream(fixture("tools_partial_json.sse"))
    assert fold(events)["blocks"] == [
        ToolCallBlock("call_Q7bM2xkVb3fJ9LsT1aPz0nYe", "get_weather", '{"location":"Paris, France","unit":"celsius"}')
    ]
    assert sum(type(e) is BlockDelta for e in events) == 12  # streamed live, fragment by fragment
    assert final(events) == MessageDelta(StopReason.TOOL_USE)


def test_parallel_tool_calls_become_sequential_blocks() -> None:
    events = decode_stream(fixture("parallel_tools.sse"))
    assert fold(events)["blocks"] == [
        ToolCallBlock("call_9aKfT2mWq1xZ8bVn3cRd4eLs", "get_weather", '{"location": "Paris"}'),
        ToolCallBlock("call_H3jKp8sLm2qWx7cVb5nZt1Ry", "get_weather", '{"location": "Tokyo"}'),
        ToolCallBlock("call_Zx4cV6bN8mQ1wE3rT5yU7iO9", "get_time", '{"tz": "Asia/Tokyo"}'),
    ]
    assert final(events) == MessageDelta(StopReason.TOOL_USE, None, Usage(82, 61))


def test_interleaved_tool_calls_are_not_mixed_up() -> None:
    events = decode_stream(fixture("parallel_tools_interleaved.sse"))
    check_grammar(events)
    assert fold(events)["blocks"] == [
        ToolCallBlock("chatcmpl-tool-a1", "search", '{"q": "rust async"}'),
        ToolCallBlock("chatcmpl-tool-b2", "lookup", '{"id": 42}'),
    ]
    assert final(events) == MessageDelta(StopReason.TOOL_USE, None, Usage(310, 44))


def test_new_id_at_a_used_index_is_a_new_call() -> None:
    def frame(tc: dict[str, Any]) -> SSEFrame:
        return SSEFrame(None, json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [tc]}}]}).encode())

    dec = oc.StreamDecoder()
    events = dec.feed(frame({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}))
    events += dec.feed(frame({"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}))
    events += dec.close()
    check_grammar(events)
    assert fold(events)["blocks"] == [ToolCallBlock("a", "f", "{}"), ToolCallBlock("b", "g", "{}")]


def test_usage_only_final_chunk_ends_the_message() -> None:
    raw = fixture("usage_only_final.sse")
    frames = SSEDecoder().feed(raw)
    assert frames[-1].data == b"[DONE]"
    dec = oc.StreamDecoder()
    events = [e for f in frames[:-1] for e in dec.feed(f)]  # everything but [DONE]
    assert type(events[-1]) is MessageStop
    assert final(events) == MessageDelta(StopReason.END_TURN, None, Usage(1320, 203, 1152, 0, 192))
    assert dec.feed(frames[-1]) == [] and dec.close() == []


def test_reasoning_content_becomes_a_thinking_block() -> None:
    events = decode_stream(fixture("reasoning_content.sse"))
    assert fold(events)["blocks"] == [ThinkingBlock("The user asks for 2+2. That is 4."), TextBlock("2 + 2 = **4**")]
    assert final(events) == MessageDelta(StopReason.END_TURN, None, Usage(13, 96, 0, 0, 81))


def test_reasoning_field_with_crlf_lines() -> None:
    events = decode_stream(fixture("reasoning_field.sse"))
    assert fold(events)["blocks"] == [
        ThinkingBlock("Need the weather tool."),
        ToolCallBlock("call_b7c8d9e0", "get_weather", '{"city": "Berlin"}'),
    ]


def test_refusal_becomes_text() -> None:
    assert fold(decode_stream(fixture("refusal.sse")))["blocks"] == [TextBlock("I'm sorry, I can't help with that.")]


def test_midstream_error() -> None:
    events = decode_stream(fixture("midstream_error.sse"))
    assert fold(events)["blocks"] == [TextBlock("Once upon a")]
    assert events[-1] == StreamError(
        "upstream_error", "The server had an error while processing your request. Sorry about that!", 502
    )
    assert not any(type(e) is MessageStop for e in events)


def test_midstream_error_with_http_status_code() -> None:
    events = decode_stream(fixture("midstream_error_openrouter.sse"))
    assert events[-1] == StreamError("rate_limited", "Provider returned error: rate limited", 429)


def test_stream_without_done_is_flushed_by_close() -> None:
    events = decode_stream(fixture("length_no_done.sse"))
    assert events[-3:] == [BlockStop(0), MessageDelta(StopReason.MAX_TOKENS), MessageStop()]


def test_truncated_stream_closes_open_block() -> None:
    dec = oc.StreamDecoder()
    events = dec.feed(SSEFrame(None, b'{"id":"x","choices":[{"index":0,"delta":{"content":"par"}}]}'))
    events += dec.close()
    assert events[1:] == [BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("par")), BlockStop(0), MessageStop()]


def test_non_chunk_data_is_unknown_not_an_exception() -> None:
    dec = oc.StreamDecoder()
    assert dec.feed(SSEFrame("weird", b"not json")) == [Unknown("not json", "weird", "openai_chat")]
    assert dec.feed(SSEFrame(None, b'{"choices": 5}')) == [Unknown('{"choices": 5}', None, "openai_chat")]


def test_error_event_with_text_data() -> None:
    dec = oc.StreamDecoder()
    assert dec.feed(SSEFrame("error", b"overloaded")) == [StreamError("upstream_error", "overloaded", 502)]
    assert dec.close() == []
    dec = oc.StreamDecoder()
    bare = b'{"message": "slow down", "type": "rate_limit_error"}'
    assert dec.feed(SSEFrame("error", bare)) == [StreamError("rate_limited", "slow down", 429)]


def test_float_created_is_accepted() -> None:
    events = oc.StreamDecoder().feed(SSEFrame(None, b'{"id":"x","created":1753120000.5,"choices":[]}'))
    assert events == [MessageStart("x", "", None, 1753120000)]


def test_other_choices_are_ignored() -> None:
    dec = oc.StreamDecoder()
    data = b'{"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]}'
    events = dec.feed(SSEFrame(None, data))
    assert fold(events + dec.close())["blocks"] == [TextBlock("A")]
