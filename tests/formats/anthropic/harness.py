"""What the Anthropic format tests share: fixtures, stream checks, the official SDK as a client."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import anthropic
import httpx2
import pytest

from omniroute.canonical import ArgumentsDelta, Event, Ping, Unknown, UnknownBlock
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import anthropic as fmt
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
