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

One watcher task per request waits on ASGI ``receive()`` for ``http.disconnect``; the
deadline is one ``call_later`` timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from omniroute.context import RequestContext
from omniroute.relay import deadline_error


async def guarded(receive: Any, ctx: RequestContext, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` in this task while watching the client and the deadline: a client that
    disconnects, or the deadline passing, cancels the task — closing the upstream call or
    response, so no attempt is left running. A deadline that passed before the answer began
    is a 504; after, the relay has ended the stream with an error event."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    watcher = loop.create_task(_cancel_on_disconnect(receive, task, ctx))
    timer = loop.call_later(ctx.deadline, _expire, task, ctx) if ctx.deadline else None
    try:
        await work
    except asyncio.CancelledError:
        if not (ctx.disconnected or ctx.expired):
            raise
        task.uncancel()
        if ctx.expired and not ctx.status and not ctx.disconnected:
            raise deadline_error(ctx.deadline) from None
    finally:
        watcher.cancel()
        if timer is not None:
            timer.cancel()


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
