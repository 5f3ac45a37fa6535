"""Rate limits and budgets: pre-hooks that refuse a request, post-hooks that count what it used.

Both exist in a worker's hook chain only while something is configured (a key with ``rpm`` /
``tpm``, a global ``/api/rate-limit``, a budget), so an unconfigured gateway does no work
for them. Their counters live in the runtime environment, shared by every worker: a key
limited to 10 requests a minute gets exactly 10 through however many workers serve it.

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


class RateLimits(Hook):
    """Per-key and global request/token windows, and the tokens of accounts with a ``tpm``
    (their requests are counted by ``routing.router`` at each attempt)."""

    name = "rate-limits"

    def __init__(self, registry: Registry, runtime: Runtime) -> None:
        self.runtime = runtime
        limits = registry.rate_limit
        self.global_limits = (int(limits.get("rpm", 0)), int(limits.get("tpm", 0)))
        self.needs_usage = bool(self.global_limits[1] or any(k.tpm for k in registry.keys.values())
                                 or _account_tpm(registry))

    @staticmethod
    def configured(registry: Registry) -> bool:
        """Whether this hook has anything to do for ``registry``'s settings."""
        limits = registry.rate_limit
        return bool(limits.get("rpm") or limits.get("tpm") or any(k.rpm or k.tpm for k in registry.keys.values())
                    or _account_tpm(registry))

    def _windows(self, ctx: RequestContext, start: int) -> list[tuple[str, int, int]]:
        checks = []
        key = ctx.key
        if key is not None and (key.rpm or key.tpm):
            checks.append((f"k:{key.id}:{start}", key.rpm, key.tpm))
        if any(self.global_limits):
            checks.append((f"g:{start}", *self.global_limits))
        return checks

    async def pre(self, ctx: RequestContext) -> None:
        now = time.time()
        start = window_start(now)
        checks = self._windows(ctx, start)
        if not checks:
            return None
        full = self.runtime.admit(checks)
        if full < 0:
            return None
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

    async def post(self, ctx: RequestContext) -> None:
        usage = ctx.usage
        if usage is None or not (usage.input_tokens or usage.output_tokens):
            return
        start = window_start(ctx_time(ctx))
        keys = [scope for scope, _rpm, tpm in self._windows(ctx, start) if tpm]
        if ctx.served is not None and ctx.served.tpm:
            keys.append(f"c:{ctx.served.connection_id}:{start}")
        if keys:
            self.runtime.add_tokens(keys, usage.input_tokens + usage.output_tokens)


def _account_tpm(registry: Registry) -> bool:
    return any(t.tpm for targets in registry.targets.values() for t in targets)


class Budgets(Hook):
    """A key's spend per period."""

    name = "budgets"
    needs_usage = True

    def __init__(self, registry: Registry, runtime: Runtime) -> None:
        self.registry = registry
        self.runtime = runtime
        self.periods: dict[str, tuple[float, float]] = {}  # name → the current (start, end)

    def current(self, name: str, now: float) -> tuple[float, float]:
        """``period(name, now)``, computed once per period rather than per request."""
        held = self.periods.get(name)
        if held is None or not held[0] <= now < held[1]:
            held = self.periods[name] = period(name, now)
        return held

    async def pre(self, ctx: RequestContext) -> None:
        key = ctx.key
        budget = self.registry.budgets.get(key.id) if key is not None else None
        if budget is None:
            return None
        start, ends = self.current(budget.period, time.time())
        spent = self.runtime.spent(spend_key(budget, start))
        if spent >= budget.limit:
            raise GatewayError(ErrorKind.PERMISSION, f"budget of ${budget.limit:g} per {budget.period} period "
                               f"for this key is spent (${spent:.4f}); it resets at {iso(ends)}", status=402,
                               code="budget_exceeded")
        return None

    async def post(self, ctx: RequestContext) -> None:
        key = ctx.key
        budget = self.registry.budgets.get(key.id) if key is not None else None
        if budget is None or ctx.served is None or ctx.answered_by is not None:
            return
        usd = cost(self.registry.pricing.price_of(ctx.served.provider, ctx.attempts[-1].model), ctx.usage, ctx.units)
        if usd:
            self.runtime.spend(spend_key(budget, self.current(budget.period, ctx_time(ctx))[0]), usd)


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
