"""Per-worker runtime state: settings, store, routing snapshot, upstream session.

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
from omniroute.transport import open_session


class Gateway:
    __slots__ = ("registry", "session", "settings", "started", "store")

    def __init__(self, settings: Settings, store: Store, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.store = store
        self.session = session
        self.registry = Registry(store)
        self.started = time.time()

    @classmethod
    def open(cls, settings: Settings) -> Gateway:
        return cls(settings, Store(settings.data_path), open_session(settings))

    async def close(self) -> None:
        await self.session.close()
        self.store.close()

    @property
    def pid(self) -> int:
        return os.getpid()
