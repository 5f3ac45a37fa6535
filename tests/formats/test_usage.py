"""``formats.usage``: the usage read from an answer's bytes equals the usage the format's
full decoder finds, for every golden fixture of every format, however the bytes are cut
into reads; OpenAI Chat's usage request and the usage-only chunk's removal are exact."""

from __future__ import annotations

import random

import pytest

from omniroute.canonical import Usage
from omniroute.canonical.assemble import Assembler
from omniroute.formats.framing import NDJSONDecoder, SSEDecoder
from omniroute.formats.registry import FORMATS
from omniroute.formats.usage import ask_for_usage, strip_usage_chunks, usage_of
from tests.formats.streams import FIXTURES

STREAMS = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in (".sse", ".ndjson"))
BODIES = sorted(FIXTURES.glob("*/response_*.json"))


def full_decode(fmt: str, data: bytes) -> Usage | None:
    module = FORMATS[fmt]
    framer = SSEDecoder() if module.FRAMING == "sse" else NDJSONDecoder()
    decoder, assembler = module.StreamDecoder(), Assembler()
    for frame in [*framer.feed(data), *framer.close()]:
        for event in decoder.feed(frame):
            assembler.feed(event)
    for event in decoder.close():
        assembler.feed(event)
    return assembler.response.usage


def cut(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 12))))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


#: where the reader knows more than the decoder: Gemini reports running usage in every chunk,
#: and a stream that fails midway has used what its last chunk said (the decoder reports usage
#: only with the finish)
KNOWS_MORE = {"gemini/midstream_error.sse": Usage(input_tokens=9)}


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stream_usage_equals_the_full_decoders(path) -> None:
    fmt, data = path.parent.name, path.read_bytes()
    expected = KNOWS_MORE.get(f"{fmt}/{path.name}") or full_decode(fmt, data)
    for seed in range(8):
        assert usage_of(fmt, True, cut(data, seed)) == expected, seed


@pytest.mark.parametrize("path", BODIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_body_usage_equals_the_full_decoders(path) -> None:
    fmt, data = path.parent.name, path.read_bytes()
    assert usage_of(fmt, False, [data]) == FORMATS[fmt].decode_response(data).usage


def test_anthropic_cache_counts_are_added_to_input() -> None:
    start = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c","usage":'
             b'{"input_tokens":10,"cache_read_input_tokens":40,"cache_creation_input_tokens":50,"output_tokens":1}}}'
             b'\n\n')
    delta = b'event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":20}}\n\n'
    assert usage_of("anthropic", True, [start, delta]) == Usage(100, 20, 40, 50, 0)


def test_not_json_or_no_usage_is_none() -> None:
    assert usage_of("openai_chat", False, [b"<html>"]) is None
    assert usage_of("openai_chat", True, [b"data: [DONE]\n\n"]) is None
    assert usage_of("openai_chat", True, []) is None
    assert usage_of("unknown", False, [b"{}"]) is None


@pytest.mark.parametrize(("body", "sent"), [
    (b'{"model":"m","stream":true}', b'{"stream_options":{"include_usage":true},"model":"m","stream":true}'),
    (b'  {"model":"m"}', b'{"stream_options":{"include_usage":true},"model":"m"}'),
    (b'{"model":"m","stream_options":{"include_usage":false}}',
     b'{"model":"m","stream_options":{"include_usage":true}}'),
    (b'{"model":"m","stream_options":{}}', b'{"model":"m","stream_options":{"include_usage":true}}'),
    (b'{"model":"m","stream_options":{"include_usage":true}}', None),
    (b'{"messages":[{"role":"user","content":"say \\"stream_options\\""}]}',
     b'{"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"say \\"stream_options\\""}]}'),
])
def test_usage_is_asked_for(body: bytes, sent: bytes | None) -> None:
    assert ask_for_usage(body) == sent


def test_the_usage_only_chunk_is_removed_and_nothing_else() -> None:
    for name in ("usage_only_final.sse", "text.sse", "tools_partial_json.sse", "parallel_tools.sse"):
        data = (FIXTURES / "openai_chat" / name).read_bytes()
        out = strip_usage_chunks(data)
        frames, kept = data.split(b"\n\n"), out.split(b"\n\n")
        dropped = [f for f in frames if f not in kept]
        assert all(b'"choices":[]' in f.replace(b" ", b"") and b'"usage":{' in f.replace(b" ", b"")
                   for f in dropped), name
        assert [f for f in frames if f in kept] == kept, "the other frames, in order, byte for byte"
        assert usage_of("openai_chat", True, [out]) is None or not dropped
    plain = b'data: {"choices":[{"delta":{"content":"[]"}}],"usage":null}\n\n'
    assert strip_usage_chunks(plain) is plain
    crlf = b'data: {"choices":[],"usage":{"prompt_tokens":1}}\r\n\r\ndata: [DONE]\r\n\r\n'
    assert strip_usage_chunks(crlf) == b"data: [DONE]\r\n\r\n"
