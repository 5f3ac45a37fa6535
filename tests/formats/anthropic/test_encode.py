"""Anthropic stream encoding: round trips, and the official SDK accumulating what we write."""

from __future__ import annotations

import json

import anthropic
import pytest

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
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
    ToolCallBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.formats import anthropic as fmt
from tests.formats.anthropic.harness import (
    COMPLETE_STREAMS,
    SSE_FIXTURES,
    decode_chunks,
    encode_all,
    fold,
    load,
    sdk_final_message,
)


@pytest.mark.parametrize("name", SSE_FIXTURES)
def test_stream_encode_decode_round_trip(name: str) -> None:
    events = decode_chunks([load(name)])
    again = decode_chunks([encode_all(events)])
    folded, expected = fold(again), fold(events)
    assert folded.pop("start").id == expected.pop("start").id  # the model is the client's now
    assert folded == expected
    assert [e for e in again if type(e) is Unknown] == [e for e in events if type(e) is Unknown]


@pytest.mark.parametrize("name", COMPLETE_STREAMS)
def test_official_sdk_accumulates_encoded_stream(name: str) -> None:
    events = decode_chunks([load(name)])
    s = fold(events)
    msg = sdk_final_message(encode_all(events))
    assert msg.model == "claude-test"
    assert msg.id == s["start"].id
    assert msg.stop_reason == {StopReason.CONTENT_FILTER: "refusal"}.get(s["stop"], s["stop"].value)
    assert msg.stop_sequence == s["stop_sequence"]
    usage = s["usage"]
    assert msg.usage.output_tokens == usage.output_tokens
    assert msg.usage.input_tokens == usage.input_tokens - usage.cached_tokens - usage.cache_creation_tokens
    assert (msg.usage.cache_read_input_tokens or 0) == usage.cached_tokens
    assert (msg.usage.cache_creation_input_tokens or 0) == usage.cache_creation_tokens
    assert len(msg.content) == len(s["blocks"])
    for got, want in zip(msg.content, s["blocks"], strict=True):
        if type(want) is TextBlock:
            assert got.type == "text" and got.text == want.text
        elif type(want) is ThinkingBlock:
            assert (got.thinking, got.signature) == (want.thinking, want.signature)
        elif type(want) is ToolCallBlock:
            assert (got.id, got.name) == (want.id, want.name)
            assert got.input == (json.loads(want.arguments) if want.arguments else {})
        elif type(want) is RedactedThinkingBlock:
            assert got.data == want.data
        else:
            assert got.type == want.raw["type"]


def test_official_sdk_raises_on_encoded_error_event() -> None:
    events = decode_chunks([load("midstream_error.sse")])
    with pytest.raises(anthropic.APIStatusError) as info:
        sdk_final_message(encode_all(events))
    assert "overloaded_error" in str(info.value)


def canonical_openai_like_stream() -> list[Event]:
    """What a block-less upstream's decoder may produce: no MessageStart, no BlockStops,
    stop reason and usage in separate MessageDeltas, a block Anthropic cannot carry."""
    return [
        BlockStart(0, ImageBlock(url="https://example.com/x.png")),
        BlockDelta(0, TextDelta("dropped")),
        BlockStart(1, TextBlock("")),
        BlockDelta(1, TextDelta("Let me look.")),
        BlockStart(2, ToolCallBlock("call_1", "lookup", "")),
        BlockDelta(2, ArgumentsDelta('{"q":')),
        BlockDelta(2, SignatureDelta("gemini-sig")),
        BlockDelta(2, ArgumentsDelta('"x"}')),
        BlockStart(3, UnknownBlock({"type": "whatever"}, "gemini")),
        Unknown({"foo": 1}, None, "openai_chat"),
        MessageDelta(StopReason.MAX_TOKENS),
        MessageDelta(None, None, Usage(input_tokens=100, output_tokens=7, cached_tokens=40)),
        MessageStop(),
    ]


def test_encoder_repairs_a_blockless_canonical_stream() -> None:
    out = encode_all(canonical_openai_like_stream())
    events = decode_chunks([out])
    assert type(events[0]) is MessageStart and events[0].id.startswith("msg_")
    s = fold(events)
    assert s["blocks"] == [TextBlock("Let me look."), ToolCallBlock("call_1", "lookup", '{"q":"x"}')]
    assert s["stop"] is StopReason.MAX_TOKENS  # not lost to the usage-only MessageDelta
    assert s["usage"] == Usage(input_tokens=100, output_tokens=7, cached_tokens=40)
    assert out.count(b"event: message_delta") == 1
    assert out.count(b"event: content_block_stop") == 2
    msg = sdk_final_message(out)
    assert msg.stop_reason == "max_tokens" and msg.usage.input_tokens == 60
    assert msg.content[1].input == {"q": "x"}


def test_encoder_wire_shapes_and_end_of_stream() -> None:
    enc = fmt.StreamEncoder("claude-test", True)
    first = enc.encode(BlockStart(0, ThinkingBlock("")))
    assert first.startswith(b"event: message_start\ndata: ")
    start = json.loads(first.split(b"\n\n")[0].split(b"data: ", 1)[1])
    assert start["message"] == {"id": start["message"]["id"], "type": "message", "role": "assistant",
                                "model": "claude-test", "content": [], "stop_reason": None, "stop_sequence": None,
                                "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                          "cache_read_input_tokens": 0}}
    assert b'"content_block":{"type":"thinking","thinking":"","signature":""}' in first
    assert enc.encode(BlockDelta(0, TextDelta("é\n\"x\""))) == (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"\xc3\xa9\\n\\"x\\""}}\n\n')
    assert enc.encode(Ping()) == b'event: ping\ndata: {"type":"ping"}\n\n'
    err = enc.encode(StreamError("rate_limited", "slow down", 429))
    assert err == b'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}\n\n'
    assert enc.encode(BlockDelta(0, TextDelta("after"))) == b""
    assert enc.encode(MessageStop()) == b""


def test_encoder_tool_start_and_message_stop_without_delta() -> None:
    enc = fmt.StreamEncoder("m", False)
    out = enc.encode(MessageStart("msg_1", "upstream-model", Usage(input_tokens=10)))
    out += enc.encode(BlockStart(0, ToolCallBlock("toolu_1", "f", '{"a":1}')))
    out += enc.encode(MessageStop())
    assert b'"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}' in out
    assert b'"partial_json":"{\\"a\\":1}"' in out
    assert b'"delta":{"stop_reason":"tool_use","stop_sequence":null}' in out
    assert sdk_final_message(out).content[0].input == {"a": 1}


def test_anthropic_unknown_events_pass_through_with_renumbered_index() -> None:
    enc = fmt.StreamEncoder("m", True)
    enc.encode(BlockStart(0, ImageBlock(data="AAAA")))  # dropped: the text becomes index 0
    enc.encode(BlockStart(1, TextBlock("")))
    raw = {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": {}}}
    out = enc.encode(Unknown(raw, "content_block_delta", "anthropic"))
    assert out == b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,' \
                  b'"delta":{"type":"citations_delta","citation":{}}}\n\n'
    assert enc.encode(Unknown(raw, "content_block_delta", "gemini")) == b""
