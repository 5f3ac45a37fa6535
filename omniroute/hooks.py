"""The hook chain: ordered pre- and post-hooks around a model request's upstream attempts.

::

    handler decodes ─▶ pre-hooks in order ─┬─▶ attempts ─▶ answer sent ─▶ post-hooks, reversed
                                           └─▶ a pre-hook answered (cache hit) ─▶ answer sent ─┘

A hook is an object with any of these (``Hook`` gives do-nothing defaults):

====================  ======================================================================
member                meaning
====================  ======================================================================
``name``              for logs and ``RequestContext.answered_by``
``pre(ctx)``          before the attempts; may return a canonical ``Response`` that answers
                      the request (the pipeline encodes it in the client's format, stream or
                      not, and no upstream is asked), may raise ``GatewayError`` to refuse
                      it (a 429 from a limit: the client gets it in its dialect), or returns
                      ``None`` to go on
``post(ctx)``         after the last byte of the answer (or error) was sent, off the
                      request: it never delays the client. Runs for every model request,
                      failed ones included; ``ctx.response`` holds the assembled answer
                      (usage included) when the hook ``needs_answer``
``after(ctx)``        the synchronous twin of ``post``, for quick work that never waits (a
                      counter update in the runtime environment): run in place right after
                      the last byte, before any ``post``, with no task of its own (a task per
                      request costs more than such work). A hook whose instance sets
                      ``after = None`` has none (decided at start-up). One that batches
                      its writes has a ``flush()``, which ``drain()`` calls
``needs_request``     the canonical request is decoded before ``pre`` (``ctx.request``).
                      Hooks without it leave a same-format request undecoded: pass-through
                      stays zero-copy
``needs_usage``       the upstream's answer bytes are kept (references to what was read, no
                      copy) so that ``ctx.usage`` can read the token counts from them
                      (``formats.usage``: only the frame that carries them is decoded)
``needs_answer``      the upstream's answer bytes are kept (references to what was read,
                      no copy) and assembled into ``ctx.response`` before the post-hooks.
                      A hook that wants the answer of only some requests leaves it off,
                      sets ``ctx.captured = []`` in ``pre`` for those and keeps state for
                      them (``ctx.hook_state``): the answer is assembled for such requests
``rewrites_request``  ``pre`` changes ``ctx.request``: a same-format upstream is then sent
                      the canonical request re-encoded in its format, not the client's
                      bytes (measured: docs/benchmarks.md, "Settings on the request path")
``post_always``       (default true) ``post`` runs for every model request; false: only for
                      requests some hook kept state for (``ctx.hook_state``), so a hook
                      such as the cache costs nothing after requests it did not touch
====================  ======================================================================

Post-hooks run in reverse order (the first pre-hook sees the request first and the answer
last): the ``after`` ones in place, then the ``post`` ones one after another in a task of
their own; one that raises is logged and the next still runs. ``drain()`` waits for running
post work at shutdown, so nothing queued is lost.

Hooks are built once per worker at start-up: the gateway's own (routing limits, cache —
as each is configured; usage recording is not a hook: ``omniroute.usage`` reads the
answer's bytes itself) and the operator's (``--hooks module:factory``, each factory
called with the worker's ``Gateway`` and returning a hook). With no hook configured the
pipeline does no hook work at all.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omniroute.errors import ErrorKind, GatewayError

if TYPE_CHECKING:
    from omniroute.canonical import Response
    from omniroute.context import RequestContext

log = logging.getLogger("omniroute.hooks")


class Hook:
    """A hook that does nothing; subclasses override what they need."""

    name = "hook"
    needs_request = False
    needs_usage = False
    needs_answer = False
    rewrites_request = False
    post_always = True

    async def pre(self, ctx: RequestContext) -> Response | None:
        return None

    async def post(self, ctx: RequestContext) -> None:
        return None

    def after(self, ctx: RequestContext) -> None:
        return None


def _overrides(hook: Any, method: str) -> bool:
    impl = getattr(type(hook), method, None)
    return (impl is not None and impl is not getattr(Hook, method)
            and callable(getattr(hook, method, None)))


class HookChain:
    """The worker's hooks, split at start-up into the ones that pre- and post-process."""

    def __init__(self, hooks: list[Any], running: set[asyncio.Task[None]] | None = None) -> None:
        self.pre = [h for h in hooks if _overrides(h, "pre")]
        self.post = [h for h in reversed(hooks) if _overrides(h, "post")]
        self.after = [h for h in reversed(hooks) if _overrides(h, "after")]
        posting = [*self.after, *self.post]
        self.needs_request = any(getattr(h, "needs_request", False) for h in hooks)
        self.needs_answer = any(getattr(h, "needs_answer", False) for h in posting)
        #: the answer's bytes are kept: for an assembled answer, or for its usage alone
        self.needs_capture = self.needs_answer or any(getattr(h, "needs_usage", False) for h in posting)
        self.rewrites_request = any(getattr(h, "rewrites_request", False) for h in self.pre)
        self.post_always = any(getattr(h, "post_always", True) for h in posting)
        self.task_always = any(getattr(h, "post_always", True) for h in self.post)
        self.posts = bool(posting)
        #: post work still running; shared by the chains a worker builds over its life
        self.running: set[asyncio.Task[None]] = running if running is not None else set()

    async def run_pre(self, ctx: RequestContext) -> Response | None:
        if self.needs_request:
            ctx.canonical()
        for hook in self.pre:
            answer = await hook.pre(ctx)
            if answer is not None:
                ctx.answered_by = hook.name
                ctx.response = answer
                return answer
        return None

    def wants_post(self, ctx: RequestContext) -> bool:
        """Whether post work is due after ``ctx`` (a model request)."""
        return self.posts and (self.post_always or ctx.hook_state is not None)

    def schedule_post(self, ctx: RequestContext, collect: Callable[[RequestContext], None]) -> None:
        """Run the ``after`` hooks in place, then the post-hooks in a task of their own;
        ``collect`` assembles ``ctx.response`` first when a hook needs the answer."""
        collected = bool(self.after)
        if collected:
            self._collect(ctx, collect)
            for hook in self.after:
                try:
                    hook.after(ctx)
                except Exception:
                    log.exception("post-hook %s failed", getattr(hook, "name", hook))
        if self.post and (self.task_always or ctx.hook_state is not None):
            task = asyncio.get_running_loop().create_task(self._run_post(ctx, collect, collected))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    def _collect(self, ctx: RequestContext, collect: Callable[[RequestContext], None]) -> None:
        if self.needs_answer or ctx.hook_state is not None:  # a hook kept state: it reads the answer
            try:
                collect(ctx)
            except Exception:
                log.warning("could not assemble the answer for post-hooks", exc_info=True)

    async def _run_post(self, ctx: RequestContext, collect: Callable[[RequestContext], None],
                        collected: bool = False) -> None:
        if not collected:
            self._collect(ctx, collect)
        for hook in self.post:
            try:
                await hook.post(ctx)
            except Exception:
                log.exception("post-hook %s failed", getattr(hook, "name", hook))

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for running post work, and write what ``after`` hooks batched (shutdown)."""
        if self.running:
            await asyncio.wait(list(self.running), timeout=timeout)
        for hook in self.after:
            flush = getattr(hook, "flush", None)
            if flush is not None:
                flush()


def load_hooks(specs: tuple[str, ...], gateway: Any) -> list[Any]:
    """The operator's hooks: each ``module:factory`` imported and called with the gateway."""
    hooks = []
    for spec in specs:
        module_name, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr or "hook")
        except (ImportError, AttributeError) as exc:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"server.hooks: cannot load '{spec}': {exc}") from None
        hooks.append(factory(gateway))
    return hooks
