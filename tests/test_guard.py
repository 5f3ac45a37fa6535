"""``omniroute.guard`` as a unit, on a real event loop: the watch begins 1 ms into a request
(a faster answer never asks the server for ``receive()``), a client that leaves before or
after that is seen and cancels the work, and the deadline cancels it from the request's start
whether it is shorter or longer than the delay. End to end (a real gateway, a client that
leaves, the upstream seeing the call closed) it is tested in ``tests/server`` and
``tests/routing/test_deadline.py``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from omniroute.context import RequestContext
from omniroute.errors import GatewayError
from omniroute.guard import WATCH_AFTER_S, guarded


class Client:
    """An ASGI ``receive``: blocks until ``leave()``, then says ``http.disconnect``."""

    def __init__(self) -> None:
        self.calls = 0
        self.left = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        self.calls += 1
        await self.left.wait()
        return {"type": "http.disconnect"}


def context(deadline: float = 0) -> RequestContext:
    ctx = RequestContext(time.perf_counter(), "openai_chat")
    ctx.deadline = deadline
    return ctx


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_quick_answer_never_starts_the_watcher() -> None:
    async def main() -> tuple[int, bool]:
        client, ctx = Client(), context(deadline=30)
        done = []

        async def work() -> None:
            done.append(True)

        await guarded(client.receive, ctx, work())
        await asyncio.sleep(WATCH_AFTER_S * 5)  # the cancelled timer must not fire later
        return client.calls, bool(done)

    calls, done = run(main())
    assert done and calls == 0


def test_a_client_that_leaves_cancels_the_work() -> None:
    async def main() -> tuple[RequestContext, list[str], float]:
        client, ctx = Client(), context()
        seen: list[str] = []

        async def work() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        async def leave() -> None:
            await asyncio.sleep(0.02)
            client.left.set()

        asyncio.get_running_loop().create_task(leave())
        began = time.perf_counter()
        await guarded(client.receive, ctx, work())  # the cancellation is swallowed: nobody to answer
        return ctx, seen, time.perf_counter() - began

    ctx, seen, took = run(main())
    assert ctx.disconnected and not ctx.expired
    assert seen == ["cancelled"]
    assert took < 1


def test_a_client_that_left_in_the_first_millisecond_is_seen_when_the_watch_begins() -> None:
    async def main() -> tuple[RequestContext, float]:
        client, ctx = Client(), context()
        client.left.set()
        began = time.perf_counter()
        await guarded(client.receive, ctx, asyncio.sleep(10))
        return ctx, time.perf_counter() - began

    ctx, took = run(main())
    assert ctx.disconnected
    assert took < 1


@pytest.mark.parametrize("deadline", [WATCH_AFTER_S / 2, 0.05])
def test_the_deadline_counts_from_the_start_and_is_a_504_before_the_answer(deadline: float) -> None:
    async def main() -> tuple[RequestContext, GatewayError | None, float]:
        client, ctx = Client(), context(deadline)
        began = time.perf_counter()
        try:
            await guarded(client.receive, ctx, asyncio.sleep(10))
        except GatewayError as err:
            return ctx, err, time.perf_counter() - began
        return ctx, None, time.perf_counter() - began

    ctx, err, took = run(main())
    assert ctx.expired and not ctx.disconnected
    assert err is not None and err.status == 504 and err.code == "deadline_exceeded"
    assert deadline <= took < deadline + 0.5


def test_a_deadline_after_the_answer_began_ends_without_an_error() -> None:
    async def main() -> RequestContext:
        client, ctx = Client(), context(0.02)

        async def work() -> None:
            ctx.status = 200  # the head went out; the relay ends the stream itself
            await asyncio.sleep(10)

        await guarded(client.receive, ctx, work())
        return ctx

    ctx = run(main())
    assert ctx.expired and ctx.status == 200
