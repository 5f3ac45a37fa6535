"""What the Ollama format tests share: fixtures, stream checks, the ollama SDK as a client."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import ollama

from omniroute.canonical import Event, MessageStart
from omniroute.formats import ollama as fmt
from omniroute.formats.framing import NDJSONDecoder
from tests.formats import streams

load = streams.Fixtures("ollama")
NDJSON_FIXTURES = load.names(".ndjson")

decode_chunks = partial(streams.decode_chunks, fmt.StreamDecoder, new_framer=NDJSONDecoder)
stream_of = partial(streams.stream_of, MessageStart(id="x", model="qwen3", created=1748386497))


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def encode_all(events: list[Event], include_usage: bool = True) -> bytes:
    return streams.encode_events(fmt.StreamEncoder("qwen3", include_usage), events)


def sdk_client(handler: Any) -> ollama.Client:
    return ollama.Client(host="http://gw", transport=httpx.MockTransport(handler))
