"""Settings that change model requests, as pre-hooks on the canonical request.

Both hooks have ``needs_request`` (the canonical request is decoded before ``pre``) and
``rewrites_request``: while one is installed, a same-format upstream is sent the canonical
request re-encoded in its format instead of the client's bytes (``pipeline``), so the
pass-through path cannot skip a setting. They are installed only while their setting is on
(``gateway._rebuild``): off, a request pays nothing.

System prompt (``/api/settings/system-prompt``), on ``Request.system`` — each upstream
format's own system prompt (Anthropic ``system``, OpenAI Chat system message, Responses
``instructions``, Gemini ``systemInstruction``, Ollama system message):

===========  ==============================================================================
mode         the upstream's system prompt
===========  ==============================================================================
prepend      the setting's prompt, then the client's
append       the client's, then the setting's
replace      the setting's only
===========  ==============================================================================

Thinking budget (``/api/settings/thinking-budget``), on ``Request.reasoning``; each format
encodes it as its own parameter — Anthropic ``thinking.budget_tokens``, Gemini
``thinkingConfig.thinkingBudget``, OpenAI Chat ``reasoning_effort`` and Responses
``reasoning.effort`` (a budget → low/medium/high by the format's thresholds), Ollama
``think``. Models the catalogue knows not to reason get none (``providers.fit``).

===========  ==============================================================================
mode         what reaches the upstream
===========  ==============================================================================
passthrough  the client's own reasoning settings (the hook is not installed)
auto         none: the client's budget or effort is removed, the provider's default applies
custom       ``budgetTokens`` on every request (0: reasoning off), whatever the client asked
adaptive     a budget scaled to the request, at most ``budgetTokens`` (``adaptive_budget``)
===========  ==============================================================================

A budget counts against the output limit (Anthropic requires ``max_tokens`` above it): a
client ``max_tokens`` at or under the budget is raised by the budget, so the visible answer
keeps the room the client asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omniroute.canonical import Reasoning, Request, TextBlock
from omniroute.hooks import Hook

if TYPE_CHECKING:
    from omniroute.context import RequestContext

MIN_BUDGET = 1024
#: a client's effort, as a share of adaptive mode's ceiling
EFFORT_SHARE = {"minimal": 0.0, "low": 0.125, "medium": 0.5, "high": 1.0, "xhigh": 1.0, "max": 1.0}


class SystemPromptHook(Hook):
    name = "system-prompt"
    needs_request = True
    rewrites_request = True

    def __init__(self, prompt: str, mode: str) -> None:
        self.prompt, self.mode = prompt, mode

    async def pre(self, ctx: RequestContext) -> None:
        req = ctx.canonical()
        block = TextBlock(self.prompt)
        if self.mode == "replace":
            req.system = [block]
        elif self.mode == "append":
            req.system = [*req.system, block]
        else:
            req.system = [block, *req.system]


class ThinkingBudgetHook(Hook):
    name = "thinking-budget"
    needs_request = True
    rewrites_request = True

    def __init__(self, mode: str, budget: int) -> None:
        self.mode, self.budget = mode, budget

    async def pre(self, ctx: RequestContext) -> None:
        req = ctx.canonical()
        asked = req.reasoning
        shown = asked.include_thoughts if asked is not None else None
        if self.mode == "auto":
            req.reasoning = None
            return
        if self.mode == "custom":
            budget = self.budget
        elif asked is None or (asked.enabled and asked.effort != "none"):
            budget = adaptive_budget(req, self.budget)
        else:
            return
        req.reasoning = Reasoning(budget > 0, None, budget or None, shown)
        if budget and req.max_tokens is not None and req.max_tokens <= budget:
            req.max_tokens += budget  # the budget counts against max_tokens: the answer keeps its room


def adaptive_budget(req: Request, ceiling: int) -> int:
    """Adaptive mode's budget (a client that turned reasoning off keeps it off):

    ===================================================  =====================================
    request                                              budget
    ===================================================  =====================================
    the client asked a budget                            that budget, at most ``ceiling``
    the client asked an effort                           ``ceiling`` × low ⅛, medium ½, high 1
    tools offered, > 8 messages, or ≥ 20,000 characters  ``ceiling``
    ≤ 2 messages and < 2,000 characters                  ``ceiling`` / 8
    anything else                                        ``ceiling`` / 2
    ===================================================  =====================================

    never below 1,024 (Anthropic's smallest budget)."""
    asked = req.reasoning
    if asked is not None and asked.budget_tokens:
        share = min(asked.budget_tokens, ceiling) / ceiling
    elif asked is not None and asked.effort in EFFORT_SHARE:
        share = EFFORT_SHARE[asked.effort]
    else:
        size = sum(len(b.text) for b in req.system) + sum(_chars(m.content) for m in req.messages)
        turns = len(req.messages)
        share = 1.0 if req.tools or turns > 8 or size >= 20_000 else 0.125 if turns <= 2 and size < 2_000 else 0.5
    return max(MIN_BUDGET, int(ceiling * share))


def _chars(blocks: list[Any]) -> int:
    return sum(len(b.text) for b in blocks if type(b) is TextBlock)


def request_hooks(system_prompt: dict[str, Any], thinking: dict[str, Any]) -> list[Hook]:
    """The hooks the two documents ask for (none while both are off)."""
    hooks: list[Hook] = []
    if system_prompt.get("enabled") and system_prompt.get("prompt"):
        hooks.append(SystemPromptHook(system_prompt["prompt"], system_prompt.get("mode", "prepend")))
    mode = thinking.get("mode", "passthrough")
    if mode != "passthrough":
        hooks.append(ThinkingBudgetHook(mode, int(thinking.get("budgetTokens", 8192))))
    return hooks
