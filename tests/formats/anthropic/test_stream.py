"""Anthropic stream decoding: golden fixtures, any read split, every event kept."""

from __future__ import annotations

import pytest

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    RedactedThinkingBlock,
    StopReason,
    StreamError,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import anthropic as fmt
from omniroute.formats.framing import SSEFrame
from tests.formats import streams
from tests.formats.anthropic.harness import SSE_FIXTURES, check_grammar, decode_chunks, fold, load


@pytest.mark.parametrize("name", SSE_FIXTURES)
def test_random_splits_decode_identically(name: str) -> None:
    check_grammar(streams.check_every_split(load(name), decode_chunks, seed=name))


def test_utf8_every_split_point_including_inside_characters() -> None:
    data = load("utf8.sse")
    whole = decode_chunks([data])
    inside = streams.inside_characters(data)
    assert len(inside) > 40
    for i in range(1, len(data)):
        assert decode_chunks([data[:i], data[i:]]) == whole
    text = fold(whole)["blocks"][0].text
    assert text == "Grüße aus Zürich 🇨🇭 — 日本語のテキスト、emoji 👩\u200d💻🚀 and Ελληνικά, escaped é中😀 too."


def test_text_fixture_maps_event_for_event() -> None:
    events = decode_chunks([load("text.sse")])
    assert [type(e) for e in events] == [MessageStart, BlockStart, Ping, BlockDelta, BlockDelta, BlockDelta,
                                         BlockStop, MessageDelta, MessageStop]
    start = events[0]
    assert (start.id, start.model) == ("msg_01XFDUDYJgAACzvnptvVoYEL", "claude-sonnet-4-5-20250929")
    assert start.usage == Usage(input_tokens=21, output_tokens=1)
    assert events[1] == BlockStart(0, TextBlock(""))
    s = fold(events)
    assert s["blocks"][0].text == (
        'Hello! How can I help you today? I can answer questions,\nwrite code, or "explain" things.')
    assert s["stop"] is StopReason.END_TURN
    assert s["usage"] == Usage(input_tokens=21, output_tokens=24)  # input carried from message_start


def test_tool_fixture_keeps_raw_partial_json() -> None:
    s = fold(decode_chunks([load("tools_partial_json.sse")]))
    text, tool = s["blocks"]
    assert text.text == "Okay, let's check the weather for San Francisco, CA:"
    assert (type(tool), tool.name) == (ToolCallBlock, "get_weather")
    assert tool.id == "toolu_01T1x1fJ34qAmk2tNTrN7Up6"
    assert tool.arguments == '{"location": "San Francisco, CA", "unit": "fahrenheit"}'
    assert s["stop"] is StopReason.TOOL_USE


def test_parallel_tools_fixture() -> None:
    s = fold(decode_chunks([load("parallel_tools.sse")]))
    assert [(b.id, b.name, b.arguments) for b in s["blocks"]] == [
        ("toolu_01A09q90qw90lq917835lq9", "get_weather", '{"location": "Paris, France"}'),
        ("toolu_01B7yLv3pTQ2mB8rKx4NnZ2c", "get_time", '{"timezone": "Europe/Paris"}'),
        ("toolu_01C4vX8uJz5HqWw3e9RtYpLm", "list_files", ""),
    ]


def test_thinking_fixture_keeps_signature() -> None:
    s = fold(decode_chunks([load("thinking_signature.sse")]))
    thinking, text = s["blocks"]
    assert type(thinking) is ThinkingBlock
    assert thinking.thinking.startswith("I need to find the GCD") and thinking.thinking.endswith("is 21.")
    assert thinking.signature.startswith("EqQBCgIYAhIM1gbcDa9G") and thinking.signature.endswith("WvA==")
    assert text.text == "The greatest common divisor of 1071 and 462 is **21**."


def test_redacted_thinking_and_stop_sequence() -> None:
    s = fold(decode_chunks([load("redacted_thinking.sse")]))
    assert type(s["blocks"][0]) is RedactedThinkingBlock
    assert s["blocks"][0].data.startswith("EmwKAhgBEgy3va3pzix")
    assert s["stop"] is StopReason.STOP_SEQUENCE
    assert s["stop_sequence"] == "\n\nHuman:"


def test_usage_adds_cache_reads_and_writes_to_input() -> None:
    events = decode_chunks([load("usage_only_final.sse")])
    assert events[0].usage == Usage(input_tokens=3 + 1550 + 20480, output_tokens=1, cached_tokens=20480,
                                    cache_creation_tokens=1550)
    s = fold(events)
    assert s["usage"] == Usage(input_tokens=22033, output_tokens=5, cached_tokens=20480, cache_creation_tokens=1550)
    assert s["stop"] is StopReason.MAX_TOKENS


def test_midstream_error_becomes_stream_error() -> None:
    events = decode_chunks([load("midstream_error.sse")])
    assert events[-1] == StreamError("overloaded", "Overloaded", 529)
    assert fold(events)["blocks"][0].text == "Here is the first part of the"


def test_server_tools_and_citations_are_unknown_values() -> None:
    events = decode_chunks([load("server_tools_citations.sse")])
    starts = [e.block for e in events if type(e) is BlockStart]
    assert [type(b) for b in starts] == [TextBlock, UnknownBlock, UnknownBlock, TextBlock]
    assert starts[1].raw["type"] == "server_tool_use" and starts[1].source == "anthropic"
    unknown = [e for e in events if type(e) is Unknown]
    assert len(unknown) == 1 and unknown[0].raw["delta"]["type"] == "citations_delta"
    assert unknown[0].event == "content_block_delta"


def test_decoder_edge_cases() -> None:
    dec = fmt.StreamDecoder()
    start = (b'{"type":"content_block_start","index":0,'
             b'"content_block":{"type":"tool_use","id":"t1","name":"f","input":{"a":1}}}')
    assert dec.feed(SSEFrame("content_block_start", start)) == [
        BlockStart(0, ToolCallBlock("t1", "f", "")), BlockDelta(0, ArgumentsDelta('{"a":1}'))]
    assert dec.feed(SSEFrame("future", b'{"type":"future_event","x":[1]}')) == [
        Unknown({"type": "future_event", "x": [1]}, "future", "anthropic")]
    assert dec.feed(SSEFrame("future", b'{"type":"future_event","index":"not-an-int"}'))[0].raw["index"] == "not-an-int"
    with pytest.raises(GatewayError) as info:
        dec.feed(SSEFrame("content_block_delta", b'{"type":"content_block_delta","index":0,"delta":{'))
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL
    with pytest.raises(GatewayError):
        dec.feed(SSEFrame("content_block_delta", b'{"type":"content_block_delta","index":"x","delta":{}}'))
    assert dec.close() == [StreamError("upstream_protocol", "upstream stream ended before message_stop", 502)]
    assert dec.close() == []
