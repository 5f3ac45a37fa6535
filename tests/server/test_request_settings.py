"""The settings that change requests, proven at the strict mock upstreams: the global system
prompt and the thinking budget, from every client format (its official SDK) to every upstream
format — same-format pass-through routes included — through a real two-worker gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.matrix_clients import CLIENTS, Ask
from tests.support.client_wire import post
from tests.support.fleet import UPSTREAMS, start_gateway
from tests.support.gateway import RunningGateway

PROMPT = "Answer as the OmniRoute test fixture."
PAIRS = [(c, u) for c in CLIENTS for u in UPSTREAMS]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("request-settings-gw"), mocks)
    yield gateway
    gateway.stop()


@pytest.fixture
def setting(gw: RunningGateway) -> Iterator[Any]:
    """PUT a request setting; both are back off after the test."""
    def put(path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = gw.api("PUT", f"/api/settings/{path}", body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    yield put
    put("system-prompt", {"enabled": False, "prompt": "", "mode": "prepend"})
    put("thinking-budget", {"mode": "passthrough", "budgetTokens": 8192})


def sdk_ask(gw: RunningGateway, mocks: dict[str, Any], client: str, upstream: str, ask: Ask) -> dict[str, Any]:
    mock = mocks[upstream]
    before = len(mock.requests)
    CLIENTS[client](gw.url).ask(UPSTREAMS[upstream].id(), ask)
    assert len(mock.requests) == before + 1
    return mock.requests[-1]


def system_of(upstream: str, body: dict[str, Any]) -> list[str]:
    """The system prompt the upstream received, as its text parts."""
    if upstream == "anthropic":
        system = body.get("system", [])
        return [system] if isinstance(system, str) else [b["text"] for b in system]
    if upstream == "gemini":
        return [p["text"] for p in body.get("systemInstruction", {}).get("parts", [])]
    if upstream == "responses":
        return [body["instructions"]] if body.get("instructions") else []
    texts = []
    for m in body["messages"]:
        if m["role"] == "system":
            texts.extend([m["content"]] if isinstance(m["content"], str) else [p["text"] for p in m["content"]])
    return ["\n\n".join(texts)] if len(texts) > 1 and upstream == "ollama" else texts


def reasoning_of(upstream: str, body: dict[str, Any]) -> Any:
    """The reasoning parameter in the upstream's own words (None: not sent)."""
    if upstream == "anthropic":
        return body.get("thinking", {}).get("budget_tokens")
    if upstream == "gemini":
        return body.get("generationConfig", {}).get("thinkingConfig", {}).get("thinkingBudget")
    if upstream == "openai":
        return body.get("reasoning_effort")
    if upstream == "responses":
        return body.get("reasoning", {}).get("effort")
    return body.get("think")


@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_system_prompt_reaches_every_upstream(gw: RunningGateway, mocks: dict[str, Any], setting: Any,
                                              client: str, upstream: str) -> None:
    setting("system-prompt", {"enabled": True, "prompt": PROMPT})
    sent = sdk_ask(gw, mocks, client, upstream, Ask(stream=client in ("anthropic", "openai")))
    assert PROMPT in " ".join(system_of(upstream, sent)), sent


#: client → a body with the client's own system prompt "Client rules."
WITH_SYSTEM = {
    "openai": {"messages": [{"role": "system", "content": "Client rules."}, {"role": "user", "content": "hi"}]},
    "anthropic": {"system": "Client rules.", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]},
    "responses": {"instructions": "Client rules.", "input": "hi"},
    "gemini": {"systemInstruction": {"parts": [{"text": "Client rules."}]},
               "contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    "ollama": {"messages": [{"role": "system", "content": "Client rules."}, {"role": "user", "content": "hi"}],
               "stream": False},
}


@pytest.mark.parametrize("client", list(WITH_SYSTEM))
@pytest.mark.parametrize(("mode", "order"), [("prepend", [PROMPT, "Client rules."]),
                                             ("append", ["Client rules.", PROMPT]), ("replace", [PROMPT])])
def test_modes_on_a_same_format_route(gw: RunningGateway, mocks: dict[str, Any], setting: Any, client: str,
                                      mode: str, order: list[str]) -> None:
    upstream = {"openai": "openai", "anthropic": "anthropic", "responses": "responses", "gemini": "gemini",
                "ollama": "ollama"}[client]
    setting("system-prompt", {"enabled": True, "prompt": PROMPT, "mode": mode})
    resp = post(gw, client, UPSTREAMS[upstream].id(), WITH_SYSTEM[client])
    assert resp.status_code == 200, resp.text
    got = system_of(upstream, mocks[upstream].requests[-1])
    joined = "\n\n".join(got)
    assert [part for part in order if part in joined] == order and joined.index(order[0]) == 0, got
    if mode == "replace":
        assert "Client rules." not in joined


#: upstream → what a 2048-token budget becomes there
CUSTOM = {"anthropic": 2048, "gemini": 2048, "openai": "medium", "responses": "medium", "ollama": True}


@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_custom_budget_reaches_every_upstream(gw: RunningGateway, mocks: dict[str, Any], setting: Any,
                                              client: str, upstream: str) -> None:
    setting("thinking-budget", {"mode": "custom", "budgetTokens": 2048})
    sent = sdk_ask(gw, mocks, client, upstream, Ask())  # the client asked no reasoning at all
    assert reasoning_of(upstream, sent) == CUSTOM[upstream], sent
    if upstream == "anthropic":
        assert sent["max_tokens"] > 2048


@pytest.mark.parametrize("client", list(CLIENTS))
def test_auto_removes_the_clients_budget(gw: RunningGateway, mocks: dict[str, Any], setting: Any,
                                         client: str) -> None:
    def reasoning_sent(upstream: str, body: dict[str, Any]) -> bool:
        where = body.get("generationConfig", {}) if upstream == "gemini" else body
        return {"anthropic": "thinking", "gemini": "thinkingConfig", "openai": "reasoning_effort"}[upstream] in where

    upstreams = ("anthropic", "gemini", "openai")
    assert any(reasoning_sent(u, sdk_ask(gw, mocks, client, u, Ask(thinking=True))) for u in upstreams)
    setting("thinking-budget", {"mode": "auto"})
    for upstream in upstreams:
        assert not reasoning_sent(upstream, sdk_ask(gw, mocks, client, upstream, Ask(thinking=True)))


def test_adaptive_scales_with_the_request(gw: RunningGateway, mocks: dict[str, Any], setting: Any) -> None:
    setting("thinking-budget", {"mode": "adaptive", "budgetTokens": 16384})
    small = sdk_ask(gw, mocks, "openai", "anthropic", Ask())
    assert small["thinking"]["budget_tokens"] == 2048  # two turns, short: an eighth of the ceiling
    tools = sdk_ask(gw, mocks, "openai", "anthropic", Ask(tools=True))
    assert tools["thinking"]["budget_tokens"] == 16384  # tools offered: the whole ceiling


@pytest.mark.parametrize(("path", "body", "param"), [
    ("system-prompt", {"enabled": True, "prompt": " "}, "prompt"),
    ("system-prompt", {"mode": "insert"}, "mode"),
    ("system-prompt", {"enabled": "yes"}, "enabled"),
    ("thinking-budget", {"mode": "maximal"}, "mode"),
    ("thinking-budget", {"mode": "custom", "budgetTokens": -1}, "budgetTokens"),
    ("thinking-budget", {"mode": "adaptive", "budgetTokens": 100}, "budgetTokens"),
    ("thinking-budget", {"budgetTokens": "lots"}, "budgetTokens"),
])
def test_bad_settings_name_the_field(gw: RunningGateway, path: str, body: dict[str, Any], param: str) -> None:
    resp = gw.api("PUT", f"/api/settings/{path}", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text


def test_settings_read_back(gw: RunningGateway, setting: Any) -> None:
    assert gw.api("GET", "/api/settings/system-prompt").json() == {"enabled": False, "prompt": "", "mode": "prepend"}
    setting("thinking-budget", {"mode": "custom", "budgetTokens": 4096})
    assert gw.api("GET", "/api/settings/thinking-budget").json() == {"mode": "custom", "budgetTokens": 4096}
