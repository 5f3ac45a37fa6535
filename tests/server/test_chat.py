"""POST /v1/chat/completions through the real gateway, with the official openai SDK."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import openai
import pytest

from tests.support.blackhole import hanging_port
from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


def client(gw: RunningGateway, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0, **kw)


def test_non_streaming_answer_and_model_rewrite(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    answer = client(gateway).chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES, temperature=0.3)
    assert answer.choices[0].message.content == "Hello from the mock upstream."
    assert answer.usage.total_tokens == 18
    sent = upstream.requests[-1]
    assert sent["model"] == "gpt-4o-mini"  # provider prefix stripped
    assert sent["messages"] == MESSAGES and sent["temperature"] == 0.3
    assert upstream.headers[-1]["Authorization"] == "Bearer sk-upstream"


def test_streaming_relays_chunks_done_and_usage(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    stream = client(gateway).chat.completions.create(
        model="mock/gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the mock upstream."
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 18
    assert upstream.requests[-1]["stream_options"] == {"include_usage": True}


def test_stream_bytes_are_forwarded_unchanged(gateway: RunningGateway) -> None:
    body = {"model": "mock/gpt-4o-mini", "messages": MESSAGES, "stream": True}
    with gateway.http.stream("POST", "/v1/chat/completions", json=body) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(resp.iter_bytes())
    events = [e for e in raw.split(b"\n\n") if e]
    assert events[-1] == b"data: [DONE]"
    assert json.loads(events[1][6:])["choices"][0]["delta"] == {"content": "Hello"}


def test_stream_chunks_arrive_incrementally(gateway: RunningGateway) -> None:
    body = {"model": "mock/slow", "messages": MESSAGES, "stream": True}
    arrivals = []
    with gateway.http.stream("POST", "/v1/chat/completions", json=body) as resp:
        for _piece in resp.iter_raw():
            arrivals.append(time.monotonic())
            if len(arrivals) == 4:
                break
    assert arrivals[-1] - arrivals[0] > 0.3  # relayed as produced, not buffered to the end


def test_async_client_stream_and_not(gateway: RunningGateway) -> None:
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0) as c:
            whole = await c.chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES)
            parts = [
                ch.choices[0].delta.content or ""
                async for ch in await c.chat.completions.create(
                    model="mock/gpt-4o-mini", messages=MESSAGES, stream=True
                )
            ]
            return whole.choices[0].message.content, "".join(parts)

    whole, streamed = asyncio.run(run())
    assert whole == streamed == "Hello from the mock upstream."


def test_concurrent_requests(gateway: RunningGateway) -> None:
    async def run() -> list[str]:
        async with openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0) as c:
            calls = [c.chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES) for _ in range(40)]
            return [r.choices[0].message.content for r in await asyncio.gather(*calls)]

    assert set(asyncio.run(run())) == {"Hello from the mock upstream."}


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        (b'{"model": "mock/x", "messages": [', None, "not valid JSON"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model", "model"),
        (b'{"model": "mock/x"}', "messages", "messages"),
        (b'{"model": "mock/x", "messages": "hi"}', "messages", "messages"),
        (b'{"model": "mock/x", "messages": []}', "messages", "at least one"),
        (b'{"model": 5, "messages": [{"role": "user", "content": "hi"}]}', "model", "model"),
        (b'{"model": "mock/x", "messages": [{"role": "robot", "content": "hi"}]}', "messages[0].role",
         "Invalid value: 'robot'"),
        (b'{"model": "mock/x", "messages": [{"role": "user", "content": 7}]}', "messages[0].content", "content"),
        (b'{"model": "mock/x", "messages": [{"role": "user"}], "temperature": "hot"}', "temperature", "temperature"),
        (b'{"model": "mock/x", "messages": [{"role": "user"}], "stream": "yes"}', "stream", "stream"),
        (b"[1, 2]", None, "object"),
    ],
)
def test_bad_bodies_get_openai_400(gateway: RunningGateway, body: bytes, param: str | None, words: str) -> None:
    resp = gateway.http.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]


def test_sdk_raises_bad_request_on_invalid_body(gateway: RunningGateway) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(gateway).chat.completions.create(model="mock/x", messages=[{"role": "wizard", "content": "x"}])
    assert "Invalid value: 'wizard'. Supported values are:" in info.value.message  # OpenAI's words
    assert (info.value.body["param"], info.value.body["code"]) == ("messages[0].role", "invalid_value")


def test_unknown_model_is_404_naming_it(gateway: RunningGateway) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client(gateway).chat.completions.create(model="nosuch-model", messages=MESSAGES)
    assert "nosuch-model" in info.value.message
    assert info.value.body["code"] == "model_not_found"


def test_known_provider_without_connection_is_400(gateway: RunningGateway) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(gateway).chat.completions.create(model="groq/llama-3.1-8b-instant", messages=MESSAGES)
    assert "groq" in info.value.message


def test_oversized_body_is_413(gateway: RunningGateway) -> None:
    big = {"model": "mock/gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (1024 * 1024 + 10)}]}
    resp = gateway.http.post("/v1/chat/completions", json=big)
    assert resp.status_code == 413
    assert "limit" in resp.json()["error"]["message"]


def test_chunked_oversized_body_is_413(gateway: RunningGateway) -> None:
    def parts():
        yield b'{"model": "mock/gpt-4o-mini", "messages": [{"role": "user", "content": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}]}'

    with httpx.Client(base_url=gateway.url) as fresh:  # the server drops the connection after an unread body
        resp = fresh.post("/v1/chat/completions", content=parts())
    assert resp.status_code == 413


# -- upstream faults ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_upstream_errors_pass_through_status_and_message(gateway: RunningGateway, status: int) -> None:
    resp = gateway.http.post("/v1/chat/completions", json={"model": f"mock/error-{status}", "messages": MESSAGES})
    assert resp.status_code == status
    assert resp.json()["error"]["message"] == f"mock says {status}"


def test_upstream_refusing_connection_is_502(gateway: RunningGateway) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    gateway.add_openai_upstream(f"http://127.0.0.1:{dead_port}/v1", prefix="deadhost")
    resp = gateway.http.post("/v1/chat/completions", json={"model": "deadhost/m", "messages": MESSAGES})
    assert resp.status_code == 502
    assert "connect" in resp.json()["error"]["message"]


def test_upstream_connect_timeout_is_504(gateway: RunningGateway) -> None:
    with hanging_port() as port:
        gateway.add_openai_upstream(f"http://127.0.0.1:{port}/v1", prefix="blackhole")
        started = time.monotonic()
        resp = gateway.http.post("/v1/chat/completions", json={"model": "blackhole/m", "messages": MESSAGES})
    assert resp.status_code == 504
    assert "connect" in resp.json()["error"]["message"]
    assert time.monotonic() - started < 6  # connect_timeout is 2 s on this gateway


def test_upstream_without_headers_times_out_504(gateway: RunningGateway) -> None:
    started = time.monotonic()
    resp = gateway.http.post("/v1/chat/completions", json={"model": "mock/hang", "messages": MESSAGES})
    assert resp.status_code == 504
    assert resp.json()["error"]["type"] == "timeout_error"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("model", ["mock/drop", "mock/stall", "mock/nodone"])
def test_broken_stream_ends_with_error_event(gateway: RunningGateway, model: str) -> None:
    stream = client(gateway).chat.completions.create(model=model, messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(openai.APIError):
        for c in stream:
            received.append(c.choices[0].delta.content if c.choices else None)
    assert "Hello" in received  # what arrived before the fault was delivered


def test_client_disconnect_cancels_upstream(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    before = upstream.disconnects
    body = {"model": "mock/slow", "messages": MESSAGES, "stream": True}
    with httpx.Client(base_url=gateway.url, timeout=10) as c, c.stream("POST", "/v1/chat/completions", json=body) as r:
        next(r.iter_raw())
    assert upstream.wait_for(lambda: upstream.disconnects > before, timeout=3)


def test_gateway_still_serves_after_faults(gateway: RunningGateway) -> None:
    answer = client(gateway).chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES)
    assert answer.choices[0].message.content
    health = gateway.api("GET", "/api/monitoring/health").json()
    assert health["status"] == "ok"
