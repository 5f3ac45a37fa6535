"""What the OpenAI Chat format tests share: fixtures, stream checks, the openai SDK as a client."""

from __future__ import annotations

from functools import partial

import httpx
import openai
from openai.types.chat import ChatCompletionChunk

from omniroute.canonical import Event, MessageDelta
from omniroute.formats import openai_chat as oc
from tests.formats import streams

fixture = streams.Fixtures("openai_chat")
STREAMS = fixture.names(".sse")

decode_stream = partial(streams.decode_stream, oc.StreamDecoder)


# --- helpers ----------------------------------------------------------------------------------


def final(events: list[Event]) -> MessageDelta | None:
    return next((e for e in events if type(e) is MessageDelta), None)


def sse_data(out: bytes) -> list[str]:
    return [f.data.decode() for f in streams.sse_frames(out)]


def sdk_client(body: bytes, content_type: str = "text/event-stream") -> openai.OpenAI:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body)

    return openai.OpenAI(api_key="sk-test", base_url="http://gw.test/v1", http_client=httpx.Client(
        transport=httpx.MockTransport(handler)), max_retries=0)


def sdk_stream(body: bytes) -> list[ChatCompletionChunk]:
    stream = sdk_client(body).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return list(stream)


def encode_all(events: list[Event], model: str = "client-model", include_usage: bool = False) -> bytes:
    return streams.encode_events(oc.StreamEncoder(model, include_usage), events)


USER = {"role": "user", "content": "hi"}
