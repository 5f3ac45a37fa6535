"""Per-worker runtime state: settings, store, routing snapshot, upstream clients.

One ``Gateway`` per worker process, created in the ASGI lifespan start-up (after Granian
forked or spawned the worker) and passed explicitly to every handler — no module globals.
"""

from __future__ import annotations

import os
import time

import aiohttp

from omniroute.config import Settings
from omniroute.routing.registry import Registry
from omniroute.store import Store
from omniroute.upstream import H1Pool, open_pool, open_session


class Gateway:
    __slots__ = ("registry", "session", "settings", "started", "store", "upstream")

    def __init__(self, settings: Settings, store: Store, upstream: H1Pool, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.store = store
        self.upstream = upstream  # request path
        self.session = session  # management calls
        self.registry = Registry(store)
        self.started = time.time()

    @classmethod
    def open(cls, settings: Settings) -> Gateway:
        return cls(settings, Store(settings.data_path), open_pool(settings), open_session(settings))

    async def close(self) -> None:
        await self.upstream.close()
        await self.session.close()
        self.store.close()

    @property
    def pid(self) -> int:
        return os.getpid()
