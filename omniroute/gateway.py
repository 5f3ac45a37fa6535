"""Per-worker runtime state: settings, stores, routing snapshot, router, hooks, upstream clients.

One ``Gateway`` per worker process, created in the ASGI lifespan start-up (after Granian
forked or spawned the worker) and passed explicitly to every handler — no module globals.
``refresh()`` (once per request) rebuilds the routing snapshot and the hook chain when a
management write moved the store's version, and reloads shared account health when it moved.

The hook chain holds only what is configured: the gateway's own hooks (idempotency while its
window is above 0, the cache while the exact or semantic cache is on globally or for a combo,
rate limits while some limit is set, budgets while some budget exists) then the operator's
``--hooks``. Idempotency and the cache come first: a replay or a cache hit asks no upstream,
so it is not refused by a limit nor counted in one.
"""

from __future__ import annotations

import os
import time

import aiohttp

from omniroute.cache.runtime import CacheRuntime
from omniroute.caching import CacheHook, IdempotencyHook
from omniroute.caching.embeddings import RemoteEmbedder
from omniroute.config import Settings
from omniroute.hooks import HookChain, load_hooks
from omniroute.routing.limits import Budgets, RateLimits
from omniroute.routing.registry import Registry
from omniroute.routing.router import Router
from omniroute.store import Runtime, Store
from omniroute.upstream import H1Pool, open_pool, open_session


class Gateway:
    __slots__ = ("cache", "extra_hooks", "hooks", "registry", "router", "runtime", "session", "settings", "started",
                 "store", "upstream")

    def __init__(self, settings: Settings, store: Store, runtime: Runtime, upstream: H1Pool,
                 session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.store = store
        self.runtime = runtime
        self.upstream = upstream  # request path
        self.session = session  # management calls
        timeouts = (settings.connect_timeout, settings.first_byte_timeout, settings.stream_idle_timeout)
        self.registry = Registry(store, timeouts)
        self.router = Router(self.registry, runtime)
        self.started = time.time()
        self.cache = CacheRuntime(settings.data_path / "cache", lambda model: RemoteEmbedder(self, model))
        self.extra_hooks = load_hooks(settings.hook_specs, self)
        self.hooks = HookChain([])
        self._rebuild()

    @classmethod
    def open(cls, settings: Settings) -> Gateway:
        path = settings.data_path
        return cls(settings, Store(path), Runtime(path / "runtime"), open_pool(settings), open_session(settings))

    def refresh(self) -> None:
        if self.registry.refresh():
            self._rebuild()
        self.router.refresh()

    def _rebuild(self) -> None:
        """The hook chain and tracking flags for the current snapshot."""
        registry = self.registry
        cache = self.cache
        overrides = {name: c.config["cache"] for name, c in registry.combos.items()
                     if isinstance(c.config.get("cache"), dict)}
        cache.configure(self.store.setting("cache"), overrides)
        own: list = []
        if cache.config.idempotency.window_ms > 0:
            own.append(IdempotencyHook(cache))
        if any(c.exact.enabled or c.semantic.enabled for c in (cache.config, *cache.combos.values())):
            own.append(CacheHook(cache))
        if RateLimits.configured(registry):
            own.append(RateLimits(registry, self.runtime))
        if registry.budgets:
            own.append(Budgets(registry, self.runtime))
        self.hooks = HookChain([*own, *self.extra_hooks], self.hooks.running)
        self.router.latency.tracking = any(c.strategy == "latency-optimized" for c in registry.combos.values())

    async def close(self) -> None:
        await self.hooks.drain()
        await self.upstream.close()
        await self.session.close()
        self.cache.close()
        self.store.close()
        self.runtime.close()

    @property
    def pid(self) -> int:
        return os.getpid()
