"""Per request: the order to try a route's targets in, which accounts may be tried, and what
each attempt's outcome changes.

``Router.candidates`` yields ``(leg, account)`` pairs lazily: the route's legs in its
strategy's order (``routing.strategies``; a nested combo's legs in its own order, spliced in
its place), and within a leg the provider's accounts in the ``accountStrategy`` order:

=============  ==========================================================================
accounts       order
=============  ==========================================================================
fill-first     priority (lower first), then age: the first available one takes everything
               (the default)
round-robin    rotated by a counter shared by every worker, per provider
least-used     fewest requests served (shared count) first
=============  ==========================================================================

``x-omniroute-connection: <id>`` keeps only that account. An account is skipped while it is
cooling, ``auth_failed``, behind an open breaker (``routing.health``) or at its own rpm/tpm
(``limited``, counted in the shared 60 s window of ``store.runtime``). When every account of
every leg was skipped, the client gets 503 with ``Retry-After`` (the earliest time one comes
back). Shared counters are read or written only for the strategies that use them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from omniroute.errors import ErrorKind, GatewayError
from omniroute.providers.pricing import estimate
from omniroute.routing.health import Blocked, Health
from omniroute.routing.latency import LatencyBook
from omniroute.routing.registry import Leg, Registry, Route
from omniroute.routing.strategies import Choice, Situation, Strategy, order
from omniroute.routing.targets import Target
from omniroute.store.runtime import Runtime

if TYPE_CHECKING:
    from omniroute.context import RequestContext

ACCOUNT_STRATEGIES = ("fill-first", "round-robin", "least-used")
WINDOW_S = 60


def window_start(now: float) -> int:
    return int(now // WINDOW_S) * WINDOW_S


class Router:
    """This worker's router over the shared snapshot (``registry``) and runtime state."""

    def __init__(self, registry: Registry, runtime: Runtime) -> None:
        self.registry = registry
        self.runtime = runtime
        self.health = Health(runtime)
        self.latency = LatencyBook()
        self.remaining: dict[str, tuple[str, float]] = {}  # connection → (value, when written)

    def refresh(self) -> None:
        self.health.refresh()

    # -- order ----------------------------------------------------------------------------
    def candidates(self, route: Route, ctx: RequestContext, pin: str | None = None) -> Iterator[tuple[Leg, Target]]:
        legs = self.legs(route, ctx)
        if not legs:  # context-fit left every target out
            tokens = sum(estimate_tokens(ctx))
            raise GatewayError.context_length(f"the request (~{tokens} tokens) is larger than the context window "
                                              f"of every target of combo '{route.combo}'", 400, None, tokens)
        for leg in legs:
            targets = leg.targets
            if pin is not None:
                targets = tuple(t for t in targets if t.connection_id == pin)
            for target in self.accounts(leg, targets):
                yield leg, target

    def legs(self, route: Route, ctx: RequestContext) -> Sequence[Leg]:
        if route.fixed is not None:
            return route.fixed
        if len(route.legs) == 1 and route.legs[0].sub is None:
            return route.legs
        legs = list(route.legs)
        if route.strategy is not Strategy.PRIORITY:
            ranked = order(route.strategy, self._choices(route, legs, ctx), self._situation(route, ctx))
            legs = [legs[i] for i in ranked]
        out: list[Leg] = []
        for leg in legs:
            out.extend(self.legs(leg.sub, ctx) if leg.sub is not None else (leg,))
        return out

    def _choices(self, route: Route, legs: list[Leg], ctx: RequestContext) -> list[Choice]:
        strategy = route.strategy
        tokens_in, tokens_out = estimate_tokens(ctx)
        choices = []
        for leg in legs:
            choice = Choice(leg.key, leg.weight)
            if strategy is Strategy.LEAST_USED:
                choice.uses = self.runtime.counter("uses:" + leg.key)
            elif strategy is Strategy.COST_OPTIMIZED:
                first = leg.sub.first if leg.sub is not None else leg
                choice.cost = estimate(self.registry.pricing.price_of(first.provider, first.model), tokens_in,
                                       tokens_out)
            elif strategy is Strategy.LATENCY_OPTIMIZED:
                choice.p95 = self.latency.p95(leg.key)
            elif strategy is Strategy.CONTEXT_FIT and leg.info is not None:
                choice.context = leg.info.context
            choices.append(choice)
        return choices

    def _situation(self, route: Route, ctx: RequestContext) -> Situation:
        strategy, name = route.strategy, route.combo or ""
        situation = Situation()
        if strategy is Strategy.ROUND_ROBIN:
            situation.turn = self.runtime.next_turn("rr:" + name)
        elif strategy is Strategy.LKGP:
            mark = self.runtime.get("marks", "lkgp:" + name)
            situation.last_good = mark.decode() if mark else None
        elif strategy is Strategy.CONTEXT_FIT:
            situation.tokens = sum(estimate_tokens(ctx))
        return situation

    def accounts(self, leg: Leg, targets: tuple[Target, ...]) -> tuple[Target, ...] | list[Target]:
        if len(targets) < 2:
            return targets
        strategy = self.registry.general.get("accountStrategy", "fill-first")
        if strategy == "round-robin":
            turn = self.runtime.next_turn("acct:" + leg.provider) % len(targets)
            return [*targets[turn:], *targets[:turn]]
        if strategy == "least-used":
            return sorted(targets, key=lambda t: self.runtime.counter("uses:c:" + t.connection_id))
        return targets

    # -- availability ---------------------------------------------------------------------
    def blocked(self, target: Target, now: float) -> Blocked | None:
        """Why ``target`` may not be tried now; an account with its own limits is counted in
        its window here (the count is the attempt's)."""
        held = self.health.blocked(target, now, self.registry.resilience.of(target.provider))
        if held is not None or not (target.rpm or target.tpm):
            return held
        start = window_start(now)
        if self.runtime.admit([(f"c:{target.connection_id}:{start}", target.rpm, target.tpm)])[0] >= 0:
            return Blocked("limited", start + WINDOW_S)
        return None

    @staticmethod
    def unavailable(skipped: list[tuple[Target, Blocked]], now: float) -> GatewayError:
        """The 503 for a request none of whose accounts could be tried: ``Retry-After`` is the
        earliest time one comes back by itself; accounts that only an operator can bring back
        (``auth_failed``) give none."""
        untils = [b.until for _t, b in skipped if b.until > now]
        states = ", ".join(sorted({f"{t.connection_name or t.connection_id} {b.state}" for t, b in skipped}))
        if not untils:
            return GatewayError(ErrorKind.OVERLOADED, f"no account can take this request ({states}): fix or test "
                                "the accounts (POST /api/providers/{id}/test)", status=503,
                                code="no_available_account")
        wait = max(1, math.ceil(min(untils) - now))
        err = GatewayError(ErrorKind.OVERLOADED, f"no account can take this request now ({states}); "
                           f"retry in {wait} s", status=503, code="no_available_account")
        err.retry_after = float(wait)
        return err

    # -- outcomes -------------------------------------------------------------------------
    def failed(self, target: Target, err: GatewayError, now: float) -> None:
        self.health.record_failure(target, err, self.registry.resilience.of(target.provider), now,
                                   len(self.registry.targets.get(target.provider, ())))

    def served(self, route: Route, leg: Leg, target: Target, first_byte_ms: float,
               headers: dict[str, str]) -> None:
        self.health.record_success(target)
        remaining = headers.get("x-ratelimit-remaining-requests") or headers.get(
            "anthropic-ratelimit-requests-remaining")
        if remaining is not None:
            self._remaining(target.connection_id, remaining)
        levels = _levels(route, leg) if route.combo is not None else [(route, leg)]
        if self.latency.tracking:
            for _combo, entry in levels:
                self.latency.add(entry.key, first_byte_ms)
        for combo, entry in levels:  # each combo on the way down counts the entry that answered
            if combo.combo is None:
                continue
            if combo.strategy is Strategy.LKGP:
                mark = self.runtime.get("marks", "lkgp:" + combo.combo)
                if mark != entry.key.encode():
                    self.runtime.put("marks", "lkgp:" + combo.combo, entry.key.encode())
            elif combo.strategy is Strategy.LEAST_USED:
                self.runtime.next_turn("uses:" + entry.key)
        if self.registry.general.get("accountStrategy") == "least-used":
            self.runtime.next_turn("uses:c:" + target.connection_id)

    def _remaining(self, connection_id: str, value: str) -> None:
        """Keep the upstream's remaining-requests count for ``/api/rate-limits``: written when it
        changed, at most once a second per account and worker."""
        now = time.monotonic()
        held = self.remaining.get(connection_id)
        if held is not None and (held[0] == value or now - held[1] < 1.0):
            return
        self.remaining[connection_id] = (value, now)
        if value.strip().isdigit():
            self.runtime.put("marks", "rem:" + connection_id, value.strip().encode())


def _levels(route: Route, served: Leg) -> list[tuple[Route, Leg]]:
    """(combo, its entry holding ``served``) for each combo from ``route`` down to the one
    that lists ``served`` (nested combos are entries of their parent)."""
    for entry in route.legs:
        if entry is served:
            return [(route, entry)]
        if entry.sub is not None and (inner := _levels(entry.sub, served)):
            return [(route, entry), *inner]
    return []


def estimate_tokens(ctx: RequestContext) -> tuple[int, int]:
    """(input, output) tokens a request will likely use: ~4 bytes a token over the body, and
    its max tokens (1,024 when it gives none)."""
    return len(ctx.body) // 4, ctx.max_tokens or 1024
