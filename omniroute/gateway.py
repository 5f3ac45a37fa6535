"""Per-worker runtime state: settings, stores, routing snapshot, router, hooks, upstream clients.

One ``Gateway`` per worker process, created in the ASGI lifespan start-up (after Granian
forked or spawned the worker) and passed explicitly to every handler — no module globals.
``refresh()`` (once per request) rebuilds the routing snapshot and the hook chain when a
management write moved the store's version, and reloads shared account health when it moved.

The hook chain holds only what is configured: idempotency while its window is above 0; the
settings that change requests (system prompt, thinking budget: ``settings.request_hooks``)
while they are on; the cache while the exact or semantic cache is on globally or for a combo
(after the request settings: the cache keys the request the upstream would get); the
gateway's own limits (rate limits while some limit is set, budgets while some budget
exists); then the operator's ``--hooks``. A replay or a cache hit asks no upstream, so it is
not refused by a limit nor counted in one. The same rebuild compiles the access settings (``access``: IP filter,
trusted proxies, ``requireLogin``) and the upstream proxies: ``proxied`` maps a connection id
to the tunnelling pool of its proxy (``settings.proxies``), empty when none is configured —
then every call takes the direct pool ``upstream``.

Also per worker: the subscription accounts' token cache (``tokens``, emptied whenever the
snapshot is rebuilt), the configured OAuth providers and the store's backups, whose daily
schedule runs as a task of every worker (``run_backups``: the worker that claims the turn in
the runtime environment makes it).

Usage: ``usage_db`` (the usage environment, ``data_dir/usage``: records, telemetry, audit)
is always open; ``recorder`` (``omniroute.usage``) exists while ``record_usage`` is on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import aiohttp

from omniroute.cache.runtime import CacheRuntime
from omniroute.caching import CacheHook, IdempotencyHook
from omniroute.caching.embeddings import RemoteEmbedder
from omniroute.config import Settings
from omniroute.hooks import HookChain, load_hooks
from omniroute.oauth.providers import configure as configure_oauth
from omniroute.oauth.tokens import TokenBook
from omniroute.routing.limits import Limits
from omniroute.routing.registry import Registry
from omniroute.routing.router import Router
from omniroute.settings.access import Access
from omniroute.settings.proxies import ProxyTable
from omniroute.settings.request_hooks import request_hooks
from omniroute.store import Runtime, Store
from omniroute.store.backups import Backups
from omniroute.store.crypto import Cipher
from omniroute.telemetry.retention import SETTING, load
from omniroute.telemetry.usage_db import UsageDB
from omniroute.upstream import H1Pool, open_pool, open_session
from omniroute.usage import UsageRecorder

log = logging.getLogger("omniroute")
_AUTO_BACKUP = "backup-auto-claim"


class Gateway:
    __slots__ = ("access", "backups", "cache", "extra_hooks", "hooks", "oauth", "proxied", "proxy_pools", "recorder",
                 "registry", "router", "runtime", "session", "settings", "started", "store", "tasks", "tokens",
                 "upstream", "usage_db")

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
        self.oauth = configure_oauth(settings.oauth)
        self.tokens = TokenBook(store, runtime, session, self.oauth, Cipher(settings.encryption_key))
        self.backups = Backups(store, runtime, settings.data_path / "backups")
        self.tasks: list[asyncio.Task] = []
        self.cache = CacheRuntime(settings.data_path / "cache", lambda model: RemoteEmbedder(self, model))
        self.extra_hooks = load_hooks(settings.hook_specs, self)
        self.hooks = HookChain([])
        self.proxy_pools: dict[str, H1Pool] = {}  # proxy URL → its pool, kept for the worker's life
        self.proxied: dict[str, H1Pool] = {}
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
        registry, store, cache = self.registry, self.store, self.cache
        self.tokens.clear()
        overrides = {name: c.config["cache"] for name, c in registry.combos.items()
                     if isinstance(c.config.get("cache"), dict)}
        cache.configure(store.setting("cache"), overrides)
        own: list = [IdempotencyHook(cache)] if cache.config.idempotency.window_ms > 0 else []
        own += request_hooks(store.setting("system_prompt"), store.setting("thinking_budget"))
        if any(c.exact.enabled or c.semantic.enabled for c in (cache.config, *cache.combos.values())):
            own.append(CacheHook(cache))
        if Limits.configured(registry):
            own.append(Limits(registry, self.runtime))
        self.hooks = HookChain([*own, *self.extra_hooks], self.hooks.running)
        self.router.latency.tracking = any(c.strategy == "latency-optimized" for c in registry.combos.values())
        if self.recorder is not None:
            self.recorder.set_retention(load(self.store.setting(SETTING)))
        self.access = Access(registry.general, store.setting("auth"), store.setting("ip_filter"))
        self._route_proxies(ProxyTable(store.setting("proxy")))

    def _route_proxies(self, table: ProxyTable) -> None:
        """``proxied``: connection id → the pool of its proxy, for the connections that have one."""
        proxied: dict[str, H1Pool] = {}
        if table.configured:
            for targets in self.registry.targets.values():
                for t in targets:
                    url = table.for_target(t.connection_id, t.provider, t.base_url)
                    if url is not None:
                        pool = self.proxy_pools.get(url)
                        if pool is None:
                            pool = self.proxy_pools[url] = open_pool(self.settings, url)
                        proxied[t.connection_id] = pool
        self.proxied = proxied

    def pool_for(self, connection_id: str) -> H1Pool:
        """The pool a call of this account goes through (its proxy's, else the direct one)."""
        return self.proxied.get(connection_id, self.upstream) if self.proxied else self.upstream

    def start(self) -> None:
        """The worker's background work (from the lifespan, inside the running loop)."""
        self.tasks.append(asyncio.get_running_loop().create_task(self.run_backups()))

    async def run_backups(self) -> None:
        """The automatic backups (``backup_interval`` hours; rotation keeps ``backup_keep``).
        Every worker runs this; whichever claims a due turn first makes the backup."""
        interval = self.settings.backup_interval * 3600
        if interval <= 0:
            return
        while True:
            try:
                if self.store.version() and self.backups.due(interval, time.time()) and self._claim_backup(interval):
                    await asyncio.to_thread(self.backups.create, "auto")
                    self.backups.rotate(self.settings.backup_keep)
            except Exception:  # a full disk must not end the schedule
                log.exception("automatic backup failed")
            await asyncio.sleep(min(interval, 60.0))

    def _claim_backup(self, interval: float) -> bool:
        now = time.time()

        def claim(_key: str, raw: bytes | None) -> bytes | None:
            return None if raw is not None and now - float(raw) < interval else repr(now).encode()

        return bool(self.runtime.update_many("marks", [_AUTO_BACKUP], claim))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.hooks.drain()
        if self.recorder is not None:
            await self.recorder.close()
        await self.upstream.close()
        for pool in self.proxy_pools.values():
            await pool.close()
        await self.session.close()
        self.cache.close()
        self.usage_db.close()
        self.store.close()
        self.runtime.close()

    @property
    def pid(self) -> int:
        return os.getpid()
