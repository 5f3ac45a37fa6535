"""Anthropic Messages: golden fixtures, round trips, the official SDK as the judge, bad input."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import anthropic
import httpx2
import msgspec
import pytest

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
    Reasoning,
    RedactedThinkingBlock,
    Request,
    Response,
    ResponseFormat,
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
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
from omniroute.formats import anthropic as fmt
from omniroute.formats._framing import SSEFrame
from tests.formats import streams

load = streams.Fixtures("anthropic")
SSE_FIXTURES = load.names(".sse")
COMPLETE_STREAMS = [name for name in SSE_FIXTURES if name != "midstream_error.sse"]

# Anthropic sends pings and events we keep as Unknown (citations_delta), and streams a server
# tool's input (input_json_delta) into its block, which we keep as an UnknownBlock
DELTAS = {**streams.DELTAS, UnknownBlock: (ArgumentsDelta,)}
decode_chunks = partial(streams.decode_chunks, fmt.StreamDecoder)
check_grammar = partial(streams.check_grammar, also=(Ping, Unknown), deltas=DELTAS)
fold = partial(streams.fold, deltas=DELTAS)


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def encode_all(events: list[Event], model: str = "claude-test") -> bytes:
    return streams.encode_events(fmt.StreamEncoder(model, True), events)


def sdk_client(handler: Any) -> anthropic.Anthropic:
    transport = httpx2.MockTransport(handler)
    return anthropic.Anthropic(api_key="test", base_url="http://upstream.test", max_retries=0,
                               http_client=httpx2.Client(transport=transport))


def sdk_final_message(sse: bytes) -> anthropic.types.Message:
    client = sdk_client(lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                                         content=sse))
    with client.messages.stream(model="claude-test", max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as s:
        return s.get_final_message()


def sdk_create(status: int, body: bytes) -> anthropic.types.Message:
    client = sdk_client(lambda request: httpx2.Response(status, headers={"content-type": "application/json"},
                                                         content=body))
    return client.messages.create(model="claude-test", max_tokens=64, messages=[{"role": "user", "content": "hi"}])


def invalid_param(body: bytes | dict[str, Any], decode: Any = fmt.decode_request) -> str | None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(GatewayError) as info:
        decode(raw)
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.status == 400
    return info.value.param


# ── stream decoding: golden fixtures ─────────────────────────────────────────────────────


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


# ── stream encoding ──────────────────────────────────────────────────────────────────────


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


# ── requests ─────────────────────────────────────────────────────────────────────────────


def test_decode_full_request() -> None:
    req = fmt.decode_request(load("request_full.json"))
    assert req.model == "claude-sonnet-4-5-20250929" and req.max_tokens == 8192 and req.stream
    assert req.system == [TextBlock("You are a careful assistant that uses tools."),
                          TextBlock("Project context: a very long document…", {"type": "ephemeral"})]
    user, assistant, results = req.messages
    assert [type(b) for b in user.content] == [TextBlock, ImageBlock, ImageBlock, DocumentBlock, DocumentBlock,
                                               DocumentBlock]
    assert user.content[1].media_type == "image/png" and user.content[1].data.startswith("iVBOR")
    assert user.content[2].url.endswith("ant.jpg")
    assert user.content[3] == DocumentBlock("application/pdf", "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK", title="Report")
    assert user.content[4] == DocumentBlock("text/plain", text="The grass is green. The sky is blue.", title="Facts")
    assert assistant.content[0] == ThinkingBlock("The picture shows an ant. I should look up the weather.",
                                                 "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk", signature_source="anthropic")
    assert type(assistant.content[1]) is RedactedThinkingBlock
    assert assistant.content[3] == ToolCallBlock("toolu_01A09q90qw90lq917835lq9", "get_weather",
                                                 '{"location":"San Francisco, CA","unit":"celsius"}')
    assert assistant.content[4].arguments == "{}"
    first, second, text = results.content
    # the tool_result's cache breakpoint moves onto its (last) text block: same prompt position
    assert first == ToolResultBlock("toolu_01A09q90qw90lq917835lq9",
                                    [TextBlock("15 degrees, foggy", {"type": "ephemeral"})])
    assert second.is_error and type(second.content[1]) is UnknownBlock
    assert text.cache_control == {"type": "ephemeral", "ttl": "1h"}
    assert [t.name for t in req.tools] == ["get_weather", "get_time"] and req.tools[1].strict is True
    assert req.extra["anthropic"]["tools"] == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    assert req.tool_choice == ToolChoice(ToolChoiceMode.AUTO, None, parallel=False)
    assert req.reasoning == Reasoning(enabled=True, budget_tokens=2048)
    assert req.user == "user-7f3a" and req.stop == ["\n\nHuman:", "END"]
    own = req.extra["anthropic"]
    assert own["service_tier"] == "auto" and own["container"].startswith("container_")


@pytest.mark.parametrize("name", ["request_full.json", "request_simple.json"])
def test_request_decode_encode_decode_round_trip(name: str) -> None:
    req = fmt.decode_request(load(name))
    body = fmt.encode_request(req, req.model)
    assert fmt.decode_request(body) == req


def test_request_round_trip_matches_the_original_body() -> None:
    original = json.loads(load("request_simple.json"))
    encoded = json.loads(fmt.encode_request(fmt.decode_request(load("request_simple.json")), "claude-haiku-4-5"))
    assert encoded["system"] == original["system"]
    assert [m["role"] for m in encoded["messages"]] == ["user", "assistant", "user"]
    assert encoded["messages"][2]["content"] == [{"type": "text", "text": "Write a haiku about the sea."}]
    assert (encoded["temperature"], encoded["top_p"], encoded["top_k"]) == (0.5, 0.9, 40)


def test_decode_thinking_output_config_and_unknown_blocks() -> None:
    body = {"model": "m", "max_tokens": 100, "thinking": {"type": "adaptive", "display": "omitted"},
            "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}},
                              "future": 1},
            "messages": [{"role": "user", "content": [{"type": "brand_new", "x": 1}]}]}
    req = fmt.decode_request(json.dumps(body).encode())
    assert req.reasoning == Reasoning(enabled=True, effort="high", include_thoughts=False)
    assert req.response_format == ResponseFormat("json_schema", {"type": "object"})
    assert req.extra == {"anthropic": {"output_config": {"future": 1}}}
    assert req.messages[0].content == [UnknownBlock({"type": "brand_new", "x": 1}, "anthropic")]
    out = json.loads(fmt.encode_request(req, "m"))
    assert out["messages"][0]["content"] == [{"type": "brand_new", "x": 1}]
    assert out["output_config"] == {"future": 1, "format": {"type": "json_schema", "schema": {"type": "object"}}}

    body.pop("thinking")
    req = fmt.decode_request(json.dumps(body).encode())
    assert req.reasoning is None and req.extra["anthropic"]["output_config"] == {"effort": "high", "future": 1}
    req = fmt.decode_request(b'{"model":"m","max_tokens":9,"messages":[],"thinking":{"type":"disabled"},'
                             b'"output_format":{"type":"json_schema","schema":{"type":"array"}}}')
    assert req.reasoning == Reasoning(enabled=False)
    assert req.response_format == ResponseFormat("json_schema", {"type": "array"})


BAD_REQUESTS: list[tuple[dict[str, Any], str | None]] = [
    ({"model": "m", "messages": []}, "max_tokens"),
    ({"model": "m", "max_tokens": 0, "messages": []}, "max_tokens"),
    ({"model": "m", "max_tokens": "10", "messages": []}, "max_tokens"),
    ({"model": "m", "max_tokens": True, "messages": []}, "max_tokens"),
    ({"max_tokens": 1, "messages": []}, "model"),
    ({"model": 3, "max_tokens": 1, "messages": []}, "model"),
    ({"model": "m", "max_tokens": 1}, "messages"),
    ({"model": "m", "max_tokens": 1, "messages": {}}, "messages"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "system", "content": [{"type": "image", "source": {
        "type": "url", "url": "https://x/y.png"}}]}]}, "messages[0].content[0]"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user"}]}, "messages[0].content"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [
        {"type": "tool_use", "name": "f", "input": {}}]}]}, "messages[1].content[0].id"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": "{}"}]}]}, "messages[0].content[0].input"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
     "messages[0].content[0].text"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "image"}]}]},
     "messages[0].content[0].source"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"data": "x"}}]}]}, "messages[0].content[0].source.type"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": 5}]}]}, "messages[0].content[0].content"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": 1}]}]}]},
     "messages[0].content[0].content[0].text"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "content": "x"}]}]}, "messages[0].content[0].tool_use_id"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "assistant", "content": [
        {"type": "thinking", "thinking": None}]}]}, "messages[0].content[0].thinking"),
    ({"model": "m", "max_tokens": 1, "messages": [], "system": 5}, "system"),
    ({"model": "m", "max_tokens": 1, "messages": [], "system": [{"type": "image", "text": "x"}]}, "system[0].type"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tools": [{"name": "f"}]}, "tools[0].input_schema"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tools": [{"input_schema": {}}]}, "tools[0].name"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tool_choice": {"type": "maybe"}}, "tool_choice.type"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tool_choice": {"type": "tool"}}, "tool_choice.name"),
    ({"model": "m", "max_tokens": 1, "messages": [], "thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
    ({"model": "m", "max_tokens": 1, "messages": [], "thinking": {"budget_tokens": 5}}, "thinking.type"),
    ({"model": "m", "max_tokens": 1, "messages": [], "metadata": {"user_id": 5}}, "metadata.user_id"),
    ({"model": "m", "max_tokens": 1, "messages": [], "stop_sequences": "END"}, "stop_sequences"),
    ({"model": "m", "max_tokens": 1, "messages": [], "temperature": "hot"}, "temperature"),
    ({"model": "m", "max_tokens": 1, "messages": [], "stream": "yes"}, "stream"),
    ({"model": "m", "max_tokens": 1, "messages": [], "output_config": {"format": {"schema": {}}}},
     "output_config.format.type"),
]


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS, ids=[p or "none" for _, p in BAD_REQUESTS])
def test_bad_requests_name_the_param(body: dict[str, Any], param: str | None) -> None:
    assert invalid_param(body) == param


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"', b"\xff\xfe"])
def test_unparsable_bodies(raw: bytes) -> None:
    invalid_param(raw)


def test_count_tokens_request_needs_no_max_tokens() -> None:
    req = fmt.decode_count_tokens_request(load("count_tokens_request.json"))
    assert req.max_tokens is None and req.tools[0].name == "get_weather"
    assert invalid_param({"model": "m"}, fmt.decode_count_tokens_request) == "messages"
    with pytest.raises(GatewayError):
        fmt.decode_request(load("count_tokens_request.json"))


def simple_request(**kw: Any) -> Request:
    return Request(model="x", messages=[Message("user", [TextBlock("hi")])], **kw)


def encoded(req: Request, model: str = "claude-target") -> dict[str, Any]:
    return json.loads(fmt.encode_request(req, model))


@pytest.mark.parametrize(("reasoning", "max_tokens", "thinking", "expect_max"), [
    (None, None, None, 4096),
    (Reasoning(budget_tokens=2048), None, {"type": "enabled", "budget_tokens": 2048}, 6144),
    (Reasoning(budget_tokens=100), 5000, {"type": "enabled", "budget_tokens": 1024}, 5000),
    (Reasoning(effort="low"), None, {"type": "enabled", "budget_tokens": 1024}, 5120),
    (Reasoning(effort="medium"), None, {"type": "enabled", "budget_tokens": 4096}, 8192),
    (Reasoning(effort="high"), None, {"type": "enabled", "budget_tokens": 16384}, 20480),
    (Reasoning(effort="high"), 3000, {"type": "enabled", "budget_tokens": 2999}, 3000),
    (Reasoning(effort="high"), 1000, None, 1000),
    (Reasoning(), None, {"type": "adaptive"}, 4096 + 16384),
    (Reasoning(enabled=False, effort="high"), None, {"type": "disabled"}, 4096),
    (Reasoning(effort="none"), None, {"type": "disabled"}, 4096),
    (Reasoning(budget_tokens=0), None, {"type": "disabled"}, 4096),
])
def test_encode_reasoning_and_max_tokens(reasoning: Reasoning | None, max_tokens: int | None,
                                         thinking: dict[str, Any] | None, expect_max: int) -> None:
    body = encoded(simple_request(reasoning=reasoning, max_tokens=max_tokens))
    assert body.get("thinking") == thinking
    assert body["max_tokens"] == expect_max
    assert body["model"] == "claude-target"


def test_encode_sampling_rules() -> None:
    body = encoded(simple_request(temperature=1.7, top_p=0.5, top_k=5, stop=["X"]))
    assert (body["temperature"], body["top_p"], body["top_k"], body["stop_sequences"]) == (1.0, 0.5, 5, ["X"])
    body = encoded(simple_request(temperature=0.2, top_p=0.5, top_k=5, reasoning=Reasoning(effort="low")))
    assert "temperature" not in body and "top_p" not in body and "top_k" not in body
    body = encoded(simple_request(temperature=1.0, top_p=0.96, reasoning=Reasoning(effort="low")))
    assert (body["temperature"], body["top_p"]) == (1.0, 0.96)


def test_encode_messages_merge_roles_and_order_tool_results() -> None:
    req = Request(model="x", system=[TextBlock("Be brief.")], messages=[
        Message("user", [TextBlock("weather?")]),
        Message("assistant", [TextBlock(""), ToolCallBlock("call_1", "w", '{"city": "Oslo"}')]),
        Message("assistant", [ToolCallBlock("call_2", "t", "")]),
        Message("user", [TextBlock("also this")]),
        Message("user", [ToolResultBlock("call_1", [TextBlock("cold")]), ToolResultBlock("call_2", [],
                                                                                          is_error=True)]),
        Message("assistant", [ThinkingBlock("unsigned, from elsewhere"), UnknownBlock({"x": 1}, "openai_chat")]),
        Message("user", [TextBlock("thanks")]),
    ])
    body = encoded(req)
    assert body["system"] == "Be brief."
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assistant = body["messages"][1]["content"]
    assert assistant == [{"type": "tool_use", "id": "call_1", "name": "w", "input": {"city": "Oslo"}},
                         {"type": "tool_use", "id": "call_2", "name": "t", "input": {}}]
    assert fmt.encode_request(req, "x").count(b'{"city": "Oslo"}') == 1  # raw arguments sent verbatim
    last = body["messages"][2]["content"]
    assert [b["type"] for b in last] == ["tool_result", "tool_result", "text", "text"]
    assert last[0] == {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "cold"}]}
    assert last[1] == {"type": "tool_result", "tool_use_id": "call_2", "is_error": True}
    assert [b["text"] for b in last[2:]] == ["also this", "thanks"]


@pytest.mark.parametrize("arguments", ["[1, 2]", "{bad", '"text"', "null"])
def test_encode_rejects_non_object_tool_arguments(arguments: str) -> None:
    req = Request(model="x", messages=[Message("user", [TextBlock("a")]),
                                       Message("assistant", [ToolCallBlock("c", "f", arguments)])])
    with pytest.raises(GatewayError) as info:
        fmt.encode_request(req, "x")
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.param == "messages[1].content[0].arguments"


def test_encode_images_documents_and_tools() -> None:
    req = Request(model="x", messages=[Message("user", [
        ImageBlock(url="data:image/webp;base64,UklGRgAAAA"),
        ImageBlock(data="/9j/4AAQSkZJRg"),
        ImageBlock(url="https://x/y.png"),
        ImageBlock(),
        DocumentBlock(data="JVBER", title="T"),
        DocumentBlock(url="https://x/doc.pdf"),
        DocumentBlock(text="plain"),
    ])], tools=[Tool("f", "does f", {"type": "object", "properties": {"a": {"type": "string"}}}), Tool("g")],
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel=False))
    body = encoded(req)
    content = body["messages"][0]["content"]
    assert [b["source"] for b in content] == [
        {"type": "base64", "media_type": "image/webp", "data": "UklGRgAAAA"},
        {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg"},
        {"type": "url", "url": "https://x/y.png"},
        {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
        {"type": "url", "url": "https://x/doc.pdf"},
        {"type": "text", "media_type": "text/plain", "data": "plain"},
    ]
    assert content[3]["title"] == "T"
    assert body["tools"] == [
        {"name": "f", "description": "does f",
         "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}},
        {"name": "g", "input_schema": {"type": "object", "properties": {}}}]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    named = encoded(Request(model="x", tools=[Tool("g")], tool_choice=ToolChoice(ToolChoiceMode.TOOL, "g")))
    assert named["tool_choice"] == {"type": "tool", "name": "g"}
    assert "tool_choice" not in encoded(simple_request(tool_choice=ToolChoice(ToolChoiceMode.REQUIRED)))


def test_encode_response_format_user_and_extra() -> None:
    req = simple_request(response_format=ResponseFormat("json_schema", {"type": "object"}), user="u1",
                         metadata={"team": "a"}, stream=True,
                         extra={"anthropic": {"service_tier": "auto", "model": "must-not-win",
                                              "output_config": {"effort": "low"}},
                                "openai_responses": {"store": False}})
    body = encoded(req)
    assert body["output_config"] == {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}}
    assert body["metadata"] == {"user_id": "u1"}
    assert body["stream"] is True and body["service_tier"] == "auto" and body["model"] == "claude-target"
    assert "store" not in body  # another format's extras never reach an Anthropic body
    assert "output_config" not in encoded(simple_request(response_format=ResponseFormat("json_object")))


# ── responses ────────────────────────────────────────────────────────────────────────────


def test_decode_response_text_with_cache_usage() -> None:
    resp = fmt.decode_response(load("response_text.json"))
    assert resp.id == "msg_01BrHk3cVqGEn7Dr8wFfN2xY" and resp.stop_reason is StopReason.END_TURN
    assert resp.content[0].text.endswith("«la Ville Lumière» 🗼.")
    assert resp.usage == Usage(input_tokens=14 + 1024 + 8192, output_tokens=31, cached_tokens=8192,
                               cache_creation_tokens=1024)


def test_decode_response_tool_use_compacts_input() -> None:
    resp = fmt.decode_response(load("response_tool_use.json"))
    thinking, text, tool = resp.content
    assert thinking.signature.startswith("EqQBCgIYAhIM") and text.text.startswith("I'll check")
    assert tool.arguments == ('{"location":"San Francisco, CA","unit":"celsius","days":3,'
                              '"detail":{"hourly":true,"alerts":null}}')
    assert resp.stop_reason is StopReason.TOOL_USE


@pytest.mark.parametrize("name", ["response_text.json", "response_tool_use.json"])
def test_response_round_trip_and_sdk_parse(name: str) -> None:
    resp = fmt.decode_response(load(name))
    body = fmt.encode_response(resp)
    assert fmt.decode_response(body) == resp
    original = json.loads(load(name))
    msg = sdk_create(200, body)
    assert msg.id == original["id"] and msg.model == original["model"] and msg.type == "message"
    assert msg.stop_reason == original["stop_reason"]
    for key in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        assert getattr(msg.usage, key) == original["usage"][key]
    assert [b.model_dump(exclude_none=True) for b in msg.content] == [
        {k: v for k, v in b.items() if v is not None or k == "input"} for b in original["content"]]


def test_encode_response_fills_what_anthropic_requires() -> None:
    resp = Response(id="", model="gpt-x", content=[
        ThinkingBlock("hmm"), TextBlock(""), ImageBlock(url="u"), ToolCallBlock("c1", "f", '{"cut'),
        UnknownBlock({"type": "x"}, "gemini")])
    body = json.loads(fmt.encode_response(resp))
    assert body["id"].startswith("msg_") and body["stop_reason"] == "tool_use"
    assert body["content"] == [{"type": "thinking", "thinking": "hmm", "signature": ""},
                               {"type": "tool_use", "id": "c1", "name": "f", "input": {}}]
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0}
    body = json.loads(fmt.encode_response(Response(id="r", model="m", usage=Usage(10, 5, reasoning_tokens=3))))
    assert body["stop_reason"] == "end_turn" and body["usage"]["output_tokens_details"] == {"thinking_tokens": 3}


@pytest.mark.parametrize(("wire", "canonical"), [
    ("end_turn", StopReason.END_TURN), ("max_tokens", StopReason.MAX_TOKENS),
    ("stop_sequence", StopReason.STOP_SEQUENCE), ("tool_use", StopReason.TOOL_USE),
    ("pause_turn", StopReason.PAUSE_TURN), ("refusal", StopReason.CONTENT_FILTER),
])
def test_stop_reasons_both_ways(wire: str, canonical: StopReason) -> None:
    body = json.dumps({"id": "m", "model": "x", "content": [], "stop_reason": wire}).encode()
    assert fmt.decode_response(body).stop_reason is canonical
    assert json.loads(fmt.encode_response(Response("m", "x", stop_reason=canonical)))["stop_reason"] == wire


def test_lossy_stop_reasons() -> None:
    body = b'{"id":"m","model":"x","content":[],"stop_reason":"model_context_window_exceeded"}'
    assert fmt.decode_response(body).stop_reason is StopReason.MAX_TOKENS
    unknown = body.replace(b"model_context_window_exceeded", b"new")
    assert fmt.decode_response(unknown).stop_reason is StopReason.END_TURN
    error = fmt.encode_response(Response("m", "x", stop_reason=StopReason.ERROR))
    assert json.loads(error)["stop_reason"] == "end_turn"


@pytest.mark.parametrize("body", [b"{", b'{"model":"x"}', b'{"id":"m","content":[{"type":"text"}]}'])
def test_malformed_responses_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_response(body)
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL


# ── errors ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("kind", "status", "etype", "sdk_error"), [
    (ErrorKind.INVALID_REQUEST, None, "invalid_request_error", anthropic.BadRequestError),
    (ErrorKind.AUTHENTICATION, None, "authentication_error", anthropic.AuthenticationError),
    (ErrorKind.PERMISSION, None, "permission_error", anthropic.PermissionDeniedError),
    (ErrorKind.NOT_FOUND, None, "not_found_error", anthropic.NotFoundError),
    (ErrorKind.PAYLOAD_TOO_LARGE, None, "request_too_large", anthropic.APIStatusError),
    (ErrorKind.UNSUPPORTED, None, "invalid_request_error", anthropic.BadRequestError),
    (ErrorKind.RATE_LIMITED, None, "rate_limit_error", anthropic.RateLimitError),
    (ErrorKind.OVERLOADED, None, "overloaded_error", anthropic.InternalServerError),
    (ErrorKind.UPSTREAM_ERROR, 500, "api_error", anthropic.InternalServerError),
    (ErrorKind.UPSTREAM_TIMEOUT, None, "timeout_error", anthropic.APIStatusError),
    (ErrorKind.INTERNAL, None, "api_error", anthropic.InternalServerError),
])
def test_encode_error_types(kind: ErrorKind, status: int | None, etype: str, sdk_error: type) -> None:
    err = GatewayError(kind, "it broke", status=status)
    body = fmt.encode_error(err)
    assert json.loads(body) == {"type": "error", "error": {"type": etype, "message": "it broke"}}
    with pytest.raises(sdk_error) as info:
        sdk_create(err.status, body)
    assert info.value.status_code == err.status
    assert fmt.decode_error(err.status, body).kind is (
        ErrorKind.INVALID_REQUEST if kind is ErrorKind.UNSUPPORTED
        else ErrorKind.UPSTREAM_ERROR if kind is ErrorKind.INTERNAL else kind)


def test_decode_error_fixtures() -> None:
    err = fmt.decode_error(529, load("error_overloaded.json"), "anthropic")
    assert (err.kind, err.status, err.message, err.code, err.provider) == (
        ErrorKind.OVERLOADED, 529, "Overloaded", "overloaded_error", "anthropic")
    assert err.retryable and err.fallback
    err = fmt.decode_error(400, load("error_invalid_request.json"))
    assert (err.kind, err.message) == (ErrorKind.INVALID_REQUEST, "max_tokens: Field required")
    err = fmt.decode_error(429, load("error_rate_limit.json"))
    assert err.kind is ErrorKind.RATE_LIMITED and err.retryable
    err = fmt.decode_error(502, b"<html>Bad Gateway</html>")
    assert (err.kind, err.status, err.message) == (ErrorKind.UPSTREAM_ERROR, 502, "<html>Bad Gateway</html>")
    err = fmt.decode_error(403, b'{"type":"error","error":{"type":"brand_new_error","message":"no"}}')
    assert (err.kind, err.code, err.message) == (ErrorKind.PERMISSION, "brand_new_error", "no")
    assert fmt.decode_error(500, b"").message == "upstream answered HTTP 500"


def test_encode_stream_error() -> None:
    out = fmt.encode_stream_error(GatewayError(ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"))
    assert out == b'event: error\ndata: {"type":"error","error":{"type":"timeout_error",' \
                  b'"message":"upstream timed out"}}\n\n'
    events = decode_chunks([out])
    assert events[0] == StreamError("upstream_timeout", "upstream timed out", 504)


# ── count_tokens ─────────────────────────────────────────────────────────────────────────


def test_estimate_tokens_is_a_sane_local_estimate() -> None:
    req = fmt.decode_count_tokens_request(load("count_tokens_request.json"))
    n = fmt.estimate_tokens(req)
    assert 40 < n < 120  # Anthropic counts this request at about 400 with its tool overhead; we stay in range
    longer = msgspec.structs.replace(req, messages=[*req.messages, Message("assistant", [TextBlock("x" * 400)])])
    assert fmt.estimate_tokens(longer) == n + 100 + 4
    with_image = msgspec.structs.replace(req, messages=[Message("user", [ImageBlock(data="AAAA")])])
    assert fmt.estimate_tokens(with_image) >= 1600
    tool_call = Message("assistant", [ToolCallBlock("c", "f", '{"a":"' + "y" * 100 + '"}')])
    assert fmt.estimate_tokens(msgspec.structs.replace(req, messages=[tool_call])) > fmt.estimate_tokens(
        msgspec.structs.replace(req, messages=[]))
    assert fmt.encode_count_tokens(n) == b'{"input_tokens":%d}' % n
    assert fmt.decode_count_tokens(b'{"input_tokens": 2095}') == 2095


# ── mid-conversation system messages ─────────────────────────────────────────────────────

MID_SYSTEM = {"model": "m", "max_tokens": 64, "messages": [
    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
    {"role": "system", "content": "Agents: claude, explore."},
    {"role": "assistant", "content": "Hello."},
    {"role": "system", "content": [{"type": "text", "text": "Now in French."}]},
    {"role": "user", "content": "and now?"},
]}


def test_mid_conversation_system_messages_decode_at_their_position() -> None:
    req = fmt.decode_request(json.dumps(MID_SYSTEM).encode())
    assert [m.role for m in req.messages] == ["user", "system", "assistant", "system", "user"]
    assert req.messages[1].content == [TextBlock("Agents: claude, explore.")] and req.system == []


def test_mid_conversation_system_messages_fold_into_the_user_turn() -> None:
    body = json.loads(fmt.encode_request(fmt.decode_request(json.dumps(MID_SYSTEM).encode()), "m"))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"][1] == {
        "type": "text", "text": "<system-reminder>\nAgents: claude, explore.\n</system-reminder>"}
    assert body["messages"][2]["content"] == [
        {"type": "text", "text": "<system-reminder>\nNow in French.\n</system-reminder>"},
        {"type": "text", "text": "and now?"}]


def test_fold_system_messages_on_raw_bytes_keeps_everything_else() -> None:
    raw = {**MID_SYSTEM, "context_management": {"edits": []}}
    folded = json.loads(fmt.fold_system_messages(json.dumps(raw).encode()))
    assert folded["context_management"] == {"edits": []}
    assert [m["role"] for m in folded["messages"]] == ["user", "assistant", "user"]
    assert folded["messages"][2]["content"][1] == {"type": "text", "text": "and now?"}
