"""``omniroute.cache.exact`` on a real LMDB environment: bounds by entries and by bytes evict the
least recently used answers (recency as re-sequenced by ``flush``), TTL, memory in front of
LMDB, a second worker's view of the same environment, and ``clear``."""

from __future__ import annotations

from pathlib import Path

import msgspec

from omniroute.cache.config import effective
from omniroute.cache.db import CacheDB
from omniroute.cache.exact import ExactCache
from omniroute.canonical import Response, StopReason, TextBlock, Usage


def answer(text: str) -> Response:
    return Response(id="r", model="m", content=[TextBlock(text)], stop_reason=StopReason.END_TURN,
                    usage=Usage(3, 4))


def cache(db: CacheDB, **exact: object) -> ExactCache:
    return ExactCache(db, effective({"exact": exact}).exact)


def put(c: ExactCache, key: bytes, text: str, now: float = 1000.0, ttl: float = 60) -> None:
    with c.db.write() as txn:
        c.put(key, answer(text), now + ttl, txn)


def test_entries_bound_evicts_least_recently_used(tmp_path: Path) -> None:
    db = CacheDB(tmp_path)
    c = cache(db, maxEntries=2, memoryEntries=0)
    put(c, b"a" * 16, "A")
    put(c, b"b" * 16, "B")
    assert c.get(b"a" * 16, 1001) is not None  # a is now the most recently used…
    c.flush(1001)  # …once the worker's recency is written
    put(c, b"c" * 16, "C")
    assert c.get(b"b" * 16, 1001) is None and c.get(b"a" * 16, 1001) is not None
    assert db.entries("answers") == db.entries("recency") == 2


def test_bytes_bound_evicts_until_it_fits(tmp_path: Path) -> None:
    db = CacheDB(tmp_path)
    c = cache(db, maxBytes=800, memoryEntries=0)
    for i in range(5):
        put(c, bytes([i]) * 16, "x" * 200)
    stats = c.stats()
    assert stats["bytes"] <= 800 and stats["entries"] == 2
    assert c.get(bytes([4]) * 16, 1001) is not None and c.get(bytes([0]) * 16, 1001) is None


def test_ttl_expires_in_memory_and_in_lmdb(tmp_path: Path) -> None:
    c = cache(CacheDB(tmp_path))
    put(c, b"k" * 16, "K", ttl=10)
    assert c.get(b"k" * 16, 1009.9) is not None
    assert c.get(b"k" * 16, 1010.1) is None
    c.last_sweep = 0
    c.flush(1010.1)  # the sweep removes it
    assert c.stats()["entries"] == 0 and c.stats()["bytes"] == 0


def test_another_worker_sees_the_answer_and_counts_add_up(tmp_path: Path) -> None:
    db = CacheDB(tmp_path)  # one environment per process: each worker has its own memory over it
    one, two = cache(db), cache(db)
    put(one, b"k" * 16, "shared")
    got = two.get(b"k" * 16, 1001)
    assert got is not None and got.content == [TextBlock("shared")] and got.usage == Usage(3, 4)
    assert two.memory  # now in the second worker's memory too
    one.hits, two.hits, two.misses = 2, 3, 1
    one.flush(1001)
    two.flush(1001)
    assert one.stats()["hits"] == 5 and one.stats()["misses"] == 1 and one.stats()["hitRate"] == 0.8333


def test_clear_moves_the_generation_and_keeps_sequences(tmp_path: Path) -> None:
    db = CacheDB(tmp_path)
    c = cache(db)
    put(c, b"k" * 16, "K")
    seq, generation = db.counter("seq"), db.counter("generation")
    assert db.clear() == generation + 1
    assert db.entries("answers") == 0 and db.counter("seq") == seq and db.counter("bytes") == 0


def test_answers_round_trip_whole(tmp_path: Path) -> None:
    c = cache(CacheDB(tmp_path), memoryEntries=0)
    put(c, b"k" * 16, "K")
    assert msgspec.structs.asdict(c.get(b"k" * 16, 1001)) == msgspec.structs.asdict(answer("K"))
