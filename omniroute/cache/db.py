"""The cache's LMDB environment (``data_dir/cache``), shared by every worker.

Opened like the runtime environment: without fsync at commit (a write transaction costs
microseconds, commits reach the page cache at once so every worker sees them), and written
through its memory map like the runtime environment (``writemap``: a write transaction
~6 µs instead of ~15; a miss makes two). The data file is therefore sparse, its apparent size
the map's (``MAP_SIZE``, 8 GiB: room for ``exact.maxBytes`` ≤ 4 GiB and ``semantic.maxEntries``
≤ 2M prompts), its real size what is stored. A store that finds the map full is skipped
(logged), never an error for a client. It holds nothing an operator configured: when it is
unreadable it is started afresh.

=============  =========================  ================================================
database       key                        value
=============  =========================  ================================================
``answers``    16-byte exact key          ``Entry``: expiry, size, recency sequence, the
                                          canonical ``Response`` (msgpack)
``recency``    8-byte big-endian seq      the exact key (least recently used first)
``flights``    ``f`` + exact key          ``Flight``: the worker answering it now
``idem``       16-byte idempotency key    ``Held``: the body's hash, state, the answer
``semantic``   8-byte big-endian id       ``Prompt``: exact-part hash, answer key,
                                          expiry, the embedding (float32 bytes)
``meta``       name                       little-endian u64 counters: ``seq``, ``bytes``,
                                          ``generation``, ``hits``, ``misses``,
                                          ``semHits``, ``semLookups``, ``semId``
=============  =========================  ================================================
"""

from __future__ import annotations

import logging
import shutil
import struct
from pathlib import Path

import lmdb
import msgspec

log = logging.getLogger("omniroute.cache")

#: counters a clear keeps (sequences must never go back: workers catch up by them)
KEPT = ("generation", "seq", "semId")
MAP_SIZE = 8 << 30
DATABASES = ("answers", "recency", "flights", "idem", "semantic", "meta")
u64 = struct.Struct("<Q")
seq_key = struct.Struct(">Q")


class Entry(msgspec.Struct, array_like=True):
    expires: float
    size: int
    seq: int
    body: bytes


class Flight(msgspec.Struct, array_like=True):
    owner: int  # pid of the worker answering
    until: float  # its lease: after this the flight is abandoned


class Held(msgspec.Struct, array_like=True):
    body: bytes  # hash of the request that took the key
    owner: int
    until: float  # running: lease end; done: end of the replay window
    done: bool = False
    answer: bytes = b""


class Prompt(msgspec.Struct, array_like=True):
    part: int  # 64-bit hash of the exact part
    answer: bytes  # exact key of the answer
    expires: float
    vector: bytes  # float32
    embedder: str = ""  # who embedded it: vectors of another embedder are not comparable


ENCODE = msgspec.msgpack.Encoder().encode
DECODE_ENTRY = msgspec.msgpack.Decoder(Entry).decode
DECODE_FLIGHT = msgspec.msgpack.Decoder(Flight).decode
DECODE_HELD = msgspec.msgpack.Decoder(Held).decode
DECODE_PROMPT = msgspec.msgpack.Decoder(Prompt).decode


class CacheDB:
    """The environment and its named databases (module table)."""

    def __init__(self, path: str | Path, map_size: int = MAP_SIZE) -> None:
        self.path = Path(path)
        self.env = _open(self.path, map_size)
        with self.env.begin(write=True) as txn:
            self.dbs = {name: self.env.open_db(name.encode(), txn=txn) for name in DATABASES}
        self.answers, self.recency = self.dbs["answers"], self.dbs["recency"]
        self.flights, self.idem = self.dbs["flights"], self.dbs["idem"]
        self.semantic, self.meta = self.dbs["semantic"], self.dbs["meta"]

    def close(self) -> None:
        self.env.sync(True)
        self.env.close()

    def read(self) -> lmdb.Transaction:
        return self.env.begin()

    def write(self) -> lmdb.Transaction:
        return self.env.begin(write=True)

    def counter(self, name: str, txn: lmdb.Transaction | None = None) -> int:
        if txn is None:
            with self.env.begin() as own:
                raw = own.get(name.encode(), db=self.meta)
        else:
            raw = txn.get(name.encode(), db=self.meta)
        return u64.unpack(raw)[0] if raw else 0

    def add(self, txn: lmdb.Transaction, name: str, by: int) -> int:
        """Add ``by`` (may be negative) to the counter ``name`` in ``txn``; its new value."""
        key = name.encode()
        raw = txn.get(key, db=self.meta)
        value = max((u64.unpack(raw)[0] if raw else 0) + by, 0)
        txn.put(key, u64.pack(value), db=self.meta)
        return value

    def entries(self, db: str) -> int:
        with self.env.begin() as txn:
            return txn.stat(self.dbs[db])["entries"]

    def clear(self) -> int:
        """Drop every answer, flight, held key and prompt; stats restart. Answers the new
        generation (workers drop their memory when they see it move)."""
        with self.env.begin(write=True) as txn:
            for name in ("answers", "recency", "idem", "semantic"):
                txn.drop(self.dbs[name], delete=False)
            kept = {name: self.counter(name, txn) for name in KEPT}
            kept["generation"] += 1
            txn.drop(self.meta, delete=False)
            for name, value in kept.items():
                txn.put(name.encode(), u64.pack(value), db=self.meta)
        return kept["generation"]


def _open(path: Path, map_size: int) -> lmdb.Environment:
    path.mkdir(parents=True, exist_ok=True)
    kw = {"map_size": map_size, "max_dbs": len(DATABASES) + 2, "subdir": True, "max_readers": 256,
          "sync": False, "metasync": False, "writemap": True}
    try:
        return lmdb.open(str(path), **kw)
    except (lmdb.InvalidError, lmdb.CorruptedError, lmdb.VersionMismatchError, lmdb.PanicError) as exc:
        log.warning("cache at %s is unreadable (%s): starting it afresh", path, exc)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return lmdb.open(str(path), **kw)
