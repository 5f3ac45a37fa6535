"""Rate limits and budgets: one hook that refuses a request before its attempts and counts
what it used once the answer is sent (``after``, in place).

It exists in a worker's hook chain only while something is configured (a key with ``rpm`` /
``tpm``, a global ``/api/rate-limit``, an account's ``tpm``, a budget), so an unconfigured
gateway does no work for it. A request is admitted all or nothing: every window counted and
the budget read together in one transaction, or nothing counted (a refused request uses no
quota). What answers used (tokens, spend) is written at the end of the event-loop turn that
finished them, in one transaction for all of them, or sooner with an admission of that turn.
While requests arrive one at a time an admission is its own transaction, at once; once a
turn asks for more than one, the next turn's admissions wait for its end (a loop turn, a few
microseconds) and share one transaction with its counts, taken in order, so they stay exact;
what answers used then rides with the next admissions, or is written by itself after
``RIDE_S`` (1 ms) when none comes.
Each LMDB transaction releases the GIL several times, and in a serving worker every release
costs a hand-off to Granian's threads: sharing them is what keeps limits cheap at high
concurrency (docs/benchmarks.md). Every worker sees the counts once they are written. The
counters live in the runtime environment, shared by every worker: a key limited to 10
requests a minute gets exactly 10 through however many workers serve it.

=================  ==============================================================================
check              over it
=================  ==============================================================================
key rpm / tpm,     429 ``rate_limit_exceeded`` in the client's dialect, ``Retry-After`` (whole
global rpm / tpm   seconds ≥ 1, to the end of the 60 s window), ``x-ratelimit-limit-requests``,
                   ``x-ratelimit-remaining-requests: 0``. Requests count at admission, tokens
                   (input + output, the upstream's counts) when the answer is complete
key budget         402 ``budget_exceeded`` while the period's spend ≥ its limit: requests are
                   admitted while spent < limit, so the one that crosses it completes. Spend =
                   the answer's usage × its price (``providers.pricing``); periods start at
                   00:00 UTC (daily), Monday 00:00 UTC (weekly), the 1st 00:00 UTC (monthly)
=================  ==============================================================================
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from omniroute.errors import ErrorKind, GatewayError
from omniroute.hooks import Hook
from omniroute.providers.pricing import cost
from omniroute.routing.router import WINDOW_S, window_start

if TYPE_CHECKING:
    from omniroute.context import RequestContext
    from omniroute.routing.registry import Registry
    from omniroute.store import Budget
    from omniroute.store.runtime import Runtime

PERIODS = ("daily", "weekly", "monthly")
#: on a busy loop, how long what an answer used may wait to ride with the next admissions'
#: transaction before it is written by itself
RIDE_S = 0.001


class Limits(Hook):
    """Per-key and global request/token windows, the tokens of accounts with a ``tpm`` (their
    requests are counted by ``routing.router`` at each attempt), and key budgets. A request
    is admitted all or nothing (every window counted and the budget read, or none); what it
    used is counted once the answer is sent, at the end of that loop turn or with an
    admission before then. On a busy loop (the last turn asked for more than one admission)
    a turn's admissions wait for its end and share its transaction."""

    name = "limits"

    def __init__(self, registry: Registry, runtime: Runtime) -> None:
        self.registry = registry
        self.runtime = runtime
        limits = registry.rate_limit
        self.global_limits = (int(limits.get("rpm", 0)), int(limits.get("tpm", 0)))
        self.counts_every = any(self.global_limits)  # a global window counts every request
        self.budgets = registry.budgets
        self.tokens_counted = bool(self.global_limits[1] or any(k.tpm for k in registry.keys.values())
                                   or _account_tpm(registry))
        self.needs_usage = self.tokens_counted or bool(self.budgets)
        self.spend_keys: dict[str, tuple[float, float, str]] = {}  # key id → its period (start, end, spend key)
        #: what finished answers used, written at the end of the loop turn (one transaction
        #: however many answers it finished) or with an admission before that
        self.tokens_due: dict[str, int] = {}
        self.spend_due: dict[str, float] = {}
        self.flush_due = False
        #: admissions asked for in this turn, and whether they wait for its end (``flush``)
        self.asked = 0
        self.batching = False
        self.late_due = False
        self.waiting: list[tuple[list[tuple[str, int, int]], tuple[str, float] | None,
                                 asyncio.Future[tuple[int, float]]]] = []
        if not self.needs_usage:  # no token limit, no budget: nothing to count after the answer
            self.after = None  # type: ignore[assignment]

    @staticmethod
    def configured(registry: Registry) -> bool:
        """Whether this hook has anything to do for ``registry``'s settings."""
        limits = registry.rate_limit
        return bool(limits.get("rpm") or limits.get("tpm") or registry.budgets
                    or any(k.rpm or k.tpm for k in registry.keys.values()) or _account_tpm(registry))

    def _windows(self, ctx: RequestContext, start: int) -> list[tuple[str, int, int]]:
        checks = []
        key = ctx.key
        if key is not None and (key.rpm or key.tpm):
            checks.append((f"k:{key.id}:{start}", key.rpm, key.tpm))
        if self.global_limits[0] or self.global_limits[1]:
            checks.append((f"g:{start}", *self.global_limits))
        return checks

    def period_of(self, budget: Budget, now: float) -> tuple[float, float, str]:
        """(start, end, spend key) of ``budget``'s period holding ``now``, computed once per
        period rather than per request."""
        held = self.spend_keys.get(budget.key_id)
        if held is None or not held[0] <= now < held[1]:
            start, end = period(budget.period, now)
            held = self.spend_keys[budget.key_id] = (start, end, spend_key(budget, start))
        return held

    async def pre(self, ctx: RequestContext) -> None:
        key = ctx.key
        budget = self.budgets.get(key.id) if key is not None and self.budgets else None
        if budget is None and not self.counts_every and (key is None or not (key.rpm or key.tpm)):
            return None  # nothing limits this request
        now = time.time()
        start = window_start(now)
        checks = self._windows(ctx, start)
        spend = None
        if budget is not None:
            _begins, ends, name = self.period_of(budget, now)
            spend = (name, budget.limit)
        self.asked += 1
        if self.batching:  # a busy loop: this turn's admissions share one transaction
            full, spent = await self._at_turn_end(checks, spend)
        else:
            self._flush_at_turn_end()
            tokens, spent_due = self.tokens_due, self.spend_due
            if tokens or spent_due:  # this turn's counts so far go in the same transaction
                self.tokens_due, self.spend_due = {}, {}
            full, spent = self.runtime.turn([(checks, spend)], tokens, spent_due)[0]
        if full < 0:
            return None
        if full == len(checks):
            assert budget is not None
            raise GatewayError(ErrorKind.PERMISSION, f"budget of ${budget.limit:g} per {budget.period} period "
                               f"for this key is spent (${spent:.4f}); it resets at {iso(ends)}", status=402,
                               code="budget_exceeded")
        scope, rpm, tpm = checks[full]
        wait = max(1, math.ceil(start + WINDOW_S - now))
        ctx.add_header(b"retry-after", wait)
        if rpm:
            ctx.add_header(b"x-ratelimit-limit-requests", rpm)
            ctx.add_header(b"x-ratelimit-remaining-requests", 0)
        who = "this key" if scope.startswith("k:") else "the gateway"
        what = f"{rpm} requests" if rpm and self.runtime.window(scope)[0] >= rpm else f"{tpm} tokens"
        err = GatewayError(ErrorKind.RATE_LIMITED, f"rate limit of {what} per minute for {who} reached; retry in "
                           f"{wait} s", code="rate_limit_exceeded")
        err.retry_after = float(wait)
        raise err

    def after(self, ctx: RequestContext) -> None:
        if ctx.served is None or ctx.answered_by is not None:  # no upstream answered: nothing was used
            return
        key = ctx.key
        budget = self.budgets.get(key.id) if key is not None and self.budgets else None
        if budget is None and not self.tokens_counted:
            return
        usage = ctx.usage
        when = ctx_time(ctx)
        keys: list[str] = []
        tokens = usage.input_tokens + usage.output_tokens if usage is not None else 0
        if tokens and self.tokens_counted:
            start = window_start(when)
            keys = [scope for scope, _rpm, tpm in self._windows(ctx, start) if tpm]
            if ctx.served.tpm:
                keys.append(f"c:{ctx.served.connection_id}:{start}")
        spend = None
        if budget is not None:
            usd = cost(self.registry.pricing.price_of(ctx.served.provider, ctx.attempts[-1].model), usage, ctx.units)
            if usd:
                spend = (self.period_of(budget, when)[2], usd)
        if keys or spend is not None:
            for name in keys:
                self.tokens_due[name] = self.tokens_due.get(name, 0) + tokens
            if spend is not None:
                self.spend_due[spend[0]] = self.spend_due.get(spend[0], 0.0) + spend[1]
            if not self.batching:
                self._flush_at_turn_end()
            elif not (self.flush_due or self.late_due):  # busy: ride with the next admissions
                self.late_due = True
                asyncio.get_running_loop().call_later(RIDE_S, self._late)

    def _flush_at_turn_end(self) -> None:
        if not self.flush_due:
            self.flush_due = True
            asyncio.get_running_loop().call_soon(self._turn_end)

    def _turn_end(self) -> None:
        """The end of a loop turn that asked for admissions or (not busy) finished answers:
        whether the next turn's admissions queue is decided here — when this one asked for
        more than one."""
        self.flush_due = False
        if self.asked:
            self.batching = self.asked > 1
            self.asked = 0
        self.flush()

    def _late(self) -> None:
        self.late_due = False
        self.flush()

    def _at_turn_end(self, checks: list[tuple[str, int, int]], spend: tuple[str, float] | None
                     ) -> asyncio.Future[tuple[int, float]]:
        """The admission's answer, given by ``flush`` at the end of this loop turn."""
        answer: asyncio.Future[tuple[int, float]] = asyncio.get_running_loop().create_future()
        self.waiting.append((checks, spend, answer))
        self._flush_at_turn_end()
        return answer

    def flush(self) -> None:
        """What finished answers used and the queued admissions, in one transaction (at a
        turn's end, ``RIDE_S`` after a busy loop's answer, and from ``HookChain.drain`` at
        shutdown)."""
        tokens, spend, waiting = self.tokens_due, self.spend_due, self.waiting
        if not (tokens or spend or waiting):
            return
        self.tokens_due, self.spend_due, self.waiting = {}, {}, []
        try:
            answers = self.runtime.turn([(checks, budget) for checks, budget, _answer in waiting], tokens, spend)
        except Exception as exc:  # the runtime failed: each waiting request gets the error
            if not waiting:
                raise
            for _checks, _budget, answer in waiting:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for (_checks, _budget, answer), given in zip(waiting, answers, strict=True):
            if not answer.done():  # (a client that left cancelled its wait)
                answer.set_result(given)


def _account_tpm(registry: Registry) -> bool:
    return any(t.tpm for targets in registry.targets.values() for t in targets)


def ctx_time(ctx: RequestContext) -> float:
    """Wall-clock time of the request's arrival."""
    return time.time() - (time.perf_counter() - ctx.started)


def spend_key(budget: Budget, start: float) -> str:
    return f"{budget.key_id}:{int(start)}"


def period(name: str, now: float) -> tuple[float, float]:
    """(start, end) of the ``daily|weekly|monthly`` period holding ``now``, UTC."""
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "daily":
        start, end = day, day + timedelta(days=1)
    elif name == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return start.timestamp(), end.timestamp()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
