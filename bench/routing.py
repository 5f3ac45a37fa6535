"""Routing decisions per request, in µs: what the pipeline does before the first upstream byte.

    python bench/routing.py [--n 20000]

Builds a real store and runtime (LMDB in a temp dir) holding a 3-target ``priority`` combo
on two providers with two accounts each, a client key with an rpm limit, a budget and a
policy, then times per request, in the same run:

=======================  ==============================================================
step                     what it does
=======================  ==============================================================
refresh                  ``Gateway.refresh``'s reads: the store version, the health version
resolve + policies       ``pipeline.resolve``: policies (rewrite, allow/deny) and the route
candidates               the router's order and the first account's availability check
limits                   ``Limits.pre``: one admission — the key's rpm window counted and
                         the period's spend read in one LMDB write transaction, at the
                         end of the loop turn (one request per turn here: the c=1 case;
                         at higher concurrency a turn's admissions share the transaction)
all                      the four together, as a request runs them
plain                    refresh + resolve + candidates for a plain ``provider/model`` id
                         with no limit, budget or policy (the baseline)
=======================  ==============================================================

The issue's figure: routing decisions add ≤ 20 µs per request.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import uvloop

from omniroute.context import RequestContext
from omniroute.pipeline import resolve
from omniroute.routing.limits import Limits
from omniroute.routing.registry import Registry
from omniroute.routing.router import Router
from omniroute.store import ApiKey, Budget, Combo, ComboEntry, Connection, Policy, Runtime, Store


class Bench:
    """Just what ``pipeline.resolve`` reads from a ``Gateway``."""

    def __init__(self, store: Store, runtime: Runtime) -> None:
        self.store, self.runtime = store, runtime
        self.registry = Registry(store)
        self.router = Router(self.registry, runtime)

    def refresh(self) -> None:
        self.registry.refresh()
        self.router.refresh()


def seed(store: Store) -> ApiKey:
    for i, provider in enumerate(("openai", "openai", "groq", "groq")):
        store.put("connections", f"c{i}", Connection(f"c{i}", provider, f"acct{i}", "sk-x", priority=i, created_at=i))
    store.put("combos", "k1", Combo("k1", "team", "priority", [ComboEntry("openai/gpt-4o-mini"),
                                                                 ComboEntry("groq/llama-3.3-70b-versatile"),
                                                                 ComboEntry("openai/gpt-4o")]))
    key = ApiKey("key-1", "bench", "hash-1", "sk-omni-", rpm=1_000_000_000)
    store.put("keys", key.key_hash, key)
    store.put("budgets", key.id, Budget(key.id, 1e9, "monthly"))
    store.put("policies", "p1", Policy("p1", "team-only", [key.id], allow=["openai/*", "groq/*"], deny=["*/o3"]))
    return key


def timed(n: int, step: object) -> float:
    """Median of 5 rounds of ``n`` calls, µs per call."""
    rounds = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(n):
            step()
        rounds.append((time.perf_counter() - began) / n * 1e6)
    return statistics.median(rounds)


def timed_async(n: int, step: object) -> float:
    """``timed`` for a coroutine function, awaited ``n`` times one after another in a uvloop
    event loop (as a request's task awaits it)."""
    async def rounds() -> float:
        taken = []
        for _ in range(5):
            began = time.perf_counter()
            for _ in range(n):
                await step()  # type: ignore[operator]
            taken.append((time.perf_counter() - began) / n * 1e6)
        return statistics.median(taken)

    return uvloop.run(rounds())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    n = parser.parse_args().n
    data = Path(tempfile.mkdtemp(prefix="omniroute-routing-bench-"))
    store, runtime = Store(data), Runtime(data / "runtime")
    key = seed(store)
    gw = Bench(store, runtime)
    limits = Limits(gw.registry, runtime)
    ctx = RequestContext(time.perf_counter(), "openai_chat")
    ctx.key, ctx.model, ctx.body = key, "team", b"x" * 1200
    plain = RequestContext(time.perf_counter(), "openai_chat")
    plain.model = "openai/gpt-4o-mini"
    now = time.time()

    def first(c: RequestContext, model: str) -> None:
        route = resolve(gw, c, model)
        _leg, target = next(gw.router.candidates(route, c))
        gw.router.blocked(target, now)

    async def everything() -> None:
        gw.refresh()
        first(ctx, "team")
        await limits.pre(ctx)

    def baseline() -> None:
        gw.refresh()
        first(plain, "openai/gpt-4o-mini")

    rows = {
        "refresh": timed(n, gw.refresh),
        "resolve + policies": timed(n, lambda: resolve(gw, ctx, "team")),
        "candidates": timed(n, lambda: first(ctx, "team")),
        "limits": timed_async(n, lambda: limits.pre(ctx)),
        "all": timed_async(n, everything),
        "plain": timed(n, baseline),
    }
    print("| step | µs per request |\n|---|---:|")
    for name, us in rows.items():
        print(f"| {name} | {us:.2f} |")
    print(f"\nrouting decisions add {rows['all'] - rows['plain']:.2f} µs over a plain id (limit: 20)")
    store.close()
    runtime.close()


if __name__ == "__main__":
    main()
