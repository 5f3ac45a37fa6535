"""Per-worker runtime state: settings, stores, routing snapshot, router, hooks, upstream clients.

One ``Gateway`` per worker process, created in the ASGI lifespan start-up (after Granian
forked or spawned the worker) and passed explicitly to every handler — no module globals.
``refresh()`` (once per request) rebuilds the routing snapshot and the hook chain when a
management write moved the store's version, and reloads shared account health when it moved.

The hook chain holds only what is configured: the gateway's own hooks (rate limits while
some limit is set, budgets while some budget exists) then the operator's ``--hooks``.

Usage: ``usage_db`` (the usage environment, ``data_dir/usage``: records, telemetry, audit)
is always open; ``recorder`` (``omniroute.usage``) exists while ``record_usage`` is on.
"""

from __future__ import annotations

import os
import time

import aiohttp

from omniroute.config import Settings
from omniroute.hooks import HookChain, load_hooks
from omniroute.routing.limits import Budgets, RateLimits
from omniroute.routing.registry import Registry
from omniroute.routing.router import Router
from omniroute.store import Runtime, Store
from omniroute.telemetry.retention import SETTING, load
from omniroute.telemetry.usage_db import UsageDB
from omniroute.upstream import H1Pool, open_pool, open_session
from omniroute.usage import UsageRecorder


class Gateway:
    __slots__ = ("extra_hooks", "hooks", "recorder", "registry", "router", "runtime", "session", "settings", "started",
                 "store", "upstream", "usage_db")

    def __init__(self, settings: Settings, store: Store, runtime: Runtime, upstream: H1Pool,
                 session: aiohttp.ClientSession, usage_db: UsageDB | None = None) -> None:
        self.settings = settings
        self.store = store
        self.runtime = runtime
        self.usage_db = usage_db if usage_db is not None else UsageDB(store.path / "usage")
        self.upstream = upstream  # request path
        self.session = session  # management calls
        timeouts = (settings.connect_timeout, settings.first_byte_timeout, settings.stream_idle_timeout)
        self.registry = Registry(store, timeouts)
        self.router = Router(self.registry, runtime)
        self.recorder = UsageRecorder(self.usage_db, self.registry, store) if settings.record_usage else None
        self.started = time.time()
        self.extra_hooks = load_hooks(settings.hook_specs, self)
        self.hooks = HookChain([])
        self._rebuild()

    @classmethod
    def open(cls, settings: Settings) -> Gateway:
        path = settings.data_path
        gw = cls(settings, Store(path), Runtime(path / "runtime"), open_pool(settings), open_session(settings),
                 UsageDB(path / "usage"))
        if gw.recorder is not None:
            gw.recorder.start()
        return gw

    def refresh(self) -> None:
        if self.registry.refresh():
            self._rebuild()
        self.router.refresh()

    def _rebuild(self) -> None:
        """The hook chain and tracking flags for the current snapshot."""
        registry = self.registry
        own: list = []
        if RateLimits.configured(registry):
            own.append(RateLimits(registry, self.runtime))
        if registry.budgets:
            own.append(Budgets(registry, self.runtime))
        self.hooks = HookChain([*own, *self.extra_hooks], self.hooks.running)
        self.router.latency.tracking = any(c.strategy == "latency-optimized" for c in registry.combos.values())
        if self.recorder is not None:
            self.recorder.set_retention(load(self.store.setting(SETTING)))

    async def close(self) -> None:
        await self.hooks.drain()
        if self.recorder is not None:
            await self.recorder.close()
        await self.upstream.close()
        await self.session.close()
        self.usage_db.close()
        self.store.close()
        self.runtime.close()

    @property
    def pid(self) -> int:
        return os.getpid()
