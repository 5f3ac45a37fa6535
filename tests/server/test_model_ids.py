"""Model-id resolution through the real gateway (docs/providers.md, "Model ids"), asserted on
which strict mock upstream received the request and the model id it was given.

With the built-in ``openai``, ``anthropic`` and ``gemini`` rows connected (no aliases): dated
ids (``claude-sonnet-4-5-20250929``, ``claude-haiku-4-5-20251001``) reach Anthropic, ``gpt-*``
ids OpenAI and ``gemini-*`` ids Gemini, by their model family, unchanged, from any client
format. An unknown bare id is a 404 ``model_not_found`` naming it, in the client's dialect,
until a connection is created with ``passthroughModels: true``: then that connection takes it,
unchanged (and family ids still go to their owners); once that connection is gone, 404 again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client_wire import error_of, post
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY

UNKNOWN = "qwen3-coder:30b"
#: client → a minimal body
SIMPLE = {
    "openai": {"messages": [{"role": "user", "content": "hi"}]},
    "responses": {"input": "hi"},
    "anthropic": {"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
    "gemini": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    "ollama": {"messages": [{"role": "user", "content": "hi"}], "stream": False},
}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    """The built-in rows (not prefixed nodes) on the mocks: what bare ids resolve against."""
    gateway = RunningGateway(tmp_path_factory.mktemp("model-ids-gw"))
    try:
        for provider in ("openai", "anthropic", "gemini"):
            conn = gateway.api("POST", "/api/providers", {"provider": provider, "apiKey": API_KEY,
                                                          "baseUrl": mocks[provider].base_url})
            assert conn.status_code == 201, conn.text
        assert gateway.api("GET", "/api/models/alias").json() == {"aliases": {}}
        yield gateway
    finally:
        gateway.stop()


def _model_received(mocks: dict[str, Any], upstream: str) -> str:
    if upstream == "gemini":  # in the URL: /v1beta/models/{model}:generateContent
        return mocks[upstream].paths[-1].removeprefix("/v1beta/models/").partition(":")[0]
    return mocks[upstream].requests[-1]["model"]


def _reaches(gw: RunningGateway, mocks: dict[str, Any], client: str, model: str, upstream: str) -> None:
    before = len(mocks[upstream].requests)
    resp = post(gw, client, model, SIMPLE[client])
    assert resp.status_code == 200, resp.text
    assert len(mocks[upstream].requests) == before + 1
    assert _model_received(mocks, upstream) == model


FAMILIES = [
    ("claude-sonnet-4-5-20250929", "anthropic"),
    ("claude-haiku-4-5-20251001", "anthropic"),
    ("gpt-4o-mini", "openai"),  # listed by the row
    ("gpt-4.1-2025-04-14", "openai"),
    ("gpt-5.1-codex", "openai"),
    ("gemini-2.5-flash-preview-05-20", "gemini"),
]


@pytest.mark.parametrize("client", ["anthropic", "openai", "gemini"])
@pytest.mark.parametrize(("model", "upstream"), FAMILIES)
def test_bare_ids_reach_their_familys_provider_unchanged(
    gw: RunningGateway, mocks: dict[str, Any], client: str, model: str, upstream: str
) -> None:
    _reaches(gw, mocks, client, model, upstream)


def _not_found(gw: RunningGateway, client: str) -> None:
    resp = post(gw, client, UNKNOWN, SIMPLE[client])
    assert resp.status_code == 404, resp.text
    error = error_of(client, resp)
    assert f"'{UNKNOWN}'" in error["message"]
    if client == "openai":
        assert (error["code"], error["param"]) == ("model_not_found", "model")
    if client == "anthropic":
        assert error["type"] == "not_found_error"
    if client == "gemini":
        assert error["status"] == "NOT_FOUND"


def test_passthrough_connection_takes_unknown_bare_ids(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    for client in SIMPLE:
        _not_found(gw, client)
    conn = gw.api("POST", "/api/providers", {"provider": "ollama", "baseUrl": mocks["ollama"].base_url,
                                             "passthroughModels": True})
    assert conn.status_code == 201, conn.text
    assert conn.json()["passthroughModels"] is True
    try:
        for client in SIMPLE:
            _reaches(gw, mocks, client, UNKNOWN, "ollama")
        _reaches(gw, mocks, "ollama", "claude-haiku-4-5-20251001", "anthropic")  # families come first
    finally:
        assert gw.api("DELETE", f"/api/providers/{conn.json()['id']}").status_code in (200, 204)
    for client in SIMPLE:
        _not_found(gw, client)
