"""CPU cost of the settings that change requests, per request, in-process.

    python bench/request_settings.py [--n 20000]

For the overhead benchmark's request body in two client formats (OpenAI Chat and Anthropic),
same-format route: what the pipeline does to the body with no request setting on (the model
renamed in the bytes: ``relay.rewrite_model``) against what it does while a system prompt and a
thinking budget are on (decode to the canonical request, both pre-hooks, fit, encode again in
the same format: ``pipeline`` with ``HookChain.rewrites_request``). Prints µs per request
(best of 5 runs of ``--n``).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import msgspec

from omniroute.context import RequestContext
from omniroute.formats import anthropic, openai_chat
from omniroute.providers.specs import SPECS
from omniroute.relay import rewrite_model
from omniroute.settings.request_hooks import SystemPromptHook, ThinkingBudgetHook
from omniroute.translate import translated_body

SYSTEM = "You are a concise assistant for a platform team. " * 6
USER = "Explain what a reverse proxy does in front of inference services. " * 6
BODIES = {
    "openai_chat": {"model": "mock/agent", "temperature": 0.2, "max_tokens": 256,
                    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]},
    "anthropic": {"model": "mock/agent", "max_tokens": 256, "system": SYSTEM,
                  "messages": [{"role": "user", "content": USER}]},
}
FORMATS = {"openai_chat": (openai_chat, SPECS["openai"]), "anthropic": (anthropic, SPECS["anthropic"])}


def best(fn: object, n: int) -> float:
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        runs.append((time.perf_counter() - began) / n * 1e6)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    n = parser.parse_args().n
    hooks = [SystemPromptHook("Follow the house rules.", "prepend"), ThinkingBudgetHook("custom", 2048)]
    print("| client = upstream format | relayed bytes µs | settings on µs | added µs |\n|---|---:|---:|---:|")
    for name, (fmt, spec) in FORMATS.items():
        body = msgspec.json.encode(BODIES[name])

        def relayed(body: bytes = body) -> bytes:
            return rewrite_model(body, "mock/agent", "agent")

        def rewritten(body: bytes = body, fmt: object = fmt, spec: object = spec, name: str = name) -> bytes:
            ctx = RequestContext(0.0, name)
            ctx.client, ctx.body = fmt, body  # type: ignore[assignment]
            ctx.canonical()
            for hook in hooks:  # the hooks never await: drive each coroutine by hand, no loop cost
                with contextlib.suppress(StopIteration):
                    hook.pre(ctx).send(None)
            return translated_body(ctx.request, fmt, fmt, spec, "agent", None)  # type: ignore[arg-type]

        a, b = best(relayed, n), best(rewritten, max(1, n // 4))
        print(f"| {name} | {a:.2f} | {b:.2f} | +{b - a:.2f} |")


if __name__ == "__main__":
    main()
