"""Token and cost accounting through the real gateway: every client format against every
upstream format, streamed and not, each record checked against the mocks' own usage; the
``include_usage`` request an OpenAI pass-through stream gets (and the client does not see);
prompt-cache reads and writes counted as the upstreams count them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.server.matrix_clients import CLIENTS, Ask
from tests.support import usage_upstream as cache_mock
from tests.support.fleet import UPSTREAMS
from tests.support.gateway import RunningGateway
from tests.support.mock_server import ANSWER_TOKENS, PROMPT_TOKENS
from tests.support.openai_upstream import WORDS, chunk
from tests.support.usage_api import records, wait_records
from tests.support.usage_upstream import UsageUpstream

FORMAT_OF = {"openai": "openai_chat", "anthropic": "anthropic", "responses": "openai_responses", "gemini": "gemini",
             "ollama": "ollama"}
#: USD per 1M tokens for the mocks' models (bare ids: any provider)
PRICE = {"input": 1.0, "output": 2.0}
MOCK_MODELS = ("agent", "claude-mock", "gemini-mock", "llama-mock", "gpt-mock")


@pytest.fixture(scope="module")
def priced(matrix_gateway: RunningGateway) -> RunningGateway:
    edits = {model: PRICE for model in MOCK_MODELS}
    assert matrix_gateway.api("PUT", "/api/pricing", {"pricing": edits}).status_code == 200
    return matrix_gateway


def newest(gw: RunningGateway, since: float, **params: Any) -> dict[str, Any]:
    found = wait_records(gw, 1, **{"from": since, **params})
    assert len(found) == 1, [(r["clientFormat"], r["servedModel"]) for r in found]
    return found[0]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("upstream", list(UPSTREAMS))
@pytest.mark.parametrize("client", list(CLIENTS))
def test_tokens_and_cost_in_every_format(priced: RunningGateway, client: str, upstream: str, stream: bool) -> None:
    up = UPSTREAMS[upstream]
    since = time.time()
    answer = CLIENTS[client](priced.url).ask(up.id(), Ask(stream=stream))
    assert answer.text
    r = newest(priced, since, model=up.id())
    assert r["usage"] == {"inputTokens": PROMPT_TOKENS, "outputTokens": ANSWER_TOKENS, "cachedTokens": 0,
                          "cacheWriteTokens": 0, "reasoningTokens": 0}
    assert r["cost"] == pytest.approx((PROMPT_TOKENS * PRICE["input"] + ANSWER_TOKENS * PRICE["output"]) / 1e6)
    assert (r["clientFormat"], r["stream"], r["status"], r["errorKind"]) == (FORMAT_OF[client], stream, 200, None)
    assert r["model"] == up.id() and r["servedModel"].endswith("/" + up.model)
    assert r["attempts"] == [{"provider": r["provider"], "connectionId": r["connectionId"], "model": up.model,
                              "status": 200, "errorKind": None, "latencyMs": r["attempts"][0]["latencyMs"]}]
    assert (r["ttftMs"] is not None) == stream
    assert 0 < r["upstreamMs"] <= r["latencyMs"]
    assert r["overheadMs"] == pytest.approx(r["latencyMs"] - r["upstreamMs"], abs=0.002)
    if answer.usage is not None:  # what the client was told agrees with what was recorded
        assert answer.usage == (PROMPT_TOKENS, ANSWER_TOKENS)


def test_openai_stream_without_include_usage_is_counted_and_not_shown(priced: RunningGateway,
                                                                       mocks: dict[str, Any]) -> None:
    """The client did not ask for usage: the gateway asked the upstream, recorded the counts,
    and the client's stream is the upstream's, byte for byte, without the usage chunk."""
    since = time.time()
    body = {"model": "mock/plain-model", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    got = httpx.post(priced.url + "/v1/chat/completions", json=body, timeout=10)
    assert got.status_code == 200
    assert mocks["openai"].requests[-1]["stream_options"] == {"include_usage": True}
    frames = [chunk("plain-model", {"role": "assistant", "content": ""})]
    frames += [chunk("plain-model", {"content": w}) for w in WORDS]
    frames += [chunk("plain-model", {}, "stop"), b"data: [DONE]\n\n"]
    assert got.content == b"".join(frames)
    r = newest(priced, since, model="mock/plain-model")
    assert (r["usage"]["inputTokens"], r["usage"]["outputTokens"]) == (PROMPT_TOKENS, ANSWER_TOKENS)


def test_openai_stream_that_asked_for_usage_keeps_it(priced: RunningGateway, mocks: dict[str, Any]) -> None:
    sdk = openai.OpenAI(base_url=priced.url + "/v1", api_key="x", max_retries=0)
    chunks = list(sdk.chat.completions.create(model="mock/plain-model", messages=[{"role": "user", "content": "hi"}],
                                              stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == PROMPT_TOKENS
    chunks = list(sdk.chat.completions.create(model="mock/plain-model", messages=[{"role": "user", "content": "hi"}],
                                              stream=True, stream_options={"include_usage": False}))
    assert all(c.usage is None for c in chunks)
    assert mocks["openai"].requests[-1]["stream_options"] == {"include_usage": True}


def test_failed_request_is_recorded_with_its_error(priced: RunningGateway) -> None:
    since = time.time()
    got = httpx.post(priced.url + "/v1/chat/completions", timeout=10,
                     json={"model": "nope/unknown", "messages": [{"role": "user", "content": "hi"}]})
    assert got.status_code == 404
    r = newest(priced, since, model="nope/unknown")
    assert (r["status"], r["errorKind"], r["provider"], r["cost"]) == (404, "not_found", None, 0.0)
    assert r["usage"]["inputTokens"] == 0 and r["upstreamMs"] is None and r["attempts"] == []


# -- prompt-cache reads and writes ----------------------------------------------------------------
CACHE_PRICE = {"input": 2.0, "output": 8.0, "cachedInput": 0.5, "cacheWrite": 2.5}


@pytest.fixture(scope="module")
def cache_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    mock = UsageUpstream().start()
    gw = RunningGateway(tmp_path_factory.mktemp("cache-usage"))
    gw.add_openai_upstream(mock.base_url, prefix="cachechat")
    _anthropic_node(gw, mock.base_url, "cachemsg")
    assert gw.api("PUT", "/api/pricing", {"pricing": {"cached": CACHE_PRICE}}).status_code == 200
    yield gw
    gw.stop()
    mock.stop()


def _anthropic_node(gw: RunningGateway, base_url: str, prefix: str) -> None:
    node = gw.api("POST", "/api/provider-nodes", {"prefix": prefix, "baseUrl": base_url, "name": prefix,
                                                  "type": "anthropic-compatible"})
    assert node.status_code == 201, node.text
    conn = gw.api("POST", "/api/providers", {"provider": node.json()["node"]["id"], "apiKey": "k"})
    assert conn.status_code == 201, conn.text


def _ask(gw: RunningGateway, client: str, model: str, stream: bool) -> None:
    messages = [{"role": "user", "content": "hi"}]
    if client == "openai":
        sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0)
        if stream:
            list(sdk.chat.completions.create(model=model, messages=messages, stream=True))
        else:
            sdk.chat.completions.create(model=model, messages=messages)
        return
    sdk2 = anthropic.Anthropic(base_url=gw.url, api_key="x", max_retries=0)
    if stream:
        with sdk2.messages.stream(model=model, max_tokens=64, messages=messages) as s:
            s.get_final_message()
    else:
        sdk2.messages.create(model=model, max_tokens=64, messages=messages)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("upstream", ["cachechat", "cachemsg"])
@pytest.mark.parametrize("client", ["openai", "anthropic"])
def test_cache_reads_and_writes_are_counted(cache_gw: RunningGateway, client: str, upstream: str,
                                            stream: bool) -> None:
    """``inputTokens`` counts every prompt token (cached ones included, Anthropic's cache
    reads and writes added in); ``cachedTokens`` / ``cacheWriteTokens`` say how many."""
    since = time.time()
    _ask(cache_gw, client, f"{upstream}/cached", stream)
    r = newest(cache_gw, since, model=f"{upstream}/cached")
    written = cache_mock.WRITTEN if upstream == "cachemsg" else 0
    reasoning = cache_mock.REASONING if upstream == "cachechat" else 0
    assert r["usage"] == {"inputTokens": cache_mock.PROMPT, "outputTokens": cache_mock.OUTPUT,
                          "cachedTokens": cache_mock.CACHED, "cacheWriteTokens": written,
                          "reasoningTokens": reasoning}
    fresh = cache_mock.PROMPT - cache_mock.CACHED - written
    expected = (fresh * 2.0 + cache_mock.CACHED * 0.5 + written * 2.5 + cache_mock.OUTPUT * 8.0) / 1e6
    assert r["cost"] == pytest.approx(expected)


def test_totals_equal_the_sum_of_records(cache_gw: RunningGateway) -> None:
    """History and the per-connection totals add up to exactly the records they cover."""
    found = records(cache_gw)
    assert found
    hist = cache_gw.api("GET", "/api/usage/history", params={"bucket": "day"}).json()["buckets"]
    for field in ("inputTokens", "outputTokens", "cachedTokens", "cacheWriteTokens", "reasoningTokens"):
        assert sum(b[field] for b in hist) == sum(r["usage"][field] for r in found)
    assert sum(b["cost"] for b in hist) == pytest.approx(sum(r["cost"] for r in found), abs=1e-12)
    assert sum(b["requests"] for b in hist) == len(found)
    for connection in {r["connectionId"] for r in found}:
        mine = [r for r in found if r["connectionId"] == connection]
        totals = cache_gw.api("GET", f"/api/usage/{connection}").json()
        assert totals["requests"] == len(mine)
        assert totals["inputTokens"] == sum(r["usage"]["inputTokens"] for r in mine)
        assert totals["cost"] == pytest.approx(sum(r["cost"] for r in mine), abs=1e-12)
        assert totals["lastUsed"] == max(r["timestamp"] for r in mine)
