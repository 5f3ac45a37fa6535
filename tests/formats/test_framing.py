"""The one framer (``omniroute.formats.framing``): SSE and NDJSON, both directions.

Property tests build a stream from a model (events with names, multi-line data, comments,
ignored fields, multi-byte UTF-8; ``\\n``, ``\\r\\n``, ``\\r`` or mixed line endings), feed
it whole and in random reads, and require the frames the model predicts, identical for every
split — including splits inside a multi-byte character or between ``\\r`` and ``\\n``.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.formats.framing import (
    SSE_DONE,
    JSONArrayEncoder,
    NDJSONDecoder,
    SSEDecoder,
    SSEFrame,
    encode_ndjson,
    encode_sse,
)

MULTIBYTE = ["é", "ß", "漢字", "こんにちは", "👋🏽", "👩‍💻", "\u2028", "𝄞", "Ω"]

line_text = st.lists(
    st.one_of(
        st.sampled_from(MULTIBYTE),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=8),
    ),
    max_size=5,
).map("".join)

IGNORED_LINES = [": keep-alive", ":", "id: 7", "retry: 3000", ": 注释"]
ENDINGS = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\n", "\r\n", "\r"]}


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[SSEFrame]]:
    """A raw SSE stream and the frames a correct parser returns for it."""
    endings = ENDINGS[draw(st.sampled_from(sorted(ENDINGS)))]
    lines: list[str] = []
    expected: list[SSEFrame] = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.none() | line_text.filter(lambda s: not s.startswith(" ")))
        data = draw(st.lists(line_text, max_size=3))
        event_lines = [f"data: {d}" for d in data]
        if name is not None:
            event_lines.insert(draw(st.integers(0, len(event_lines))), f"event: {name}")
        for extra in draw(st.lists(st.sampled_from(IGNORED_LINES), max_size=2)):
            event_lines.insert(draw(st.integers(0, len(event_lines))), extra)
        lines += [*event_lines, ""]  # a blank line dispatches
        if data:
            expected.append(SSEFrame(name, "\n".join(data).encode()))
    if lines and draw(st.booleans()):
        lines.pop()  # the last event is not followed by a blank line: close() dispatches it
    raw, previous = "", ""
    for line in lines:
        # "\r" then an empty line ended by "\n" is one CRLF break, not two: avoid generating it
        choices = ["\r", "\r\n"] if previous == "\r" and not line and len(endings) > 1 else endings
        previous = draw(st.sampled_from(choices))
        raw += line + previous
    return raw.encode(), expected


def feed_all(decoder: SSEDecoder | NDJSONDecoder, raw: bytes, cuts: list[int]) -> list:
    bounds = [0, *sorted(cuts), len(raw)]
    out: list = []
    for a, b in itertools.pairwise(bounds):
        if a != b:  # see test_empty_read_after_cr_is_harmless: empty reads are not fed here
            out += decoder.feed(raw[a:b])
    return out + decoder.close()



@settings(max_examples=300, deadline=None)
@given(stream=sse_streams(), data=st.data())
def test_sse_random_splits_give_the_model_frames(stream: tuple[bytes, list[SSEFrame]], data: st.DataObject) -> None:
    raw, expected = stream
    assert feed_all(SSEDecoder(), raw, []) == expected
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=20))
    assert feed_all(SSEDecoder(), raw, cuts) == expected


@settings(max_examples=100, deadline=None)
@given(stream=sse_streams())
def test_sse_one_byte_reads(stream: tuple[bytes, list[SSEFrame]]) -> None:
    raw, expected = stream
    assert feed_all(SSEDecoder(), raw, list(range(len(raw)))) == expected


def test_sse_split_between_cr_and_lf() -> None:
    raw = b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"
    for i in range(len(raw) + 1):
        dec = SSEDecoder()
        assert dec.feed(raw[:i]) + dec.feed(raw[i:]) + dec.close() == [SSEFrame(None, b"a\nb"), SSEFrame(None, b"c")]


def test_sse_fields() -> None:
    raw = b"event: delta\ndata:no-space\ndata:  two spaces\ndata\nid: 1\nunknown: x\n\n: comment only\n\n"
    dec = SSEDecoder()
    assert dec.feed(raw) == [SSEFrame("delta", b"no-space\n two spaces\n")]
    assert dec.pending == b""


def test_sse_pending_keeps_an_unfinished_event() -> None:
    dec = SSEDecoder()
    assert dec.feed(b'data: {"a":') == []
    assert dec.pending == b'data: {"a":'
    assert dec.feed(b"1}\n\n") == [SSEFrame(None, b'{"a":1}')]
    assert dec.close() == []


def test_empty_read_after_cr_is_harmless() -> None:
    """``feed(b"...\\r")``, ``feed(b"")``, ``feed(b"\\n...")``: the CRLF is one line break, so the
    empty read must not forget the pending CR (that would dispatch the event early)."""
    dec = SSEDecoder()
    frames = dec.feed(b"data: a\r") + dec.feed(b"") + dec.feed(b"\ndata: b\r\n\r\n") + dec.close()
    assert frames == [SSEFrame(None, b"a\nb")]


def test_leading_bom_is_stripped() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"\xef\xbb\xbfdata: x\n\n") == [SSEFrame(None, b"x")]
    split = SSEDecoder()
    assert split.feed(b"\xef") + split.feed(b"\xbb") + split.feed(b"\xbfdata: y\n\n") == [SSEFrame(None, b"y")]
    assert SSEDecoder().feed(b"data: \xef\xbb\xbfz\n\n") == [SSEFrame(None, b"\xef\xbb\xbfz")]  # only at the start


# --- NDJSON -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | line_text | st.sampled_from(MULTIBYTE),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(line_text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def ndjson_streams(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    values = draw(st.lists(json_values, max_size=8))
    lines = [json.dumps(v, ensure_ascii=False).encode() for v in values]
    out = b""
    for line in lines:
        out += draw(st.sampled_from([b"", b"\n", b"  \n"]))  # blank lines are skipped
        out += line + draw(st.sampled_from([b"\n", b"\r\n"]))
    if out and draw(st.booleans()):
        out = out.rstrip(b"\r\n")  # no final newline: close() returns the last line
    return out, lines


@settings(max_examples=300, deadline=None)
@given(stream=ndjson_streams(), data=st.data())
def test_ndjson_random_splits(stream: tuple[bytes, list[bytes]], data: st.DataObject) -> None:
    raw, expected = stream
    assert feed_all(NDJSONDecoder(), raw, []) == expected
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=20))
    assert feed_all(NDJSONDecoder(), raw, cuts) == expected
    assert [json.loads(line) for line in feed_all(NDJSONDecoder(), raw, cuts)] == [json.loads(x) for x in expected]


def test_ndjson_cr_alone_is_not_a_separator() -> None:
    """NDJSON (https://github.com/ndjson/ndjson-spec) separates records with ``\\n`` only."""
    dec = NDJSONDecoder()
    assert dec.feed(b'{"a":1}\r{"b":2}\r') == []
    assert dec.close() == [b'{"a":1}\r{"b":2}']


def test_ndjson_split_inside_multibyte_character() -> None:
    raw = encode_ndjson('{"t":"漢字👩‍💻"}'.encode()) * 3
    for i in range(len(raw) + 1):
        dec = NDJSONDecoder()
        lines = dec.feed(raw[:i]) + dec.feed(raw[i:]) + dec.close()
        assert [json.loads(x) for x in lines] == [{"t": "漢字👩‍💻"}] * 3


# --- encoders ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(items=st.lists(st.tuples(json_values, st.none() | st.sampled_from(["delta", "message_start", "é"]))))
def test_encode_sse_round_trips(items: list[tuple[object, str | None]]) -> None:
    raw = b"".join(encode_sse(json.dumps(v, ensure_ascii=False).encode(), name) for v, name in items) + SSE_DONE
    frames = feed_all(SSEDecoder(), raw, [])
    assert frames[-1] == SSEFrame(None, b"[DONE]")
    assert [(json.loads(f.data), f.event) for f in frames[:-1]] == items


def test_encode_sse_bytes() -> None:
    assert encode_sse(b"{}") == b"data: {}\n\n"
    assert encode_sse(b"{}", "ping") == b"event: ping\ndata: {}\n\n"
    assert SSE_DONE == b"data: [DONE]\n\n"


@settings(max_examples=200, deadline=None)
@given(values=st.lists(json_values, max_size=6))
def test_json_array_encoder(values: list[object]) -> None:
    enc = JSONArrayEncoder()
    raw = b"".join(enc.item(json.dumps(v, ensure_ascii=False).encode()) for v in values) + enc.close()
    assert json.loads(raw) == values


def test_json_array_encoder_shapes() -> None:
    enc = JSONArrayEncoder()
    assert enc.close() == b"[]"
    enc = JSONArrayEncoder()
    assert enc.item(b"1") == b"[1"
    assert enc.item(b"2") == b",\r\n2"
    assert enc.close() == b"]"


def test_encode_ndjson() -> None:
    assert encode_ndjson(b'{"a":1}') == b'{"a":1}\n'
    dec = NDJSONDecoder()
    assert dec.feed(encode_ndjson(b"1") + encode_ndjson(b"2")) == [b"1", b"2"]
