"""``routing.limits.Limits`` as a unit on a real store and runtime (LMDB in a temp dir): an
admission alone is its own transaction, at once; after a turn that asked for several, a
turn's admissions wait for its end and share one transaction — exact all the same, refused
ones counting nothing, what answers used written with them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from omniroute.context import Attempt, RequestContext
from omniroute.errors import GatewayError
from omniroute.routing.limits import Limits
from omniroute.routing.registry import Registry
from omniroute.routing.router import window_start
from omniroute.store import ApiKey, Budget, Connection, Runtime, Store


@pytest.fixture
def limits(tmp_path: Path) -> tuple[Limits, Runtime, ApiKey]:
    store, runtime = Store(tmp_path / "store"), Runtime(tmp_path / "runtime")
    store.put("connections", "c0", Connection("c0", "openai", "acct", "sk-x"))
    key = ApiKey("key-1", "turns", "hash-1", "sk-omni-", rpm=12)
    store.put("keys", key.key_hash, key)
    store.put("budgets", key.id, Budget(key.id, 1e9, "monthly"))
    store.put_setting("pricing", {"openai/gpt-image-1": {"perImage": 0.5}})
    registry = Registry(store)
    yield Limits(registry, runtime), runtime, registry.keys[key.key_hash]
    runtime.close()
    store.close()


def request(key: ApiKey) -> RequestContext:
    ctx = RequestContext(time.perf_counter(), "openai_chat")
    ctx.key = key
    return ctx


async def admitted(limits: Limits, key: ApiKey) -> bool:
    try:
        await limits.pre(request(key))
    except GatewayError as err:
        assert err.status == 429
        return False
    return True


def test_one_at_a_time_is_admitted_at_once_and_a_busy_turn_batches(limits: tuple[Limits, Runtime, ApiKey]) -> None:
    hook, runtime, key = limits

    async def run() -> list[bool]:
        first = await admitted(hook, key)  # alone in its turn: no waiting
        assert first and not hook.waiting and not hook.batching
        await asyncio.sleep(0)
        burst = await asyncio.gather(*(admitted(hook, key) for _ in range(5)))  # one turn asks for 5
        await asyncio.sleep(0)
        assert hook.batching  # so the next turn's admissions wait for its end
        queued = await asyncio.gather(*(admitted(hook, key) for _ in range(10)))
        return [first, *burst, *queued]

    results = asyncio.run(run())
    assert sum(results) == 12 and results[:12] == [True] * 12  # in order, exact: the 13th on is refused
    assert runtime.window(f"k:{key.id}:{window_start(time.time())}")[0] == 12


def test_counts_ride_with_the_next_admission_or_the_turn_end(limits: tuple[Limits, Runtime, ApiKey]) -> None:
    hook, runtime, key = limits
    target = hook.registry.targets["openai"][0]

    def answered() -> RequestContext:
        ctx = request(key)
        ctx.served = target
        ctx.attempts = [Attempt("openai", "c0", "gpt-image-1", 200, None, 1.0)]
        ctx.units = {"images": 2}  # $1.00 at the edited price
        return ctx

    name = hook.period_of(hook.budgets[key.id], time.time())[2]

    async def run() -> None:
        hook.after(answered())
        assert hook.spend_due == {name: 1.0} and runtime.spent(name) == 0.0
        await admitted(hook, key)  # the admission takes the turn's spend along
        assert not hook.spend_due and runtime.spent(name) == 1.0
        hook.after(answered())
        await asyncio.sleep(0)  # the turn ends: written
        assert runtime.spent(name) == 2.0

    asyncio.run(run())
