"""Gemini stream encoding: SSE and JSON-array framing, round trips, the google-genai SDK reading them."""

from __future__ import annotations

import json

import httpx
import msgspec
import pytest
from google.genai import errors as genai_errors

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
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
from omniroute.errors import ErrorKind
from omniroute.formats import gemini as fmt
from tests.formats.gemini.harness import (
    SSE_FIXTURES,
    check_grammar,
    decode_chunks,
    encode_all,
    fold,
    frames_of,
    load,
    reencode,
    sdk_client,
    stream_of,
)

ROUND_TRIP_STREAMS = {
    "text": stream_of([TextBlock(""), TextDelta("Hello"), TextDelta(", wörld 🌍")], usage=Usage(7, 3)),
    "thinking": stream_of(
        [ThinkingBlock(), ThinkingDelta("Let me "), ThinkingDelta("think."), SignatureDelta("c2lnbmF0dXJl")],
        [TextBlock(""), TextDelta("42")],
        usage=Usage(input_tokens=10, output_tokens=30, reasoning_tokens=20, cached_tokens=4),
    ),
    "tools": stream_of(
        [TextBlock(""), TextDelta("Calling.")],
        [ToolCallBlock(id="call_abc", name="get_weather"), ArgumentsDelta('{"city": '), ArgumentsDelta('"Paris"}')],
        [ToolCallBlock(id="toolu_01", name="get_time", signature="dG9vbHNpZw==", signature_source="gemini"),
         ArgumentsDelta("{}")],
        stop=StopReason.TOOL_USE,
        usage=Usage(50, 20),
    ),
    "max_tokens": stream_of([TextBlock(""), TextDelta("cut")], stop=StopReason.MAX_TOKENS, usage=Usage(1, 1)),
    "filtered": stream_of(stop=StopReason.CONTENT_FILTER, usage=Usage(1, 0)),
}


@pytest.mark.parametrize("framing", ["sse", "json_array"])
@pytest.mark.parametrize("name", sorted(ROUND_TRIP_STREAMS))
def test_encode_decode_round_trip(name: str, framing: str) -> None:
    events = ROUND_TRIP_STREAMS[name]
    back = reencode(events, framing)
    check_grammar(back)
    assert back[0] == MessageStart(id="resp-1", model="gemini-test")
    assert fold(back) == fold(events)


def test_fixture_decode_encode_decode_is_stable() -> None:
    for name in SSE_FIXTURES:
        events = decode_chunks([load(name)])
        if type(events[-1]) is StreamError:
            continue
        again = reencode(events)
        # synthesised ids are dropped on the wire and made up again on decode: compare the rest
        strip = [msgspec.structs.replace(b, id="") if type(b) is ToolCallBlock else b for b in fold(again)["blocks"]]
        expected = [
            msgspec.structs.replace(b, id="") if type(b) is ToolCallBlock else b for b in fold(events)["blocks"]
        ]
        assert [json.loads(b.arguments) if type(b) is ToolCallBlock else b for b in strip] == [
            json.loads(b.arguments) if type(b) is ToolCallBlock else b for b in expected
        ], name
        assert fold(again)["stop"] == fold(events)["stop"]


def test_text_delta_bytes_are_sse_chunks_google_genai_reads() -> None:
    enc = fmt.StreamEncoder("gemini-test", True)
    enc.encode(MessageStart(id="r"))
    data = enc.encode(BlockDelta(0, TextDelta('a "quoted" line\n')))
    assert data.startswith(b"data: {") and data.endswith(b"\n\n")
    chunk = json.loads(data[6:])
    assert chunk["candidates"][0]["content"] == {"parts": [{"text": 'a "quoted" line\n'}], "role": "model"}
    assert chunk["responseId"] == "r" and chunk["modelVersion"] == "gemini-test"


def test_json_array_framing_is_one_json_array() -> None:
    data = encode_all(ROUND_TRIP_STREAMS["tools"], "json_array")
    items = json.loads(data)
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert items[-1]["usageMetadata"] == {"promptTokenCount": 50, "candidatesTokenCount": 20, "totalTokenCount": 70}
    assert (
        encode_all([MessageStart(), MessageStop()], "json_array")
        == b'[{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],'
        b'"modelVersion":"gemini-test","responseId":""}]'
    )


def test_tool_call_is_buffered_until_block_stop() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(BlockStart(0, ToolCallBlock(id="call_1", name="f"))) == b""
    assert enc.encode(BlockDelta(0, ArgumentsDelta('{"a":'))) == b""
    assert enc.encode(BlockDelta(0, ArgumentsDelta("1}"))) == b""
    part = json.loads(enc.encode(BlockStop(0))[6:])["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "f", "args": {"a": 1}, "id": "call_1"}}


def test_synthesised_ids_and_foreign_signatures_stay_off_the_wire() -> None:
    events = stream_of(
        [ToolCallBlock(id="gcall_0123456789abcdef", name="f", signature="not base64 !"), ArgumentsDelta("{}")],
        [ThinkingBlock(), ThinkingDelta("t"), SignatureDelta("%%%")],
        stop=StopReason.TOOL_USE,
    )
    text = encode_all(events).decode()
    assert "gcall_" not in text and "not base64" not in text and "%%%" not in text


def test_include_usage_false_leaves_usage_out() -> None:
    assert b"usageMetadata" not in encode_all(ROUND_TRIP_STREAMS["text"], include_usage=False)


def test_stream_error_ends_both_framings() -> None:
    err = StreamError(ErrorKind.RATE_LIMITED.value, "slow down", 429)
    sse = encode_all([MessageStart(), BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("x")), err])
    assert sse.endswith(b'data: {"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}\n\n')
    array = json.loads(encode_all([MessageStart(), err], "json_array"))
    assert array == [{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}]
    enc = fmt.StreamEncoder("m", True)
    enc.encode(err)
    assert enc.encode(MessageStop()) == b""  # nothing after the end


def test_pings_and_unknown_events_write_nothing() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(Ping()) == b"" and enc.encode(Unknown({"x": 1}, "weird", "anthropic")) == b""
    assert enc.encode(BlockStart(0, RedactedThinkingBlock("opaque"))) == b""


def test_gemini_unknown_part_passes_through_the_stream() -> None:
    raw = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    data = encode_all(stream_of([UnknownBlock(raw, "gemini")]))
    assert json.loads(frames_of(data, "sse")[0])["candidates"][0]["content"]["parts"] == [raw]


def test_sdk_reads_stream_and_raises_on_stream_error() -> None:
    good = encode_all(ROUND_TRIP_STREAMS["tools"])
    bad = encode_all([MessageStart(), BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("par")),
                      StreamError(ErrorKind.UPSTREAM_TIMEOUT.value, "too slow", 504)])  # fmt: skip
    client = sdk_client(
        lambda request: httpx.Response(200, content=good if b"good" in request.url.path.encode() else bad)
    )
    chunks = list(client.models.generate_content_stream(model="good", contents="hi"))
    assert "".join(c.text or "" for c in chunks if c.candidates[0].content.parts[0].text) == "Calling."
    calls = [fc for c in chunks for fc in (c.function_calls or [])]
    assert [(fc.name, fc.args, fc.id) for fc in calls] == [
        ("get_weather", {"city": "Paris"}, "call_abc"),
        ("get_time", {}, "toolu_01"),
    ]
    assert chunks[-1].usage_metadata.total_token_count == 70
    with pytest.raises(genai_errors.APIError) as info:
        list(client.models.generate_content_stream(model="bad", contents="hi"))
    assert info.value.code == 504 and info.value.status == "DEADLINE_EXCEEDED"
