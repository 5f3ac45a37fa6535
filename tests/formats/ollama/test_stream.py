"""Ollama stream decoding: golden NDJSON fixtures, any read split, blocks synthesised from records."""

from __future__ import annotations

import json

import pytest

from omniroute.canonical import BlockStop, StopReason, StreamError, TextBlock, ThinkingBlock, Unknown, Usage
from omniroute.errors import ErrorKind
from omniroute.formats import ollama as fmt
from tests.formats import streams
from tests.formats.ollama.harness import NDJSON_FIXTURES, decode_chunks, load
from tests.formats.streams import check_grammar, fold


@pytest.mark.parametrize("name", NDJSON_FIXTURES)
def test_random_splits_give_identical_events(name: str) -> None:
    check_grammar(streams.check_every_split(load(name), decode_chunks, seed=name))


def test_utf8_split_inside_multibyte_characters() -> None:
    data = load("utf8.ndjson")
    whole = decode_chunks([data])
    for cut in streams.inside_characters(data):
        assert decode_chunks([data[:cut], data[cut:]]) == whole
    assert fold(whole)["blocks"] == [TextBlock("Grüße aus München, 日本語 🌍🚀 — ‘ok’")]


def test_text_stream() -> None:
    events = decode_chunks([load("text.ndjson")])
    start = events[0]
    assert start.model == "llama3.2" and start.created == 1748386497 and start.id.startswith("ollama-")  # type: ignore[union-attr]
    answer = fold(events)
    assert answer["blocks"] == [TextBlock("The sky is blue because of Rayleigh scattering.")]
    assert answer["stop"] is StopReason.END_TURN and answer["usage"] == Usage(input_tokens=26, output_tokens=12)


def test_thinking_stream() -> None:
    answer = fold(decode_chunks([load("thinking.ndjson")]))
    assert answer["blocks"] == [ThinkingBlock("Okay, the user wants 17×23. That is 391."), TextBlock("17 × 23 = 391.")]


def test_tool_call_stream() -> None:
    events = decode_chunks([load("tools.ndjson")])
    (call,) = fold(events)["blocks"]
    assert call.name == "get_current_weather" and json.loads(call.arguments) == {
        "format": "celsius",
        "location": "Toronto",
    }
    assert call.id.startswith("ocall_") and call.id == fold(decode_chunks([load("tools.ndjson")]))["blocks"][0].id
    assert fold(events)["stop"] is StopReason.TOOL_USE


def test_parallel_tool_calls_keep_ollama_ids() -> None:
    text, paris, tokyo = fold(decode_chunks([load("parallel_tools.ndjson")]))["blocks"]
    assert text == TextBlock("Let me check both.")
    assert (paris.id, json.loads(paris.arguments)) == ("call_k3mx9p2a", {"location": "Paris"})
    assert (tokyo.id, json.loads(tokyo.arguments)) == ("call_z81qq0ce", {"location": "Tokyo"})


def test_length_and_usage_only_final() -> None:
    assert fold(decode_chunks([load("length.ndjson")]))["stop"] is StopReason.MAX_TOKENS
    answer = fold(decode_chunks([load("usage_only_final.ndjson")]))
    assert answer["blocks"] == [TextBlock("Hello!")] and answer["usage"] == Usage(11, 3)


def test_midstream_error() -> None:
    events = decode_chunks([load("midstream_error.ndjson")])
    assert events[-1] == StreamError(
        ErrorKind.UPSTREAM_ERROR.value, "an error was encountered while running the model: unexpected EOF"
    )
    assert fold(events)["blocks"] == [TextBlock("The answer is")]


def test_truncated_stream_ends_with_protocol_error() -> None:
    data = load("text.ndjson")
    events = decode_chunks([data[: data.rstrip(b"\n").rfind(b"\n") + 1]])
    assert type(events[-2]) is BlockStop and events[-1].kind == ErrorKind.UPSTREAM_PROTOCOL.value  # type: ignore[union-attr]


def test_garbage_line_is_unknown() -> None:
    (event,) = fmt.StreamDecoder().feed(b"<html>")
    assert type(event) is Unknown and event.source == "ollama"
