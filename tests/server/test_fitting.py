"""Request fitting through the real gateway (docs/providers.md, "Model catalogue and request
fitting"; ``omniroute/providers/fit.py``), asserted on what the strict mock upstreams received.

* Max output tokens above the target model's limit (``providers/models.py``) are clamped to
  it on the byte pass-through and on translated routes, from every client format, wherever
  each format keeps them; a request under the limit keeps its figure. (The OpenAI mock
  refuses more than a model's limit, as OpenAI does.)
* Reasoning parameters are dropped on translated routes to a model that does not reason, and
  kept for one that does. (The OpenAI mock refuses ``reasoning_effort`` for gpt-4o-mini.)
* Anthropic ``cache_control`` hints never reach an OpenAI-format row that does not take them
  (nor Gemini, Responses, Ollama); they stay for rows that do (Anthropic, OpenRouter).
* Images to a model without vision, or to a text-only row, are a 400 in the client's dialect
  naming ``messages`` — on the pass-through as on translated routes — and nothing goes upstream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import gemini_upstream
from tests.support.client_wire import error_of, post
from tests.support.fleet import start_gateway
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    """The five mocks, plus two OpenAI-format rows on the OpenAI mock: ``deepseek`` (text-only)
    and ``openrouter`` (takes cache hints)."""
    gateway = start_gateway(tmp_path_factory.mktemp("fitting-gw"), mocks)
    try:
        for provider in ("deepseek", "openrouter"):
            conn = gateway.api("POST", "/api/providers", {"provider": provider, "apiKey": API_KEY,
                                                          "baseUrl": mocks["openai"].base_url})
            assert conn.status_code == 201, conn.text
        yield gateway
    finally:
        gateway.stop()


def _send(gw: RunningGateway, mocks: dict[str, Any], client: str, model: str, upstream: str,
          body: dict[str, Any]) -> dict[str, Any]:
    mock = mocks[upstream]
    before = len(mock.requests)
    resp = post(gw, client, model, body)
    assert resp.status_code == 200, resp.text
    assert len(mock.requests) == before + 1
    return mock.requests[-1]


# ── max tokens ───────────────────────────────────────────────────────────────────────────


def _with_max(client: str, n: int) -> dict[str, Any]:
    """A one-question request of ``client``'s format asking for ``n`` output tokens."""
    return {
        "openai": {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": n},
        "anthropic": {"messages": [{"role": "user", "content": "hi"}], "max_tokens": n},
        "responses": {"input": "hi", "max_output_tokens": n},
        "gemini": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                   "generationConfig": {"maxOutputTokens": n}},
        "ollama": {"messages": [{"role": "user", "content": "hi"}], "options": {"num_predict": n}, "stream": False},
    }[client]


def _max_of(upstream: str, body: dict[str, Any]) -> Any:
    """The max output tokens of an upstream body, where its format keeps them."""
    if upstream == "openai":
        return body.get("max_completion_tokens", body.get("max_tokens"))
    if upstream == "gemini":
        return body["generationConfig"]["maxOutputTokens"]
    if upstream == "ollama":
        return body["options"]["num_predict"]
    return body["max_output_tokens" if upstream == "responses" else "max_tokens"]


#: (client, model id, tokens asked, upstream, tokens the upstream gets); the limits are the
#: catalogue's: gpt-4o-mini 16384, gpt-4.1 32768, Claude 4.x 64000, claude-3-5-haiku 8192,
#: gemini-2.5-flash 65536, gemini-2.0-flash 8192, llama-3.3-70b 65536
CLAMPS = [
    ("openai", "mock/gpt-4o-mini", 32000, "openai", 16384),
    ("anthropic", "mock/gpt-4o-mini", 32000, "openai", 16384),
    ("responses", "mock/gpt-4o-mini", 32000, "openai", 16384),
    ("gemini", "mock/gpt-4o-mini", 32000, "openai", 16384),
    ("ollama", "mock/gpt-4o-mini", 32000, "openai", 16384),
    ("openai", "mock/gpt-4o-mini", 1000, "openai", 1000),
    ("anthropic", "anthropic/claude-haiku-4-5", 100000, "anthropic", 64000),
    ("anthropic", "anthropic/claude-sonnet-4-5-20250929", 100000, "anthropic", 64000),
    ("anthropic", "anthropic/claude-haiku-4-5", 1000, "anthropic", 1000),
    ("openai", "anthropic/claude-3-5-haiku", 32000, "anthropic", 8192),
    ("responses", "responses/gpt-4.1", 50000, "responses", 32768),
    ("openai", "responses/gpt-4.1", 50000, "responses", 32768),
    ("gemini", "gemini/gemini-2.0-flash", 20000, "gemini", 8192),
    ("anthropic", "gemini/gemini-2.5-flash", 100000, "gemini", 65536),
    ("ollama", "ollama/llama-3.3-70b", 100000, "ollama", 65536),
    ("responses", "ollama/llama-3.3-70b", 100000, "ollama", 65536),
]


@pytest.mark.parametrize(("client", "model", "asked", "upstream", "sent"), CLAMPS,
                         ids=[f"{c}->{m}-{a}" for c, m, a, _, _ in CLAMPS])
def test_max_tokens_fit_the_model(
    gw: RunningGateway, mocks: dict[str, Any], client: str, model: str, asked: int, upstream: str, sent: int
) -> None:
    body = _send(gw, mocks, client, model, upstream, _with_max(client, asked))
    assert _max_of(upstream, body) == sent
    if client == upstream:  # the pass-through changes nothing else
        expected = _with_max(client, sent)
        if client == "gemini":  # the model is in the URL; the mock records the body camelCased
            assert body == gemini_upstream.normalise(expected)
        else:
            assert body == {**expected, "model": model.partition("/")[2]}


def test_legacy_max_tokens_is_clamped_on_the_pass_through(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 32000, "max_completion_tokens": 20000}
    sent = _send(gw, mocks, "openai", "mock/gpt-4o-mini", "openai", body)
    assert (sent["max_tokens"], sent["max_completion_tokens"]) == (16384, 16384)


# ── reasoning ────────────────────────────────────────────────────────────────────────────

THINKING = {
    "openai": {"messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "low",
               "max_completion_tokens": 8192},
    "anthropic": {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8192,
                  "thinking": {"type": "enabled", "budget_tokens": 2048}},
    "responses": {"input": "hi", "reasoning": {"effort": "low"}},
    "gemini": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
               "generationConfig": {"thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}}},
    "ollama": {"messages": [{"role": "user", "content": "hi"}], "think": True, "stream": False},
}


def _reasons(upstream: str, body: dict[str, Any]) -> bool:
    """Whether the upstream body carries its format's reasoning parameter."""
    if upstream == "gemini":
        return "thinkingConfig" in body["generationConfig"]
    return {"openai": "reasoning_effort", "anthropic": "thinking", "responses": "reasoning",
            "ollama": "think"}[upstream] in body


#: (client, model id, upstream, whether the model reasons — per the catalogue)
REASONING = [
    ("anthropic", "mock/gpt-4o-mini", "openai", False),
    ("responses", "mock/gpt-4o-mini", "openai", False),
    ("gemini", "mock/gpt-4o-mini", "openai", False),
    ("anthropic", "mock/o4-mini", "openai", True),
    ("openai", "anthropic/claude-3-5-haiku", "anthropic", False),
    ("openai", "anthropic/claude-sonnet-4-5", "anthropic", True),
    ("openai", "gemini/gemini-2.0-flash", "gemini", False),
    ("openai", "gemini/gemini-2.5-flash", "gemini", True),
    ("anthropic", "responses/gpt-4.1", "responses", False),
    ("anthropic", "responses/o3", "responses", True),
    ("openai", "ollama/llama-3.3-70b", "ollama", False),
    ("openai", "ollama/qwen-3-32b", "ollama", True),
]


@pytest.mark.parametrize(("client", "model", "upstream", "reasons"), REASONING,
                         ids=[f"{c}->{m}" for c, m, _, _ in REASONING])
def test_reasoning_is_sent_only_to_a_model_that_reasons(
    gw: RunningGateway, mocks: dict[str, Any], client: str, model: str, upstream: str, reasons: bool
) -> None:
    body = _send(gw, mocks, client, model, upstream, THINKING[client])
    assert _reasons(upstream, body) is reasons


# ── cache hints ──────────────────────────────────────────────────────────────────────────

EPHEMERAL = {"type": "ephemeral"}
CACHED = {
    "max_tokens": 64,
    "system": [{"type": "text", "text": "You are terse.", "cache_control": EPHEMERAL}],
    "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Weather?", "cache_control": EPHEMERAL}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                {"type": "text", "text": "sunny", "cache_control": EPHEMERAL}]},
            {"type": "text", "text": "Thanks. Summarise.", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ]},
    ],
}


@pytest.mark.parametrize(("model", "upstream"), [("mock/gpt-4o-mini", "openai"), ("gemini/gemini-mock", "gemini"),
                                                 ("responses/gpt-mock", "responses"), ("ollama/llama-mock", "ollama")])
def test_cache_hints_do_not_reach_a_row_without_them(
    gw: RunningGateway, mocks: dict[str, Any], model: str, upstream: str
) -> None:
    body = _send(gw, mocks, "anthropic", model, upstream, CACHED)
    assert "cache_control" not in json.dumps(body)
    assert "Thanks. Summarise." in json.dumps(body)  # the hinted text itself is kept


def test_cache_hints_stay_for_rows_that_take_them(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    sent = _send(gw, mocks, "anthropic", "anthropic/claude-mock", "anthropic", CACHED)
    assert sent == {**CACHED, "model": "claude-mock"}  # relayed as sent
    sent = _send(gw, mocks, "anthropic", "or/anthropic/claude-sonnet-4", "openai", CACHED)
    parts = [p for m in sent["messages"] if isinstance(m.get("content"), list) for p in m["content"]]
    assert {"type": "text", "text": "Thanks. Summarise.", "cache_control": {"type": "ephemeral", "ttl": "1h"}} in parts
    chat = {"messages": [{"role": "system", "content": [{"type": "text", "text": "You are terse.",
                                                         "cache_control": EPHEMERAL}]},
                         {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": EPHEMERAL}]}]}
    sent = _send(gw, mocks, "openai", "anthropic/claude-mock", "anthropic", chat)  # translated to Anthropic
    assert sent["system"] == [{"type": "text", "text": "You are terse.", "cache_control": EPHEMERAL}]
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi",
                                                              "cache_control": EPHEMERAL}]}]


# ── images ───────────────────────────────────────────────────────────────────────────────

WITH_IMAGE = {
    "openai": {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}]},
    "anthropic": {"max_tokens": 64, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]}]},
    "responses": {"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"}]}]},
    "gemini": {"contents": [{"role": "user", "parts": [
        {"text": "What is this?"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}]}]},
    "ollama": {"messages": [{"role": "user", "content": "What is this?", "images": [PNG]}], "stream": False},
}
#: (client, model id, the mock it would reach, who the 400 names)
NO_VISION = [
    ("openai", "mock/gpt-3.5-turbo", "openai", "model 'gpt-3.5-turbo'"),
    ("anthropic", "mock/gpt-3.5-turbo", "openai", "model 'gpt-3.5-turbo'"),
    ("gemini", "mock/o3-mini", "openai", "model 'o3-mini'"),
    ("openai", "anthropic/claude-future-9", "anthropic", None),  # unknown model: sent as asked
    ("openai", "deepseek/deepseek-vl-next", "openai", "provider 'deepseek'"),  # text-only row, any model
    ("responses", "deepseek/deepseek-chat", "openai", "provider 'deepseek'"),
    ("ollama", "deepseek/deepseek-chat", "openai", "provider 'deepseek'"),
]


@pytest.mark.parametrize(("client", "model", "upstream", "who"), NO_VISION,
                         ids=[f"{c}->{m}" for c, m, _, _ in NO_VISION])
def test_images_to_a_model_without_vision_are_a_400(
    gw: RunningGateway, mocks: dict[str, Any], client: str, model: str, upstream: str, who: str | None
) -> None:
    before = len(mocks[upstream].requests)
    resp = post(gw, client, model, WITH_IMAGE[client])
    if who is None:
        assert resp.status_code == 200, resp.text
        return
    assert resp.status_code == 400, resp.text
    error = error_of(client, resp)
    assert error["message"] == f"{who} does not accept images"
    if client in ("openai", "responses"):
        assert (error["type"], error["param"]) == ("invalid_request_error", "messages")
    assert len(mocks[upstream].requests) == before
    text_only = {**WITH_IMAGE[client], **_without_image(client, WITH_IMAGE[client])}
    assert post(gw, client, model, text_only).status_code == 200  # the same request without the image is served


def _without_image(client: str, body: dict[str, Any]) -> dict[str, Any]:
    if client == "gemini":
        return {"contents": [{"role": "user", "parts": body["contents"][0]["parts"][:1]}]}
    if client == "ollama":
        return {"messages": [{"role": "user", "content": "What is this?"}]}
    key = "input" if client == "responses" else "messages"
    message = body[key][0]
    return {key: [{**message, "content": message["content"][:1]}]}
