"""What the OpenAI Responses format tests share: fixtures, stream checks, the openai SDK as a client."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx2
import openai
import pydantic
from openai.types.responses import ResponseStreamEvent
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming

from omniroute.canonical import Event, TextBlock, ThinkingBlock, ToolCallBlock
from omniroute.formats import openai_responses as orr
from tests.formats import streams

fixture = streams.Fixtures("openai_responses")
STREAMS = fixture.names(".sse")
STREAM_EVENTS = pydantic.TypeAdapter(ResponseStreamEvent)
CREATE_PARAMS = pydantic.TypeAdapter(ResponseCreateParamsStreaming)

decode_stream = partial(streams.decode_stream, orr.StreamDecoder)


# --- helpers ----------------------------------------------------------------------------------


def encode_stream(events: list[Event], model: str = "gpt-test") -> bytes:
    return streams.encode_events(orr.StreamEncoder(model, True), events)


def sdk_client(body: bytes, content_type: str = "text/event-stream", status: int = 200) -> openai.OpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers={"content-type": content_type}, content=body)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(api_key="sk-test", base_url="http://upstream.test/v1", http_client=http, max_retries=0)


def validate_create_params(body: dict[str, Any]) -> None:
    """Check a request body against the SDK's param types.

    Assistant history is sent as ``{"type": "message", "role": "assistant", "content":
    [output_text…]}`` without an item id — what Codex sends and the API accepts — but the SDK's
    param union only models that content with an ``id`` and ``status``; those items are checked
    by shape instead.
    """
    items = body.get("input") or []
    for item in items:
        if item.get("role") == "assistant":
            assert item["type"] == "message" and all(p["type"] == "output_text" for p in item["content"])
    others = [i for i in items if i.get("role") != "assistant"]
    CREATE_PARAMS.validate_python({**body, "input": others, "stream": True})


def sse_payloads(raw: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    return [(f.event, json.loads(f.data)) for f in streams.sse_frames(raw)]


def texts(folded: dict[str, Any]) -> list[str]:
    return [b.text for b in folded["blocks"] if isinstance(b, TextBlock)]


def calls(folded: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(b.id, b.name, b.arguments) for b in folded["blocks"] if isinstance(b, ToolCallBlock)]


def thoughts(folded: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(b.thinking, b.signature, b.id) for b in folded["blocks"] if isinstance(b, ThinkingBlock)]
