"""``settings.request_hooks``: the system prompt modes and the thinking budget modes on the
canonical request, and ``settings.documents`` validation."""

from __future__ import annotations

import asyncio

import pytest

from omniroute.canonical import Message, Reasoning, Request, TextBlock, Tool
from omniroute.context import RequestContext
from omniroute.errors import GatewayError
from omniroute.settings.documents import check_proxy, check_thinking, mask_url
from omniroute.settings.request_hooks import SystemPromptHook, ThinkingBudgetHook, adaptive_budget, request_hooks


def run(hook: object, req: Request) -> Request:
    ctx = RequestContext(0.0, "openai_chat")
    ctx.request = req
    asyncio.run(hook.pre(ctx))  # type: ignore[attr-defined]
    return req


def ask(text: str = "hi", turns: int = 1, **kw: object) -> Request:
    return Request("m", [Message("user", [TextBlock(text)])] * turns, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "texts"), [("prepend", ["S", "C"]), ("append", ["C", "S"]), ("replace", ["S"])])
def test_system_prompt_modes(mode: str, texts: list[str]) -> None:
    req = run(SystemPromptHook("S", mode), ask(system=[TextBlock("C")]))
    assert [b.text for b in req.system] == texts


def test_thinking_modes() -> None:
    asked = Reasoning(True, "high", None, True)
    assert run(ThinkingBudgetHook("auto", 0), ask(reasoning=asked)).reasoning is None
    custom = run(ThinkingBudgetHook("custom", 4096), ask(max_tokens=1000))
    assert custom.reasoning == Reasoning(True, None, 4096, None) and custom.max_tokens == 5096
    off = run(ThinkingBudgetHook("custom", 0), ask(reasoning=asked))
    assert off.reasoning is not None and not off.reasoning.enabled
    kept_off = run(ThinkingBudgetHook("adaptive", 8192), ask(reasoning=Reasoning(False)))
    assert kept_off.reasoning == Reasoning(False)


def test_adaptive_tiers() -> None:
    assert adaptive_budget(ask(), 16384) == 2048
    assert adaptive_budget(ask(turns=5), 16384) == 8192
    assert adaptive_budget(ask(tools=[Tool("t")]), 16384) == 16384
    assert adaptive_budget(ask("x" * 25_000), 16384) == 16384
    assert adaptive_budget(ask(reasoning=Reasoning(True, "low")), 16384) == 2048
    assert adaptive_budget(ask(reasoning=Reasoning(True, None, 50_000)), 16384) == 16384
    assert adaptive_budget(ask(), 4096) == 1024  # never below Anthropic's minimum


def test_hooks_only_while_on() -> None:
    assert request_hooks({}, {}) == []
    assert request_hooks({"enabled": True, "prompt": ""}, {"mode": "passthrough"}) == []
    assert [h.name for h in request_hooks({"enabled": True, "prompt": "p"}, {"mode": "auto"})] == [
        "system-prompt", "thinking-budget"]


def test_documents() -> None:
    assert check_thinking({"mode": "custom"}, {"budgetTokens": 100}) == {"mode": "custom", "budgetTokens": 100}
    with pytest.raises(GatewayError) as err:
        check_thinking({"budgetTokens": True}, {})
    assert err.value.param == "budgetTokens"
    doc = check_proxy({"global": {"url": "socks5://u:p%40ss@h:1080"}}, {}, set(), set())
    assert mask_url(doc["global"]["url"]) == "socks5://u:****@h:1080"
    kept = check_proxy({"global": {"url": "socks5://u:****@h:1080"}}, doc, set(), set())
    assert kept["global"]["url"] == "socks5://u:p%40ss@h:1080"
    with pytest.raises(GatewayError) as err:
        check_proxy({"global": {"url": "socks5://v:****@h:1080"}}, doc, set(), set())
    assert "masked password" in err.value.message
