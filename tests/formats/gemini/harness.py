"""What the Gemini format tests share: fixtures, stream checks, the google-genai SDK as a client."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import msgspec
from google import genai
from google.genai import types as genai_types

from omniroute.canonical import ArgumentsDelta, Event, MessageStart, SignatureDelta, ToolCallBlock
from omniroute.formats import gemini as fmt
from omniroute.formats.framing import SSEFrame
from tests.formats import streams

load = streams.Fixtures("gemini")
SSE_FIXTURES = load.names(".sse")

# Gemini carries a functionCall's thoughtSignature as a SignatureDelta on the tool call
DELTAS = {**streams.DELTAS, ToolCallBlock: (ArgumentsDelta, SignatureDelta)}
decode_chunks = partial(streams.decode_chunks, fmt.StreamDecoder)
check_grammar = partial(streams.check_grammar, deltas=DELTAS)
fold = partial(streams.fold, deltas=DELTAS)
stream_of = partial(streams.stream_of, MessageStart(id="resp-1", model="gemini-test"))


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def encode_all(events: list[Event], framing: str = "sse", include_usage: bool = True) -> bytes:
    return streams.encode_events(fmt.StreamEncoder("gemini-test", include_usage, framing=framing), events)


def frames_of(data: bytes, framing: str) -> list[bytes]:
    """The chunk JSON texts of an encoded stream, in either framing."""
    if framing == "sse":
        return [f.data for f in streams.sse_frames(data)]
    return [bytes(item) for item in msgspec.json.decode(data, type=list[msgspec.Raw])]


def reencode(events: list[Event], framing: str = "sse") -> list[Event]:
    """canonical → our Gemini stream bytes → our decoder → canonical."""
    dec = fmt.StreamDecoder()
    out: list[Event] = []
    for data in frames_of(encode_all(events, framing), framing):
        out += dec.feed(SSEFrame(None, data))
    return out + dec.close()


def sdk_client(handler: Any) -> genai.Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return genai.Client(api_key="test", http_options=genai_types.HttpOptions(base_url="http://gw", httpx_client=http))
