"""Gemini stream decoding: golden fixtures, any read split, blocks synthesised from parts."""

from __future__ import annotations

import json

import pytest

from omniroute.canonical import (
    BlockDelta,
    BlockStart,
    BlockStop,
    MessageStart,
    StopReason,
    StreamError,
    TextBlock,
    ThinkingBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind
from omniroute.formats import gemini as fmt
from omniroute.formats.framing import SSEFrame
from tests.formats import streams
from tests.formats.gemini.harness import SSE_FIXTURES, check_grammar, decode_chunks, fold, load


@pytest.mark.parametrize("name", SSE_FIXTURES)
def test_random_splits_give_identical_events(name: str) -> None:
    check_grammar(streams.check_every_split(load(name), decode_chunks, seed=name))


def test_utf8_split_inside_multibyte_characters() -> None:
    data = load("utf8.sse")
    multibyte = streams.inside_characters(data)
    whole = decode_chunks([data])
    for cut in multibyte:
        assert decode_chunks([data[:cut], data[cut:]]) == whole
    assert fold(whole)["blocks"] == [TextBlock("Grüße aus München! 日本語のテキスト、emoji 🌍🚀 and ‘quotes’ — done.")]


def test_text_stream() -> None:
    events = decode_chunks([load("text.sse")])
    assert events[0] == MessageStart(id="bGNeaL2BHJ7mz7IPl9adqQ4", model="gemini-2.5-flash")
    answer = fold(events)
    text = "The sky appears blue because of Rayleigh scattering: shorter wavelengths of sunlight are scattered"
    assert answer["blocks"] == [TextBlock(text + " more by the gases in the atmosphere.\n")]
    assert answer["stop"] is StopReason.END_TURN
    assert answer["usage"] == Usage(input_tokens=9, output_tokens=24 + 28, reasoning_tokens=28)


def test_thinking_then_text_with_signature() -> None:
    answer = fold(decode_chunks([load("thinking_signature.sse")]))
    thinking, text, signature = answer["blocks"]
    assert thinking.thinking.startswith("**Calculating the product**") and thinking.signature is None
    assert text == TextBlock("17 × 23 = **391**. Let me know if you need the steps.")
    assert signature == ThinkingBlock(
        "",
        signature="pU3KGCUwux1tEyze1iN7LtkeP3IfyxlxF0SU1kk8nVw0YL4xIB5p/tqg7ui5mX9cfCmZ/a/lkyU81lSvTfrXFCegrrP+6SMvivIhH57kkcWxC+y1Vjv8Hm+TQn7LyP4p",
    )
    assert answer["usage"].reasoning_tokens == 148 and answer["usage"].output_tokens == 163


def test_signature_on_empty_final_part() -> None:
    answer = fold(decode_chunks([load("text_signature_final.sse")]))
    assert answer["blocks"] == [
        TextBlock("Paris is the capital of France."),
        ThinkingBlock("", signature="EqQDCqEDAdHtim9Xw1Zp5t0cFx2dYk+7w3YwGm7b8oV2g6U7o0w5nN3T1rQ2aXy8="),
    ]


def test_tool_call_stream() -> None:
    events = decode_chunks([load("tools.sse")])
    # the call's signature rides on its BlockStart (it was a trailing SignatureDelta, which
    # encoders that carry it in the call id could no longer place)
    assert [type(e) for e in events[1:4]] == [BlockStart, BlockDelta, BlockStop]
    assert events[1].block.signature_source == "gemini"
    (call,) = fold(events)["blocks"]
    assert call.name == "get_current_weather"
    assert json.loads(call.arguments) == {"location": "Boston, MA", "unit": "celsius"}
    assert call.signature == "CiwB0e2Kb2J0s2Xc4kQ8xmXrXbY8h2n0w6cR5m4sT7kP9vL3qN1dF0aE="
    assert call.id.startswith("gcall_")
    assert fold(events)["stop"] is StopReason.TOOL_USE


def test_parallel_tool_calls_get_distinct_stable_ids() -> None:
    answer = fold(decode_chunks([load("parallel_tools.sse")]))
    text, paris, tokyo, clock = answer["blocks"]
    assert text == TextBlock("Checking both cities.")
    assert [json.loads(b.arguments) for b in (paris, tokyo, clock)] == [
        {"location": "Paris"},
        {"location": "Tokyo"},
        {},
    ]
    assert len({paris.id, tokyo.id, clock.id}) == 3
    assert fold(decode_chunks([load("parallel_tools.sse")]))["blocks"][1].id == paris.id  # stable
    assert answer["stop"] is StopReason.TOOL_USE


def test_usage_only_final_chunk() -> None:
    answer = fold(decode_chunks([load("usage_only_final.sse")]))
    assert answer["blocks"] == [TextBlock("Hello there!")]
    assert answer["usage"] == Usage(input_tokens=5, output_tokens=3)


@pytest.mark.parametrize(
    ("name", "stop"), [("max_tokens.sse", StopReason.MAX_TOKENS), ("safety.sse", StopReason.CONTENT_FILTER)]
)
def test_finish_reasons(name: str, stop: StopReason) -> None:
    assert fold(decode_chunks([load(name)]))["stop"] is stop


def test_midstream_error() -> None:
    events = decode_chunks([load("midstream_error.sse")])
    assert events[-1] == StreamError(
        ErrorKind.UPSTREAM_UNREACHABLE.value, "The model is overloaded. Please try again later.", 503
    )
    assert fold(events)["blocks"] == [TextBlock("Here is the first part of a long answer")]


def test_truncated_stream_ends_with_protocol_error() -> None:
    data = load("text.sse")
    cut = data.rfind(b"data: ")
    events = decode_chunks([data[:cut]])
    assert type(events[-2]) is BlockStop
    assert events[-1].kind == ErrorKind.UPSTREAM_PROTOCOL.value  # type: ignore[union-attr]


def test_garbage_frame_is_unknown_not_an_exception() -> None:
    dec = fmt.StreamDecoder()
    (event,) = dec.feed(SSEFrame(None, b"not json"))
    assert type(event) is Unknown and event.source == "gemini"


def test_unknown_part_is_an_unknown_block() -> None:
    chunk = (
        b'{"candidates":[{"content":{"parts":[{"executableCode":{"language":"PYTHON","code":"1+1"}}],"role":"model"}}]}'
    )
    events = fmt.StreamDecoder().feed(SSEFrame(None, chunk))
    assert events[1] == BlockStart(0, UnknownBlock({"executableCode": {"language": "PYTHON", "code": "1+1"}}, "gemini"))
