"""Stream-test tools shared by the wire-format tests: fixtures, cut reads, decoding, grammar, folding.

Every format test drives its stream decoder the way the gateway does (bytes from network reads,
cut anywhere, through the one framer) and judges the canonical events with the same rules.
What differs between formats is passed in, never switched on:

=====================  ==========================================================================
argument               what a format passes
=====================  ==========================================================================
``new_decoder``        its ``StreamDecoder`` class (called once per decoded stream)
``new_framer``         ``SSEDecoder`` (the default) or ``NDJSONDecoder`` (Ollama)
``also``               events it may emit between others besides the bare grammar (``Ping``, ``Unknown``)
``deltas``             the deltas each block kind takes, when it has more than ``DELTAS`` (Gemini)
``start``              the ``MessageStart`` a built stream opens with
=====================  ==========================================================================

A test module binds these once (``decode_chunks = partial(streams.decode_chunks, fmt.StreamDecoder)``)
and keeps its call sites short.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
    UnknownBlock,
    Usage,
)
from omniroute.formats.framing import SSEDecoder, SSEFrame

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Decoder(Protocol):
    def feed(self, frame: Any) -> list[Event]: ...
    def close(self) -> list[Event]: ...


class Framer(Protocol):
    def feed(self, chunk: bytes) -> list[Any]: ...
    def close(self) -> list[Any]: ...


class Encoder(Protocol):
    def encode(self, event: Event) -> bytes: ...


# ── golden fixtures ──────────────────────────────────────────────────────────────────────


class Fixtures:
    """One format's folder of golden fixtures: ``load(name)`` reads one, ``load.names(".sse")`` lists some."""

    def __init__(self, folder: str) -> None:
        self.path = FIXTURES / folder

    def __call__(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def names(self, suffix: str) -> list[str]:
        return sorted(p.name for p in self.path.glob(f"*{suffix}"))


# ── cutting bytes into reads ─────────────────────────────────────────────────────────────


def split_at(data: bytes, cuts: Iterable[int] = ()) -> list[bytes]:
    """``data`` cut at ``cuts``, in any order; a repeated cut, 0 or ``len(data)`` gives an empty read."""
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def random_cuts(size: int, rng: random.Random, most: int = 60) -> list[int]:
    """Between 1 and ``most`` distinct cut points strictly inside ``size`` bytes, sorted."""
    return sorted(rng.sample(range(1, size), min(size - 1, rng.randint(1, most))))


def random_chunks(data: bytes, rng: random.Random) -> list[bytes]:
    return split_at(data, random_cuts(len(data), rng))


def inside_characters(data: bytes) -> list[int]:
    """The cut points that fall inside a multi-byte UTF-8 character: before each continuation byte."""
    cuts = [i for i in range(1, len(data)) if data[i] & 0xC0 == 0x80]
    assert cuts, "no multi-byte character to cut"
    return cuts


# ── decoding and encoding ────────────────────────────────────────────────────────────────


def decode_chunks(
    new_decoder: Callable[[], Decoder], chunks: Iterable[bytes], new_framer: Callable[[], Framer] = SSEDecoder
) -> list[Event]:
    """Frame and decode ``chunks`` as successive network reads, then close the framer and the decoder."""
    framer, decoder = new_framer(), new_decoder()
    events: list[Event] = []
    for chunk in chunks:
        for frame in framer.feed(chunk):
            events += decoder.feed(frame)
    for frame in framer.close():
        events += decoder.feed(frame)
    return events + decoder.close()


def decode_stream(
    new_decoder: Callable[[], Decoder],
    data: bytes,
    cuts: Iterable[int] = (),
    new_framer: Callable[[], Framer] = SSEDecoder,
) -> list[Event]:
    """``data`` read in pieces cut at ``cuts`` (see ``split_at``), framed and decoded."""
    return decode_chunks(new_decoder, split_at(data, cuts), new_framer)


def check_every_split(
    data: bytes, decode: Callable[[list[bytes]], list[Event]], seed: str, rounds: int = 40
) -> list[Event]:
    """Decode ``data`` in one read, one byte per read and ``rounds`` random splits; all must agree.

    ``decode`` takes the list of reads (a bound ``decode_chunks``). Returns the events of the single read.
    """
    whole = decode([data])
    assert whole, "no events"
    assert decode(split_at(data, range(1, len(data)))) == whole
    rng = random.Random(seed)
    for _ in range(rounds):
        assert decode(random_chunks(data, rng)) == whole
    return whole


def encode_events(encoder: Encoder, events: Iterable[Event]) -> bytes:
    """What ``encoder`` writes for ``events``, fed one at a time."""
    return b"".join(encoder.encode(e) for e in events)


def sse_frames(data: bytes) -> list[SSEFrame]:
    """The frames of what an encoder wrote; it must end on a frame boundary."""
    framer = SSEDecoder()
    frames = framer.feed(data)
    assert framer.close() == [], "the output ends inside a frame"
    return frames


# ── the grammar, and what a stream amounts to ────────────────────────────────────────────


Deltas = dict[type, tuple[type, ...]]

DELTAS: Deltas = {
    TextBlock: (TextDelta,),
    ThinkingBlock: (ThinkingDelta, SignatureDelta),
    ToolCallBlock: (ArgumentsDelta,),
}


def check_grammar(events: Sequence[Event], also: tuple[type, ...] = (), deltas: Deltas = DELTAS) -> None:
    """``MessageStart (BlockStart BlockDelta* BlockStop)* MessageDelta? MessageStop``, or a ``StreamError`` end.

    The strict reading of ``omniroute.canonical.stream``: blocks are sequential and indexed from 0
    without gaps, each delta is one its block takes (``deltas``), nothing but ``MessageStop``
    follows the ``MessageDelta``, and only a failed stream may end inside a block. Events in
    ``also`` (``Ping``, ``Unknown``) may stand between the others; a format that never emits
    them passes nothing, so one that appears fails the check.
    """
    assert events, "no events"
    *body, last = events
    failed = type(last) is StreamError  # a failed stream may stop inside a block
    assert failed or type(last) is MessageStop, last
    assert body and type(body[0]) is MessageStart, events[0]
    open_index, next_index, kind, after_message_delta = None, 0, None, False
    for e in body[1:]:
        assert not after_message_delta, f"{e} after MessageDelta"
        if type(e) is BlockStart:
            assert open_index is None and e.index == next_index, e
            open_index, kind, next_index = e.index, type(e.block), next_index + 1
        elif type(e) is BlockDelta:
            assert e.index == open_index and isinstance(e.delta, deltas.get(kind, ())), e
        elif type(e) is BlockStop:
            assert e.index == open_index, e
            open_index = None
        elif type(e) is MessageDelta:
            assert open_index is None, e
            after_message_delta = True
        else:
            assert type(e) in also, e
    assert failed or open_index is None


def fold(events: Iterable[Event], deltas: Deltas = DELTAS) -> dict[str, Any]:
    """The answer a stream describes, checking blocks and deltas on the way (see ``check_grammar``).

    Keys: ``start`` (the ``MessageStart``), ``blocks`` (each block with its deltas applied),
    ``stop``, ``stop_sequence`` and ``usage`` (from the ``MessageDelta``s, a later ``None``
    keeping an earlier value), ``error`` (the ``StreamError``, after which nothing may come).
    An ``UnknownBlock`` that takes ``ArgumentsDelta`` (Anthropic's server tools) collects the
    text under ``raw["partial_json"]``.
    """
    blocks: list[Any] = []
    out: dict[str, Any] = dict.fromkeys(("start", "stop", "stop_sequence", "usage", "error"), None)
    out["blocks"] = blocks
    open_index: int | None = None
    for e in events:
        assert out["error"] is None, "nothing may follow a StreamError"
        if type(e) is MessageStart:
            out["start"] = e
        elif type(e) is BlockStart:
            assert open_index is None, "blocks are sequential"
            assert e.index == len(blocks), "indexes count up from 0 without gaps"
            open_index = e.index
            blocks.append(msgspec.structs.replace(e.block))
        elif type(e) is BlockDelta:
            assert e.index == open_index and isinstance(e.delta, deltas.get(type(blocks[e.index]), ())), e
            _apply(blocks[e.index], e.delta)
        elif type(e) is BlockStop:
            assert e.index == open_index, e
            open_index = None
        elif type(e) is MessageDelta:
            out["stop"] = e.stop_reason or out["stop"]
            out["stop_sequence"] = e.stop_sequence or out["stop_sequence"]
            out["usage"] = e.usage or out["usage"]
        elif type(e) is StreamError:
            out["error"] = e
    return out


def _apply(block: Any, delta: Any) -> None:
    """Append a delta's payload to its (copied) block; ``fold`` has checked that the block takes it."""
    if type(delta) is TextDelta:
        block.text += delta.text
    elif type(delta) is ThinkingDelta:
        block.thinking += delta.thinking
    elif type(delta) is SignatureDelta:
        block.signature = (block.signature or "") + delta.signature
    elif type(delta) is ArgumentsDelta and type(block) is UnknownBlock:
        block.raw = {**block.raw, "partial_json": block.raw.get("partial_json", "") + delta.partial_json}
    elif type(delta) is ArgumentsDelta:
        block.arguments += delta.partial_json


def stream_of(
    start: MessageStart, *blocks: list[Any], stop: StopReason = StopReason.END_TURN, usage: Usage | None = None
) -> list[Event]:
    """A well-formed stream: ``start``, then per block ``[block, *deltas]`` its start, deltas and stop, then the end."""
    events: list[Event] = [start]
    for i, block_events in enumerate(blocks):
        block, *deltas = block_events
        events += [BlockStart(i, block), *(BlockDelta(i, d) for d in deltas), BlockStop(i)]
    return [*events, MessageDelta(stop_reason=stop, usage=usage), MessageStop()]
