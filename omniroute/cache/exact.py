"""The exact cache: a memory LRU per worker in front of LMDB shared by every worker.

::

    get(key) ─▶ this worker's memory (decoded answers) ─▶ LMDB ``answers`` ─▶ miss
    put(key, answer) ─▶ LMDB (one write transaction: entry, recency, evictions) + memory

Bounds (``exact.maxEntries``, ``exact.maxBytes``) hold in LMDB: a put that passes one evicts
the least recently used answers first, in the same transaction. Recency is kept in the
``recency`` database (a sequence per entry); a hit does not write on the request path: the
keys a worker served are re-sequenced by ``flush`` (about once a second, batched), together
with its hit and miss counts. Entries live ``exact.ttlS`` seconds; an expired one is a miss
at once and is removed by a sweep (every few seconds, a bounded batch at a time). A worker's
memory copy may outlive an eviction made by another worker (never its TTL); ``clear``
(``DELETE /api/cache``) moves the generation and every worker drops its memory on its next
request.
"""

from __future__ import annotations

from collections import OrderedDict

import lmdb
import msgspec

from omniroute.cache.config import Exact
from omniroute.cache.db import DECODE_ENTRY, ENCODE, CacheDB, Entry, seq_key
from omniroute.canonical import Response

encode_response = msgspec.msgpack.Encoder().encode
decode_response = msgspec.msgpack.Decoder(Response).decode
#: bytes an entry costs besides its answer (key, record, recency row)
OVERHEAD = 64
SWEEP_S = 5.0
SWEEP_BATCH = 2000


class ExactCache:
    __slots__ = ("config", "db", "hits", "last_sweep", "memory", "memory_bytes", "misses", "sweep_from", "touched")

    def __init__(self, db: CacheDB, config: Exact) -> None:
        self.db = db
        self.config = config
        self.memory: OrderedDict[bytes, tuple[float, int, Response]] = OrderedDict()
        self.memory_bytes = 0
        self.touched: set[bytes] = set()
        self.hits = 0  # not yet flushed into the shared counters
        self.misses = 0
        self.last_sweep = 0.0
        self.sweep_from = b""  # where the next sweep goes on

    def get(self, key: bytes, now: float) -> Response | None:
        held = self.memory.get(key)
        if held is not None:
            if held[0] > now:
                self.memory.move_to_end(key)
                self.touched.add(key)
                return held[2]
            self._forget(key)
        with self.db.read() as txn:
            raw = txn.get(key, db=self.db.answers)
            entry = DECODE_ENTRY(raw) if raw is not None else None
        if entry is None or entry.expires <= now:
            return None
        answer = decode_response(entry.body)
        self._remember(key, entry.expires, entry.size, answer)
        self.touched.add(key)
        return answer

    def put(self, key: bytes, answer: Response, expires: float, txn: lmdb.Transaction) -> None:
        """Keep ``answer`` under ``key`` until ``expires`` in ``txn`` (the caller's write
        transaction), evicting the least recently used answers past the bounds."""
        body = encode_response(answer)
        size = len(body) + OVERHEAD
        self._drop(txn, key)
        seq = self.db.add(txn, "seq", 1)
        txn.put(key, ENCODE(Entry(expires, size, seq, body)), db=self.db.answers)
        txn.put(seq_key.pack(seq), key, db=self.db.recency)
        total = self.db.add(txn, "bytes", size)
        count = txn.stat(self.db.answers)["entries"]
        cursor = txn.cursor(db=self.db.recency)
        while (count > self.config.max_entries or total > self.config.max_bytes) and cursor.first():
            oldest = bytes(cursor.value())
            total -= self._drop(txn, oldest)
            count -= 1
        self._remember(key, expires, size, answer)

    def _drop(self, txn: lmdb.Transaction, key: bytes) -> int:
        """Remove ``key``'s entry and recency row; the bytes it held (0: none)."""
        raw = txn.get(key, db=self.db.answers)
        if raw is None:
            return 0
        entry = DECODE_ENTRY(raw)
        txn.delete(key, db=self.db.answers)
        txn.delete(seq_key.pack(entry.seq), db=self.db.recency)
        self.db.add(txn, "bytes", -entry.size)
        return entry.size

    # -- memory ---------------------------------------------------------------------------
    def _remember(self, key: bytes, expires: float, size: int, answer: Response) -> None:
        limit = self.config.memory_entries
        if not limit:
            return
        if key in self.memory:
            self._forget(key)
        self.memory[key] = (expires, size, answer)
        self.memory_bytes += size
        while len(self.memory) > limit or self.memory_bytes > self.config.max_bytes:
            self._forget(next(iter(self.memory)))

    def _forget(self, key: bytes) -> None:
        held = self.memory.pop(key, None)
        if held is not None:
            self.memory_bytes -= held[1]

    def drop_memory(self) -> None:
        self.memory.clear()
        self.memory_bytes = 0
        self.touched.clear()

    # -- batched writes ---------------------------------------------------------------------
    def flush(self, now: float) -> None:
        """Re-sequence the answers served since the last flush, add this worker's counts to the
        shared counters, and now and then remove expired answers: one write transaction."""
        touched, self.touched = self.touched, set()
        hits, misses, self.hits, self.misses = self.hits, self.misses, 0, 0
        sweep = now - self.last_sweep >= SWEEP_S
        if not (touched or hits or misses or sweep):
            return
        with self.db.write() as txn:
            for key in touched:
                self._touch(txn, key)
            if hits:
                self.db.add(txn, "hits", hits)
            if misses:
                self.db.add(txn, "misses", misses)
            if sweep:
                self.last_sweep = now
                self._sweep(txn, now)

    def _touch(self, txn: lmdb.Transaction, key: bytes) -> None:
        raw = txn.get(key, db=self.db.answers)
        if raw is None:
            return
        entry = DECODE_ENTRY(raw)
        txn.delete(seq_key.pack(entry.seq), db=self.db.recency)
        entry.seq = self.db.add(txn, "seq", 1)
        txn.put(key, ENCODE(entry), db=self.db.answers)
        txn.put(seq_key.pack(entry.seq), key, db=self.db.recency)

    def _sweep(self, txn: lmdb.Transaction, now: float) -> None:
        """Remove the expired among the next ``SWEEP_BATCH`` answers (a full pass takes a few
        flushes: the work per flush stays bounded however many answers are kept)."""
        cursor = txn.cursor(db=self.db.answers)
        found = cursor.set_range(self.sweep_from) if self.sweep_from else cursor.first()
        expired, seen = [], 0
        while found and seen < SWEEP_BATCH:
            if DECODE_ENTRY(cursor.value()).expires <= now:
                expired.append(bytes(cursor.key()))
            seen += 1
            found = cursor.next()
        self.sweep_from = bytes(cursor.key()) if found else b""
        for key in expired:
            self._drop(txn, key)
            self._forget(key)

    def stats(self) -> dict[str, float | int]:
        with self.db.read() as txn:
            entries = txn.stat(self.db.answers)["entries"]
            size = self.db.counter("bytes", txn)
            hits = self.db.counter("hits", txn) + self.hits
            misses = self.db.counter("misses", txn) + self.misses
        looked = hits + misses
        return {"entries": entries, "bytes": size, "hits": hits, "misses": misses,
                "hitRate": round(hits / looked, 4) if looked else 0.0}
