"""Combo strategies: the order in which a combo's targets are tried.

A strategy takes the combo's entries and what the router knows about each (weight, price,
live p95, whether it was the last to answer, uses, context window) and returns the order to
try them in; fallback then walks that order. Every strategy keeps every entry (the request
falls back to the others) except ``context-fit``, which leaves out targets too small for
the request.

===================  ==========================================================================
strategy             order
===================  ==========================================================================
priority             as listed (fallback in order)
weighted             a weighted draw without replacement: each next target is picked with
                     probability weight / remaining weight
round-robin          rotated by a counter shared by every worker: request n starts at entry
                     n mod N (exact across workers), the rest follow in list order
random               a uniform shuffle
least-used           fewest requests served so far (shared count) first; ties in list order
cost-optimized       cheapest first by the pricing table for the request's estimated tokens
                     (input ≈ body bytes / 4, output = its max tokens or 1,024); unpriced
                     targets last
latency-optimized    power of two choices: two entries drawn at random, the one with the lower
                     live p95 first; the rest by p95 (entries without samples count as 0 so
                     they get measured)
lkgp                 last known good first (the entry that last answered, shared), then the
                     rest as listed
context-fit          as listed, without the targets whose context window is smaller than the
                     request's estimated tokens (unknown windows kept)
===================  ==========================================================================
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Strategy(StrEnum):
    PRIORITY = "priority"
    WEIGHTED = "weighted"
    ROUND_ROBIN = "round-robin"
    RANDOM = "random"
    LEAST_USED = "least-used"
    COST_OPTIMIZED = "cost-optimized"
    LATENCY_OPTIMIZED = "latency-optimized"
    LKGP = "lkgp"
    CONTEXT_FIT = "context-fit"


@dataclass(slots=True)
class Choice:
    """One entry as a strategy sees it; ``key`` identifies it in the shared counters."""

    key: str
    weight: float = 1.0
    cost: float | None = None  # estimated USD for this request (None: no price known)
    p95: float = 0.0  # live p95 latency, ms (0: no samples)
    uses: int = 0
    context: int | None = None  # context window, tokens


@dataclass(slots=True)
class Situation:
    """What a strategy may need beyond the entries (gathered only for strategies that use it)."""

    turn: int = 0  # round-robin counter value for this request
    last_good: str | None = None  # key of the entry that last answered
    tokens: int = 0  # the request's estimated tokens


def order(strategy: Strategy, choices: Sequence[Choice], situation: Situation,
          rng: random.Random | None = None) -> list[int]:
    """Indexes of ``choices`` in the order to try them."""
    return ORDERS[strategy](list(choices), situation, rng or random)


def _priority(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    return list(range(len(choices)))


def _weighted(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    left = list(range(len(choices)))
    out = []
    while left:
        total = sum(max(choices[i].weight, 0.0) for i in left)
        if total <= 0:
            out.extend(left)
            break
        point = rng.random() * total
        for pos, i in enumerate(left):
            point -= max(choices[i].weight, 0.0)
            if point < 0 or pos == len(left) - 1:
                out.append(left.pop(pos))
                break
    return out


def _round_robin(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    n = len(choices)
    first = s.turn % n if n else 0
    return [(first + k) % n for k in range(n)]


def _random(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    out = list(range(len(choices)))
    rng.shuffle(out)
    return out


def _least_used(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    return sorted(range(len(choices)), key=lambda i: choices[i].uses)


def _cost(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    return sorted(range(len(choices)), key=lambda i: (choices[i].cost is None, choices[i].cost or 0.0))


def _latency(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    by_p95 = sorted(range(len(choices)), key=lambda i: choices[i].p95)
    if len(choices) < 2:
        return by_p95
    a, b = rng.sample(range(len(choices)), 2)
    first = a if choices[a].p95 <= choices[b].p95 else b
    return [first, *(i for i in by_p95 if i != first)]


def _lkgp(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    good = next((i for i, c in enumerate(choices) if c.key == s.last_good), None)
    rest = [i for i in range(len(choices)) if i != good]
    return rest if good is None else [good, *rest]


def _context_fit(choices: list[Choice], s: Situation, rng: random.Random) -> list[int]:
    return [i for i, c in enumerate(choices) if c.context is None or c.context >= s.tokens]


ORDERS: dict[Strategy, Callable[[list[Choice], Situation, random.Random], list[int]]] = {
    Strategy.PRIORITY: _priority,
    Strategy.WEIGHTED: _weighted,
    Strategy.ROUND_ROBIN: _round_robin,
    Strategy.RANDOM: _random,
    Strategy.LEAST_USED: _least_used,
    Strategy.COST_OPTIMIZED: _cost,
    Strategy.LATENCY_OPTIMIZED: _latency,
    Strategy.LKGP: _lkgp,
    Strategy.CONTEXT_FIT: _context_fit,
}
