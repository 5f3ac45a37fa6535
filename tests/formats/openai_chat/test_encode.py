"""OpenAI Chat stream encoding: the openai SDK reading what we write."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    StopReason,
    StreamError,
    TextDelta,
    ToolCallBlock,
    Usage,
)
from omniroute.formats import openai_chat as oc
from tests.formats.openai_chat.harness import STREAMS, decode_stream, encode_all, final, fixture, sdk_stream, sse_data
from tests.formats.streams import check_grammar, fold


def test_encoded_stream_parses_with_the_openai_sdk() -> None:
    events = decode_stream(fixture("parallel_tools.sse"))
    body = encode_all(events, include_usage=True)
    for data in sse_data(body)[:-1]:
        chunk = ChatCompletionChunk.model_validate_json(data)  # strict validation, every field
        assert chunk.model == "client-model" and chunk.object == "chat.completion.chunk"
    chunks = sdk_stream(body)
    assert chunks[0].choices[0].delta.role == "assistant"
    calls: dict[int, list[str]] = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            if tc.id:
                assert tc.type == "function" and tc.function.arguments == ""
                calls[tc.index] = [tc.id, tc.function.name, ""]
            calls[tc.index][2] += tc.function.arguments or ""
    assert calls == {
        0: ["call_9aKfT2mWq1xZ8bVn3cRd4eLs", "get_weather", '{"location": "Paris"}'],
        1: ["call_H3jKp8sLm2qWx7cVb5nZt1Ry", "get_weather", '{"location": "Tokyo"}'],
        2: ["call_Zx4cV6bN8mQ1wE3rT5yU7iO9", "get_time", '{"tz": "Asia/Tokyo"}'],
    }
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 82
    assert chunks[-1].usage.total_tokens == 143


def test_usage_chunk_only_when_the_client_asked() -> None:
    events = decode_stream(fixture("usage_only_final.sse"))
    without = sdk_stream(encode_all(events, include_usage=False))
    assert all(c.choices for c in without) and all(c.usage is None for c in without)
    with_usage = sdk_stream(encode_all(events, include_usage=True))
    usage = with_usage[-1].usage
    assert with_usage[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1320, 203, 1523)
    assert usage.prompt_tokens_details.cached_tokens == 1152
    assert usage.completion_tokens_details.reasoning_tokens == 192


def test_text_and_reasoning_reach_the_sdk() -> None:
    chunks = sdk_stream(encode_all(decode_stream(fixture("reasoning_content.sse"))))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks)
    assert text == "2 + 2 = **4**"
    assert reasoning == "The user asks for 2+2. That is 4."
    assert {c.id for c in chunks} == {"3f4e9a1c-7b2d-4e8f-9a0b-1c2d3e4f5a6b"}
    assert {c.created for c in chunks} == {1753120000}


def test_stream_error_raises_in_the_sdk() -> None:
    body = encode_all(decode_stream(fixture("midstream_error.sse")))
    assert body.endswith(b"data: [DONE]\n\n")
    with pytest.raises(openai.APIError, match="The server had an error"):
        sdk_stream(body)


def test_events_after_the_end_are_ignored() -> None:
    enc = oc.StreamEncoder("m", False)
    enc.encode(MessageStart("id1", "m"))
    assert enc.encode(StreamError("upstream_timeout", "slow", 504)).startswith(b'data: {"error"')
    assert enc.encode(BlockDelta(0, TextDelta("late"))) == b""
    assert enc.encode(MessageStop()) == b""


@pytest.mark.parametrize(
    ("stop", "tools", "finish"),
    [
        (StopReason.END_TURN, False, "stop"),
        (StopReason.MAX_TOKENS, False, "length"),
        (StopReason.STOP_SEQUENCE, False, "stop"),
        (StopReason.CONTENT_FILTER, False, "content_filter"),
        (StopReason.TOOL_USE, True, "tool_calls"),
        (StopReason.END_TURN, True, "tool_calls"),
        (None, False, "stop"),
    ],
)
def test_finish_reasons(stop: StopReason | None, tools: bool, finish: str) -> None:
    events: list[Event] = [MessageStart("c1", "m", None, 5)]
    if tools:
        events += [BlockStart(0, ToolCallBlock("call_1", "f")), BlockDelta(0, ArgumentsDelta("{}")), BlockStop(0)]
    events += [MessageDelta(stop), MessageStop()]
    chunks = sdk_stream(encode_all(events))
    assert chunks[-1].choices[0].finish_reason == finish


def test_encoder_without_message_start_and_with_ping() -> None:
    enc = oc.StreamEncoder("m", True)
    out = enc.encode(BlockDelta(0, TextDelta("hi"))) + enc.encode(Ping())
    out += enc.encode(BlockDelta(0, SignatureDelta("sig"))) + enc.encode(MessageStop())
    assert b": ping\n\n" in out
    chunks = sdk_stream(out)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].id.startswith("chatcmpl-")
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "hi"
    assert chunks[-1].usage.total_tokens == 0


@pytest.mark.parametrize("name", [n for n in STREAMS if "error" not in n])
def test_stream_round_trip(name: str) -> None:
    """decode → encode → decode keeps text, thinking, tool calls (ids, names, raw args), stop, usage."""
    first = decode_stream(fixture(name))
    second = decode_stream(encode_all(first, include_usage=True))
    check_grammar(second)
    assert fold(second)["blocks"] == fold(first)["blocks"]
    a, b = final(first), final(second)
    assert b is not None
    assert b.stop_reason == ((a.stop_reason if a else None) or StopReason.END_TURN)
    assert b.usage == ((a.usage if a else None) or Usage())


def test_text_delta_encoding_matches_json() -> None:
    enc = oc.StreamEncoder('mo"del', False)
    enc.encode(MessageStart("id\\1", "x", None, 7))
    text = 'quote " backslash \\ newline \n emoji 👩‍💻 \u2028'
    chunk = json.loads(sse_data(enc.encode(BlockDelta(0, TextDelta(text))))[0])
    assert chunk["choices"][0]["delta"] == {"content": text}
    assert (chunk["id"], chunk["model"], chunk["created"]) == ("id\\1", 'mo"del', 7)
