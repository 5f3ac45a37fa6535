"""Combo strategies: ``strategies.order`` on its own, then every strategy through the real
gateway (distribution, shared counters across two workers, fallback in the order given).
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from omniroute.routing.strategies import Choice, Situation, Strategy, order
from tests.support.accounts import chat, omni, provider_with, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


def keys(*names: str, **fields: list) -> list[Choice]:
    out = [Choice(name) for name in names]
    for field, values in fields.items():
        for choice, value in zip(out, values, strict=True):
            setattr(choice, field, value)
    return out


# -- order, unit -------------------------------------------------------------------------------
def test_priority_keeps_the_listed_order() -> None:
    assert order(Strategy.PRIORITY, keys("a", "b", "c"), Situation()) == [0, 1, 2]


def test_weighted_draws_by_weight_without_replacement() -> None:
    rng = random.Random(7)
    choices = keys("a", "b", "c", weight=[3.0, 1.0, 0.0])
    firsts = Counter(order(Strategy.WEIGHTED, choices, Situation(), rng)[0] for _ in range(20_000))
    assert abs(firsts[0] / 20_000 - 0.75) < 0.02 and firsts[2] == 0
    for _ in range(50):
        ranked = order(Strategy.WEIGHTED, choices, Situation(), rng)
        assert sorted(ranked) == [0, 1, 2] and ranked[-1] == 2  # weight 0: kept, last
    assert order(Strategy.WEIGHTED, keys("a", "b", weight=[0.0, 0.0]), Situation(), rng) == [0, 1]


def test_round_robin_starts_at_turn_mod_n() -> None:
    choices = keys("a", "b", "c")
    assert [order(Strategy.ROUND_ROBIN, choices, Situation(turn=t)) for t in (0, 1, 2, 3, 7)] == [
        [0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2], [1, 2, 0]]


def test_random_is_a_permutation_reaching_every_first() -> None:
    rng = random.Random(3)
    results = [order(Strategy.RANDOM, keys("a", "b", "c"), Situation(), rng) for _ in range(200)]
    assert all(sorted(r) == [0, 1, 2] for r in results)
    assert {r[0] for r in results} == {0, 1, 2}


def test_least_used_ties_in_listed_order() -> None:
    assert order(Strategy.LEAST_USED, keys("a", "b", "c", uses=[5, 2, 2]), Situation()) == [1, 2, 0]


def test_cost_cheapest_first_unpriced_last() -> None:
    choices = keys("a", "b", "c", "d", cost=[None, 0.5, 0.01, 0.5])
    assert order(Strategy.COST_OPTIMIZED, choices, Situation()) == [2, 1, 3, 0]


def test_latency_power_of_two_choices() -> None:
    rng = random.Random(5)
    choices = keys("a", "b", "c", p95=[300.0, 20.0, 0.0])
    for _ in range(100):
        ranked = order(Strategy.LATENCY_OPTIMIZED, choices, Situation(), rng)
        assert sorted(ranked) == [0, 1, 2] and ranked[0] != 0  # never the slowest of any pair
        assert ranked[1:] == [i for i in (2, 1, 0) if i != ranked[0]]
    assert order(Strategy.LATENCY_OPTIMIZED, keys("a", p95=[9.0]), Situation(), rng) == [0]


def test_lkgp_puts_the_last_good_first() -> None:
    choices = keys("a", "b", "c")
    assert order(Strategy.LKGP, choices, Situation(last_good="c")) == [2, 0, 1]
    assert order(Strategy.LKGP, choices, Situation(last_good="gone")) == [0, 1, 2]


def test_context_fit_leaves_out_small_windows() -> None:
    choices = keys("a", "b", "c", context=[8_000, None, 200_000])
    assert order(Strategy.CONTEXT_FIT, choices, Situation(tokens=10_000)) == [1, 2]
    assert order(Strategy.CONTEXT_FIT, choices, Situation(tokens=100)) == [0, 1, 2]


# -- through the gateway -------------------------------------------------------------------------
def combo(gw: RunningGateway, strategy: str, models: list, name: str | None = None) -> str:
    name = name or unique(strategy.replace("-", "") + "-")
    resp = gw.api("POST", "/api/combos", {"name": name, "strategy": strategy, "models": models})
    assert resp.status_code == 201, resp.text
    return name


def targets(gw: RunningGateway, flaky: FlakyUpstream, n: int, key: str = "ok") -> list[tuple[str, str]]:
    """``n`` providers of one ``key`` account each: (prefix, node id)."""
    return [provider_with(gw, flaky, unique(key + "~"))[:2] for _ in range(n)]


def served_nodes(gw: RunningGateway, name: str, n: int, workers: int = 1, fresh: bool = False) -> list[str]:
    """The provider each of ``n`` requests for ``name`` was served by, in order (``workers``
    threads; ``fresh``: a new connection per request, so both gateway workers serve)."""
    def one(_: int) -> str:
        body = {"model": name, "messages": [{"role": "user", "content": "hi"}]}
        resp = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10) if fresh else chat(gw, name)
        assert resp.status_code == 200, resp.text
        return omni(resp)["provider"]

    if workers == 1:
        return [one(i) for i in range(n)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(n)))


def test_priority_in_order_with_fallback(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p1, n1), (p2, n2) = targets(gw, flaky, 2)
    (p0, _n0), = targets(gw, flaky, 1, "500")
    assert set(served_nodes(gw, combo(gw, "priority", [f"{p1}/m1", f"{p2}/m1"]), 5)) == {n1}
    name = combo(gw, "priority", [f"{p0}/m1", f"{p2}/m1"])
    assert omni(chat(gw, name))["attempts"] == "2" and set(served_nodes(gw, name, 3)) == {n2}


def test_weighted_distribution_within_tolerance(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p1, n1), (p2, n2) = targets(gw, flaky, 2)
    name = combo(gw, "weighted", [{"model": f"{p1}/m1", "weight": 3}, {"model": f"{p2}/m1", "weight": 1}])
    counts = Counter(served_nodes(gw, name, 400, workers=4))
    assert counts[n1] + counts[n2] == 400
    assert abs(counts[n1] / 400 - 0.75) < 0.08, counts


def test_round_robin_exact_across_two_workers(gw2: RunningGateway, flaky: FlakyUpstream) -> None:
    nodes = targets(gw2, flaky, 3)
    name = combo(gw2, "round-robin", [f"{p}/m1" for p, _n in nodes])
    sequence = served_nodes(gw2, name, 12, fresh=True)
    start = [n for _p, n in nodes].index(sequence[0])
    assert sequence == [nodes[(start + i) % 3][1] for i in range(12)]
    counts = Counter(served_nodes(gw2, name, 60, workers=6))
    assert sorted(counts.values()) == [20, 20, 20], counts


def test_round_robin_skips_a_failing_target_to_the_next(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p1, n1), = targets(gw, flaky, 1)
    (p2, _n2), = targets(gw, flaky, 1, "503")
    name = combo(gw, "round-robin", [f"{p1}/m1", f"{p2}/m1"])
    assert served_nodes(gw, name, 4) == [n1] * 4


def test_random_reaches_every_target(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    nodes = targets(gw, flaky, 3)
    name = combo(gw, "random", [f"{p}/m1" for p, _n in nodes])
    assert set(served_nodes(gw, name, 60)) == {n for _p, n in nodes}


def test_least_used_evens_out_across_two_workers(gw2: RunningGateway, flaky: FlakyUpstream) -> None:
    nodes = targets(gw2, flaky, 2)
    name = combo(gw2, "least-used", [f"{p}/m1" for p, _n in nodes])
    sequence = served_nodes(gw2, name, 10, fresh=True)
    assert sequence == [nodes[0][1], nodes[1][1]] * 5


def test_cost_optimized_cheapest_first_then_fallback(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p1, n1), (p2, n2), (p3, n3) = targets(gw, flaky, 3)
    (p4, n4), = targets(gw, flaky, 1, "500")
    prices = {f"{n1}/m1": {"input": 5, "output": 10}, f"{n2}/m1": {"input": 0.1, "output": 0.2},
              f"{n4}/m1": {"input": 0.01, "output": 0.01}}
    assert gw.api("PUT", "/api/pricing", {"pricing": prices}).status_code == 200
    name = combo(gw, "cost-optimized", [f"{p3}/m1", f"{p1}/m1", f"{p2}/m1"])  # p3 unpriced: last
    assert set(served_nodes(gw, name, 4)) == {n2}
    name = combo(gw, "cost-optimized", [f"{p1}/m1", f"{p4}/m1"])  # the cheapest fails: the next cheapest
    resp = chat(gw, name)
    assert omni(resp)["provider"] == n1 and omni(resp)["attempts"] == "2"
    assert n3 not in (n1, n2)


def test_latency_optimized_prefers_the_faster(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p1, _n1), = targets(gw, flaky, 1, "ok-slow-300")
    (p2, n2), = targets(gw, flaky, 1)
    name = combo(gw, "latency-optimized", [f"{p1}/m1", f"{p2}/m1"])
    sequence = served_nodes(gw, name, 12)
    assert sequence[-8:] == [n2] * 8


def test_lkgp_starts_with_the_last_that_answered(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    k1, k2 = unique("500~"), unique("ok~")
    p1, n1, _ = provider_with(gw, flaky, k1)
    p2, n2, _ = provider_with(gw, flaky, k2)
    name = combo(gw, "lkgp", [f"{p1}/m1", f"{p2}/m1"])
    assert omni(chat(gw, name))["attempts"] == "2"
    for _ in range(3):
        resp = chat(gw, name)
        assert omni(resp)["provider"] == n2 and omni(resp)["attempts"] == "1"
    flaky.override(k1, "ok")
    flaky.override(k2, "500")
    assert omni(chat(gw, name))["attempts"] == "2"
    resp = chat(gw, name)
    assert omni(resp)["provider"] == n1 and omni(resp)["attempts"] == "1"


def test_context_fit_leaves_out_models_too_small(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p, n), = targets(gw, flaky, 1)
    name = combo(gw, "context-fit", [f"{p}/gpt-3.5-turbo", f"{p}/gpt-4o"])  # 16k and 128k windows
    assert omni(chat(gw, name))["model"] == f"{n}/gpt-3.5-turbo"
    big = "word " * 20_000  # ~25k tokens
    resp = gw.http.post("/v1/chat/completions", json={"model": name, "messages": [{"role": "user", "content": big}]})
    assert resp.status_code == 200 and omni(resp)["model"] == f"{n}/gpt-4o"
    huge = "word " * 120_000  # ~150k tokens: larger than both
    resp = gw.http.post("/v1/chat/completions", json={"model": name, "messages": [{"role": "user", "content": huge}]})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "context_length_exceeded"


@pytest.mark.parametrize("strategy", [s.value for s in Strategy])
def test_every_strategy_serves_a_nested_combo(gw: RunningGateway, flaky: FlakyUpstream, strategy: str) -> None:
    (p1, n1), (p2, n2) = targets(gw, flaky, 2)
    inner = combo(gw, "priority", [f"{p2}/m1"])
    name = combo(gw, strategy, [f"{p1}/m1", inner])
    assert set(served_nodes(gw, name, 4)) <= {n1, n2}


def test_nested_entries_keep_least_used_and_lkgp_state(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (p1, n1), (p2, n2) = targets(gw, flaky, 2)
    outer = combo(gw, "least-used", [f"{p1}/m1", combo(gw, "priority", [f"{p2}/m1"])])
    assert served_nodes(gw, outer, 6) == [n1, n2] * 3  # an answer through the inner combo is its use
    p3, _n3, _ = provider_with(gw, flaky, unique("500~"))
    (p4, n4), = targets(gw, flaky, 1)
    outer = combo(gw, "priority", [combo(gw, "lkgp", [f"{p3}/m1", f"{p4}/m1"])])
    assert omni(chat(gw, outer))["attempts"] == "2"
    resp = chat(gw, outer)  # the inner lkgp combo remembers its own last good
    assert omni(resp)["provider"] == n4 and omni(resp)["attempts"] == "1"


def test_nested_entry_is_measured_for_latency_optimized(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    (slow, _ns), = targets(gw, flaky, 1, "ok-slow-300")
    (fast, nf), = targets(gw, flaky, 1)
    outer = combo(gw, "latency-optimized", [combo(gw, "priority", [f"{slow}/m1"]), f"{fast}/m1"])
    assert served_nodes(gw, outer, 10)[-6:] == [nf] * 6
