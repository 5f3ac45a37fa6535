"""Ollama stream encoding: round trips, and the ollama SDK reading what we write."""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    MessageStart,
    MessageStop,
    Ping,
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
from omniroute.formats import ollama as fmt
from tests.formats.ollama.harness import decode_chunks, encode_all, sdk_client, stream_of
from tests.formats.streams import check_grammar, fold

ROUND_TRIP_STREAMS = {
    "text": stream_of([TextBlock(""), TextDelta("Hello"), TextDelta(', "wörld" 🌍\n')], usage=Usage(7, 3)),
    "thinking": stream_of(
        [ThinkingBlock(), ThinkingDelta("Let me "), ThinkingDelta("think.")],
        [TextBlock(""), TextDelta("42")],
        usage=Usage(10, 30),
    ),
    "tools": stream_of(
        [TextBlock(""), TextDelta("Calling.")],
        [ToolCallBlock(id="call_abc", name="get_weather"), ArgumentsDelta('{"city": '), ArgumentsDelta('"Paris"}')],
        [ToolCallBlock(id="toolu_01", name="get_time"), ArgumentsDelta("{}")],
        stop=StopReason.TOOL_USE,
        usage=Usage(50, 20),
    ),
    "max_tokens": stream_of([TextBlock(""), TextDelta("cut")], stop=StopReason.MAX_TOKENS, usage=Usage(1, 1)),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_STREAMS))
def test_encode_decode_round_trip(name: str) -> None:
    events = ROUND_TRIP_STREAMS[name]
    back = decode_chunks([encode_all(events)])
    check_grammar(back)
    assert back[0].model == "qwen3" and back[0].created == 1748386497  # type: ignore[union-attr]
    answer, expected = fold(back), fold(events)
    assert answer["stop"] == expected["stop"] and answer["usage"] == expected["usage"]
    for got, want in zip(answer["blocks"], expected["blocks"], strict=True):
        if type(want) is ToolCallBlock:  # ids and argument JSON text survive (re-serialised compactly)
            assert (got.id, got.name, json.loads(got.arguments)) == (want.id, want.name, json.loads(want.arguments))
        else:
            assert got == want


def test_text_delta_record_bytes() -> None:
    enc = fmt.StreamEncoder("llama3.2", True)
    enc.encode(MessageStart(created=1748386497))
    data = enc.encode(BlockDelta(0, TextDelta("hi\n")))
    assert data == (
        b'{"model":"llama3.2","created_at":"2025-05-27T22:54:57.000000Z",'
        b'"message":{"role":"assistant","content":"hi\\n"},"done":false}\n'
    )
    assert json.loads(enc.encode(BlockDelta(0, ThinkingDelta("t"))))["message"] == {
        "role": "assistant",
        "content": "",
        "thinking": "t",
    }


def test_signatures_unknown_blocks_and_pings_write_nothing() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(BlockDelta(0, SignatureDelta("sig"))) == b""
    assert enc.encode(BlockStart(0, UnknownBlock({"x": 1}, "gemini"))) == b"" and enc.encode(Ping()) == b""
    assert enc.encode(Unknown({"x": 1}, "e", "anthropic")) == b""


def test_final_record_and_usage_flag() -> None:
    last = json.loads(encode_all(ROUND_TRIP_STREAMS["max_tokens"]).splitlines()[-1])
    assert (last["done"], last["done_reason"], last["prompt_eval_count"], last["eval_count"]) == (True, "length", 1, 1)
    quiet = json.loads(encode_all(ROUND_TRIP_STREAMS["text"], include_usage=False).splitlines()[-1])
    assert quiet["done"] is True and "eval_count" not in quiet


def test_stream_error_record() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(StreamError(ErrorKind.UPSTREAM_TIMEOUT.value, "too slow", 504)) == b'{"error":"too slow"}\n'
    assert enc.encode(MessageStop()) == b""
    assert fmt.encode_stream_error(GatewayError(ErrorKind.INTERNAL, "boom")) == b'{"error":"boom"}\n'


def test_sdk_reads_stream_and_raises_on_error_record() -> None:
    good = encode_all(ROUND_TRIP_STREAMS["tools"])
    bad = encode_all([MessageStart(), BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("par")),
                      StreamError(ErrorKind.UPSTREAM_ERROR.value, "upstream broke")])  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=good if json.loads(request.content)["model"] == "good" else bad)

    client = sdk_client(handler)
    parts = list(client.chat(model="good", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(p.message.content or "" for p in parts) == "Calling."
    calls = [c for p in parts for c in (p.message.tool_calls or [])]
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
    ]
    assert parts[-1].done and parts[-1].eval_count == 20
    with pytest.raises(ollama.ResponseError) as info:
        list(client.chat(model="bad", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert info.value.error == "upstream broke"
