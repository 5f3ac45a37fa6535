"""The usage environment: a dedicated LMDB environment at ``data_dir/usage``.

Opened without fsync at commit (like the runtime environment): a flush costs a page-cache
write, and what a worker committed survives that worker's crash; the environment is synced
to disk every ``SYNC_EVERY_S`` by the writers, after every audit entry, and at shutdown
(SIGTERM loses nothing). A machine crash may lose the last few seconds.

==============  ==============================================  ===========================
database        key                                             value
==============  ==============================================  ===========================
``records``     16-byte record key (``records.record_key``)     msgpack ``UsageRecord``
``bodies``      the record's key                                msgpack ``BodyLog``
``rollups``     ``rollups.keys_of`` (five families)             float64 × ``ROLLUP``
``totals``      connection id                                   float64 × ``ROLLUP`` + last use
``metrics``     ``metrics.metric_key``                          float64 counter / histogram
``sessions``    ``aggregate.session_key``                       msgpack ``SessionRecord``
``live``        ``r`` + pid + kind + name: a worker's ring;     ``rings.Ring.encode()``;
                ``l`` + pid: its live state                     msgpack ``Live``
``audit``       16-byte key (time, pid, sequence)               msgpack ``AuditEntry``
==============  ==============================================  ===========================
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

import lmdb
import msgspec

from omniroute.telemetry.aggregate import Batch, expand, merge_session
from omniroute.telemetry.records import AuditEntry, SessionRecord, record_key

log = logging.getLogger("omniroute.telemetry")

DATABASES = ("records", "bodies", "rollups", "totals", "metrics", "sessions", "live", "audit")
MAP_SIZE = 16 << 30  # address space, not disk: the file grows with what is kept
SYNC_EVERY_S = 5.0
SEP = "\x1f"


class Live(msgspec.Struct, array_like=True):
    """What a worker is doing now: its in-flight model requests and open streams by session."""

    at: float
    inflight: int
    streams: dict[bytes, int]


_session = msgspec.msgpack.Decoder(SessionRecord)
_live = msgspec.msgpack.Decoder(Live)
decode_session = _session.decode
decode_live = _live.decode
_encode = msgspec.msgpack.Encoder().encode


def f64(values: list[float]) -> bytes:
    return array("d", values).tobytes()


def floats(raw: bytes) -> list[float]:
    return array("d", raw).tolist()


class UsageDB:
    """Typed access to the usage databases (module table); one per worker, after fork."""

    def __init__(self, path: str | Path, map_size: int = MAP_SIZE) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.env = lmdb.open(str(self.path), map_size=map_size, max_dbs=len(DATABASES) + 2, subdir=True,
                             max_readers=256, sync=False, metasync=False)
        with self.env.begin(write=True) as txn:
            self.dbs = {name: self.env.open_db(name.encode(), txn=txn) for name in DATABASES}
        self.synced = time.monotonic()
        self._audit_seq = 0

    def close(self) -> None:
        self.env.sync(True)
        self.env.close()

    def sync(self, force: bool = False) -> None:
        if force or time.monotonic() - self.synced >= SYNC_EVERY_S:
            self.env.sync(True)
            self.synced = time.monotonic()

    def read(self) -> lmdb.Transaction:
        return self.env.begin()

    def count(self, db: str) -> int:
        with self.env.begin() as txn:
            return txn.stat(self.dbs[db])["entries"]

    # -- the writer's transaction ------------------------------------------------------------
    def write(self, batch: Batch) -> None:
        """Records, bodies and every aggregate they change, in one write transaction."""
        dbs = self.dbs
        more = expand(batch)
        encoded = [(key, _encode(record)) for key, record in batch.records]
        with self.env.begin(write=True) as txn:
            for key, value in encoded:
                txn.put(key, value, db=dbs["records"])
            for key, value in batch.bodies:
                txn.put(key, value, db=dbs["bodies"])
            _add_floats(txn, dbs["rollups"], more.rollups)
            _add_floats(txn, dbs["metrics"], more.metrics)
            for key, values in more.totals.items():
                raw = txn.get(key, db=dbs["totals"])
                if raw is not None:
                    old = floats(raw)
                    values = [a + b for a, b in zip(old[:-1], values[:-1], strict=True)] + [max(old[-1], values[-1])]
                txn.put(key, f64(values), db=dbs["totals"])
            for key, session in more.sessions.items():
                raw = txn.get(key, db=dbs["sessions"])
                merged = merge_session(_session.decode(raw) if raw is not None else None, session)
                txn.put(key, _encode(merged), db=dbs["sessions"])

    def publish(self, pid: int, rings: dict[tuple[str, str], bytes], live: Live | None) -> None:
        """A worker's changed ring series and its live state."""
        prefix = pid.to_bytes(4, "big")
        with self.env.begin(write=True, db=self.dbs["live"]) as txn:
            for (kind, name), raw in rings.items():
                txn.put(b"r" + prefix + f"{kind}{SEP}{name}".encode(), raw)
            if live is not None:
                txn.put(b"l" + prefix, _encode(live))

    def rings(self) -> Iterator[tuple[str, str, bytes]]:
        """Every worker's published series: (kind, name, encoded ring)."""
        with self.env.begin(db=self.dbs["live"]) as txn:
            cursor = txn.cursor()
            found = cursor.set_range(b"r")
            rows = []
            while found and cursor.key()[:1] == b"r":
                kind, _, name = bytes(cursor.key()[5:]).decode().partition(SEP)
                rows.append((kind, name, bytes(cursor.value())))
                found = cursor.next()
        yield from rows

    def live(self, now: float, fresh_s: float) -> list[Live]:
        """The live states published within ``fresh_s`` (older ones: workers that are gone)."""
        out = []
        with self.env.begin(db=self.dbs["live"]) as txn:
            cursor = txn.cursor()
            found = cursor.set_range(b"l")
            while found and cursor.key()[:1] == b"l":
                state = _live.decode(cursor.value())
                if now - state.at <= fresh_s:
                    out.append(state)
                found = cursor.next()
        return out

    def metrics(self) -> list[tuple[bytes, list[float]]]:
        """Every stored counter and histogram (``metrics.metric_key`` → values)."""
        with self.env.begin(db=self.dbs["metrics"]) as txn:
            return [(bytes(k), floats(v)) for k, v in txn.cursor().iternext()]

    # -- audit ---------------------------------------------------------------------------
    def audit(self, entry: AuditEntry, pid: int) -> None:
        """One audit entry, synced to disk at once."""
        self._audit_seq += 1
        with self.env.begin(write=True, db=self.dbs["audit"]) as txn:
            txn.put(record_key(entry.timestamp, pid, self._audit_seq), _encode(entry))
        self.sync(force=True)


def _add_floats(txn: lmdb.Transaction, db: object, table: dict[bytes, list[float]]) -> None:
    for key, values in table.items():
        raw = txn.get(key, db=db)
        if raw is not None:
            values = [a + b for a, b in zip(floats(raw), values, strict=True)]
        txn.put(key, f64(values), db=db)
