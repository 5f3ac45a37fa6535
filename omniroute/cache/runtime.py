"""One worker's cache: configuration, the exact cache, flights, the semantic index, stats.

Created with the worker's ``Gateway``; ``configure`` is called each time the store's version
moves (a ``PUT /api/cache/config``, a ``DELETE /api/cache``, any management write): it takes
the new settings and, when the cache's generation moved (a clear, from any worker), drops
this worker's memory and semantic index. ``tick`` runs about once a second off the request
path: batched recency and counters, sweeps, the index file.

The semantic side starts only when some configuration enables it: then the index is built
(``vectors``) and the embedder loads in its own thread; ``unavailable`` says why it cannot
start (the extra is missing, the model did not load).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from omniroute.cache.config import COMBO_SECTIONS, CacheConfig, effective, merge
from omniroute.cache.db import CacheDB
from omniroute.cache.embedder import LocalEmbedder, unavailable
from omniroute.cache.exact import ExactCache
from omniroute.cache.flights import Flights
from omniroute.cache.vectors import SemanticIndex
from omniroute.errors import GatewayError

log = logging.getLogger("omniroute.cache")
TICK_S = 1.0
SAVE_S = 60.0
SWEEP_S = 60.0

#: makes the embedder named by ``semantic.embedder`` (``local`` is built in; the gateway
#: adds connected embedding models)
EmbedderFactory = Callable[[str], Any]


class CacheRuntime:
    def __init__(self, path: str | Path, embedders: EmbedderFactory | None = None) -> None:
        self.db = CacheDB(path)
        self.config = effective({})
        self.combos: dict[str, CacheConfig] = {}
        self.exact = ExactCache(self.db, self.config.exact)
        self.flights = Flights(self.db)
        self.generation = self.db.counter("generation")
        self.embedders = embedders
        self.embedder: Any = None
        self.index: SemanticIndex | None = None
        self.building: asyncio.Future[None] | None = None
        self.failure: str | None = None
        self.missing: dict[str, str | None] = {}  # embedder kind → what it lacks
        self.sem_hits = 0
        self.sem_lookups = 0
        self.timer: asyncio.TimerHandle | None = None
        self.threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omniroute-index")  # builds, saves
        self.last_save = self.last_sweep = time.monotonic()

    # -- configuration ----------------------------------------------------------------------
    def configure(self, doc: dict[str, Any], combos: dict[str, dict[str, Any]]) -> None:
        """Take the stored document and the combos' overrides; notice a clear."""
        self.config = effective(doc)
        self.combos = {}
        for name, over in combos.items():
            try:
                self.combos[name] = effective(doc, merge({}, over, "cache.", COMBO_SECTIONS))
            except GatewayError as err:  # written before the API checked it: the global settings hold
                log.warning("combo '%s': config.%s (ignored)", name, err.message)
        self.exact.config = self.config.exact
        generation = self.db.counter("generation")
        if generation != self.generation:
            self.generation = generation
            self.exact.drop_memory()
            self.index, self.building = None, None
        if self.semantic_wanted and self.embedder is not None and self.embedder.name != self.config.semantic.embedder:
            self._close_embedder()
        self._start_timer()

    def of(self, combo: str | None) -> CacheConfig:
        return self.combos.get(combo, self.config) if combo is not None else self.config

    @property
    def semantic_wanted(self) -> bool:
        return self.config.semantic.enabled or any(c.semantic.enabled for c in self.combos.values())

    # -- semantic side ----------------------------------------------------------------------
    def unavailable(self) -> str | None:
        """Why the semantic cache cannot run now (``None``: it can); the packages are looked
        up once per embedder setting."""
        kind = "local" if self.config.semantic.embedder == "local" else ""
        if kind not in self.missing:
            self.missing[kind] = unavailable(kind)
        return self.failure or self.missing[kind]

    async def semantic(self) -> tuple[Any, SemanticIndex] | None:
        """The embedder and this worker's index, loaded on first use; ``None`` when the
        semantic cache cannot run (``unavailable`` says why)."""
        if self.unavailable() is not None:
            return None
        if self.embedder is None:
            name = self.config.semantic.embedder
            self.embedder = LocalEmbedder() if name == "local" else self.embedders(name) if self.embedders else None
            if self.embedder is None:
                self.failure = f"no embedder '{name}'"
                return None
        if self.index is None or self.building is None:
            self.index = SemanticIndex(self.db, self.config.semantic.embedder, self.generation)
            self.building = asyncio.ensure_future(self._build(self.index))
        try:
            await asyncio.shield(self.building)
        except Exception:
            return None
        self.index.catch_up()
        return self.embedder, self.index

    async def _build(self, index: SemanticIndex) -> None:
        try:
            dim = await self.embedder.dimension()
            await asyncio.get_running_loop().run_in_executor(self.threads, index.build, dim)
        except Exception as exc:
            self.failure = self.failure or f"the semantic index could not be built: {exc}"
            log.warning("semantic cache unavailable: %s", self.failure)
            raise

    def _close_embedder(self) -> None:
        self.embedder.close()
        self.embedder, self.index, self.building, self.failure = None, None, None, None

    # -- upkeep -----------------------------------------------------------------------------
    def _start_timer(self) -> None:
        if self.timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self.timer = loop.call_later(TICK_S, self._tick)

    def _tick(self) -> None:
        self.timer = None
        try:
            self.tick(time.time())
        except Exception:
            log.exception("cache upkeep failed")
        self._start_timer()

    def tick(self, now: float) -> None:
        self.exact.flush(now)
        if self.sem_hits or self.sem_lookups:
            with self.db.write() as txn:
                self.db.add(txn, "semHits", self.sem_hits)
                self.db.add(txn, "semLookups", self.sem_lookups)
            self.sem_hits = self.sem_lookups = 0
        mono = time.monotonic()
        if mono - self.last_sweep >= SWEEP_S:
            self.last_sweep = mono
            self.flights.sweep(now)
            if self.index is not None and self.building is not None and self.building.done():
                self.index.sweep(now)
        if mono - self.last_save >= SAVE_S:
            self.last_save = mono
            self._save_later()

    def _save_later(self) -> None:
        """Save the index file in the embedder's thread; the index takes no changes meanwhile."""
        index = self.index
        if index is None or not index.changed or index.saving or self.building is None or not self.building.done():
            return
        index.saving = True
        future = asyncio.get_running_loop().run_in_executor(self.threads, index.save)
        future.add_done_callback(lambda _f: index.saved())

    # -- management -------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        now = time.time()
        self.tick(now)  # this worker's counts first
        sem_hits, sem_lookups = self.db.counter("semHits"), self.db.counter("semLookups")
        reason = self.unavailable()
        index = self.index
        return {
            "exact": self.exact.stats(),
            "semanticCache": {
                "enabled": self.config.semantic.enabled, "available": reason is None, "reason": reason,
                "embedder": self.config.semantic.embedder, "threshold": self.config.semantic.threshold,
                "memorySize": index.size if index is not None else 0,
                "memoryMaxSize": self.config.semantic.max_entries, "dbSize": self.db.entries("semantic"),
                "hits": sem_hits, "lookups": sem_lookups,
                "hitRate": round(sem_hits / sem_lookups, 4) if sem_lookups else 0.0,
                "index": index.source if index is not None else "not loaded",
            },
            "idempotency": {"activeKeys": self.flights.active(now), "windowMs": self.config.idempotency.window_ms},
        }

    def clear(self) -> None:
        self.generation = self.db.clear()
        self.exact.drop_memory()
        self.index, self.building = None, None
        for name in ("semantic.hnsw", "semantic.json"):
            (self.db.path / name).unlink(missing_ok=True)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        try:
            self.exact.flush(time.time())
            self.threads.shutdown(wait=True, cancel_futures=True)  # a save under way ends first
            if self.index is not None and self.building is not None and self.building.done():
                self.index.saving = False
                self.index.save()
        finally:
            if self.embedder is not None:
                self.embedder.close()
            self.db.close()
