"""``X-OmniRoute-Progress: true`` through a real 2-worker gateway: comment events on OpenAI Chat,
Responses and Anthropic streams that their SDKs skip; the stages in a header for Gemini and
Ollama, whose SDKs would choke on anything else in the body; fallback and cache-hit stages;
a failure before the first token as the stream's own error event; nothing without the header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.caching.conftest import unique
from tests.caching.sdk_askers import ASKERS
from tests.support.fleet import connect, start_mocks, stop_mocks
from tests.support.gateway import RunningGateway

ON = {"X-OmniRoute-Progress": "true"}
MODEL = "mock/gpt-4o-mini"


@pytest.fixture(scope="module")
def mocks() -> Iterator[dict[str, Any]]:
    servers = start_mocks()
    yield servers
    stop_mocks(servers)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("progress"), "--workers", "2", "--first-byte-timeout", "5")
    try:
        connect(gateway, mocks)
        combo = {"name": "falls-back", "models": ["mock/error-500", MODEL]}
        assert gateway.api("POST", "/api/combos", combo).status_code == 201
    except BaseException:
        gateway.stop()
        raise
    yield gateway
    gateway.stop()


def raw_stream(gw: RunningGateway, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[Any, bytes]:
    with httpx.stream("POST", gw.url + path, json=body, headers=headers, timeout=30) as r:
        return r.headers, b"".join(r.iter_bytes())


def stages(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[len(b": progress "):]) for line in raw.split(b"\n") if line.startswith(b": progress ")]


def chat_body(model: str = MODEL, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": unique()}], "stream": True, **extra}


def test_openai_stream_carries_comment_events(gw: RunningGateway) -> None:
    headers, raw = raw_stream(gw, "/v1/chat/completions", chat_body(), ON)
    assert headers["x-omniroute-progress"] == "enabled"
    seen = stages(raw)
    assert [s["stage"] for s in seen] == ["queued", "routed", "first_token"]
    assert seen[1]["provider"] and seen[1]["model"] == "gpt-4o-mini" and seen[1]["attempt"] == 1
    assert seen[2]["ms"] > 0
    assert raw.rstrip().endswith(b"data: [DONE]")


@pytest.mark.parametrize("client", ["openai", "anthropic", "responses", "gemini", "ollama"])
def test_every_sdk_parses_a_stream_with_progress(client: str, gw: RunningGateway) -> None:
    text, usage = ASKERS[client](gw.url, MODEL, unique(), True, ON)
    assert text == "Hello from the mock upstream." and usage == (12, 6)


@pytest.mark.parametrize(("path", "body"), [
    ("/v1beta/models/mock/gpt-4o-mini:streamGenerateContent?alt=sse", {"contents": [{"parts": [{"text": "hi"}]}]}),
    ("/v1beta/models/mock/gpt-4o-mini:streamGenerateContent", {"contents": [{"parts": [{"text": "hi"}]}]}),
    ("/api/chat", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}),
])
def test_gemini_and_ollama_get_the_stages_in_a_header(path: str, body: dict[str, Any], gw: RunningGateway) -> None:
    headers, raw = raw_stream(gw, path, body, ON)
    assert headers["x-omniroute-progress"] == "headers"
    assert [s["stage"] for s in json.loads(headers["x-omniroute-progress-events"])] == [
        "queued", "routed", "first_token"]
    assert b": progress" not in raw


def test_fallback_and_cache_hit_stages(gw: RunningGateway) -> None:
    _h, raw = raw_stream(gw, "/v1/chat/completions", chat_body("falls-back"), ON)
    seen = [s["stage"] for s in stages(raw)]
    assert seen == ["queued", "routed", "fallback", "routed", "first_token"]
    assert stages(raw)[2]["error"] == "upstream_error" and stages(raw)[2]["status"] == 500
    body = chat_body(temperature=0)
    raw_stream(gw, "/v1/chat/completions", body, {})
    headers, raw = raw_stream(gw, "/v1/chat/completions", body, ON)
    assert headers["x-omniroute-cache"] == "HIT"
    assert stages(raw) == [{"stage": "cache_hit", "match": "exact"}]
    assert raw.rstrip().endswith(b"data: [DONE]")
    gw.api("POST", "/api/resilience/reset")


def test_a_failure_before_the_first_token_is_a_stream_error(gw: RunningGateway) -> None:
    sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0, default_headers=ON)
    with pytest.raises(openai.APIError, match="mock says 400"):
        for _ in sdk.chat.completions.create(model="mock/error-400", messages=[{"role": "user", "content": "hi"}],
                                             stream=True):
            pass


def test_nothing_extra_without_the_header(gw: RunningGateway) -> None:
    headers, raw = raw_stream(gw, "/v1/chat/completions", chat_body(), {})
    assert "x-omniroute-progress" not in headers and b": progress" not in raw
    plain = httpx.post(gw.url + "/v1/chat/completions", headers=ON, timeout=30,
                       json={**chat_body(), "stream": False})
    assert "x-omniroute-progress" not in plain.headers  # a JSON answer has no progress
