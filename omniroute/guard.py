"""One request's watch: a client that leaves, or a deadline that passes, cancels the request's
task — closing the upstream call or response at once, so no attempt is left running.

=====================================  ===================================================
what happens                           what ``guarded`` does
=====================================  ===================================================
the client disconnects                 ``ctx.disconnected``; the task is cancelled, the
                                       cancellation swallowed (nobody is there to answer)
the deadline passes before the answer  ``ctx.expired``; the task is cancelled and a 504
began                                  ``deadline_exceeded`` raised (the app answers it)
the deadline passes mid-stream         ``ctx.expired``; the relay, cancelled, ends the
                                       stream with the format's error event
=====================================  ===================================================

The watch begins ``WATCH_AFTER_S`` (1 ms) into the request, from one ``call_later`` timer: a
request answered sooner (a cache hit, a fast upstream) never starts the watcher task, which
costs ~20 µs (a task, a ``receive()`` into the server, its cancellation) against ~1 µs for the
timer. From then on one watcher task per request waits on ASGI ``receive()`` for
``http.disconnect``, and the deadline is a second timer at its time from the request's start.
A client that left in the first millisecond is seen when the watch begins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from omniroute.context import RequestContext
from omniroute.relay import deadline_error

WATCH_AFTER_S = 0.001


class _Watch:
    """One request's timers and watcher task."""

    __slots__ = ("ctx", "due", "receive", "task", "timer", "watcher")

    def __init__(self, receive: Any, task: asyncio.Task[Any], ctx: RequestContext,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.receive, self.task, self.ctx = receive, task, ctx
        self.watcher: asyncio.Task[None] | None = None
        self.due = loop.time() + ctx.deadline if ctx.deadline else 0.0
        first = WATCH_AFTER_S if not ctx.deadline or ctx.deadline > WATCH_AFTER_S else ctx.deadline
        self.timer: asyncio.TimerHandle | None = loop.call_later(first, self.begin)

    def begin(self) -> None:
        loop = self.task.get_loop()
        if self.due and loop.time() >= self.due:
            self.timer = None
            _expire(self.task, self.ctx)
            return
        self.timer = loop.call_at(self.due, _expire, self.task, self.ctx) if self.due else None
        self.watcher = loop.create_task(_cancel_on_disconnect(self.receive, self.task, self.ctx))

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.watcher is not None:
            self.watcher.cancel()


async def guarded(receive: Any, ctx: RequestContext, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` in this task while watching the client and the deadline: a client that
    disconnects, or the deadline passing, cancels the task — closing the upstream call or
    response, so no attempt is left running. A deadline that passed before the answer began
    is a 504; after, the relay has ended the stream with an error event."""
    task = asyncio.current_task()
    assert task is not None
    watch = _Watch(receive, task, ctx, task.get_loop())
    try:
        await work
    except asyncio.CancelledError:
        if not (ctx.disconnected or ctx.expired):
            raise
        task.uncancel()
        if ctx.expired and not ctx.status and not ctx.disconnected:
            raise deadline_error(ctx.deadline) from None
    finally:
        watch.stop()


def _expire(task: asyncio.Task[Any], ctx: RequestContext) -> None:
    if not ctx.disconnected:
        ctx.expired = True
        task.cancel()


async def _cancel_on_disconnect(receive: Any, task: asyncio.Task[Any], ctx: RequestContext) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    if not ctx.expired:
        ctx.disconnected = True
        task.cancel()
