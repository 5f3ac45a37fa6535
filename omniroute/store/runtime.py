"""The runtime environment: state that changes per request, shared by every worker.

A second LMDB environment beside the durable one (``data_dir/runtime``), opened without
fsync at commit (``sync=False, metasync=False``) and writing through the memory map
(``writemap=True``; the data file is sparse, its size the map size): a write transaction
costs ~2–3 µs instead of a disk flush, so admission counters can live on the request path. Commits still reach
the OS page cache at once (every worker sees them, a crashed worker loses nothing); the
environment is flushed to disk at shutdown and every few seconds by its owner. Should the
machine itself crash, the worst case is losing these counters: the environment is then
recreated empty (``open_runtime``) — it holds nothing an operator configured.

==============  ===========================  ============================================
database        key                          value
==============  ===========================  ============================================
``health``      ``c:<connection id>``,       msgpack ``AccountHealth`` (cooldown, auth
                ``p:<provider id>``          failure, breaker)
``windows``     ``<scope>:<window start>``   two little-endian u64: requests, tokens
``spend``       ``<key id>:<period start>``  little-endian f64: USD spent
``counters``    name                         little-endian u64 (round-robin turns, uses,
                                             the ``health`` version)
``marks``       name                         raw bytes (last known good target, …)
==============  ===========================  ============================================
"""

from __future__ import annotations

import logging
import shutil
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import lmdb

log = logging.getLogger("omniroute.store")

_u64 = struct.Struct("<Q")
_pair = struct.Struct("<QQ")
_f64 = struct.Struct("<d")
DATABASES = ("health", "windows", "spend", "counters", "marks")
HEALTH_VERSION = b"health-version"


class Runtime:
    """Typed access to the runtime databases (see the module table)."""

    def __init__(self, path: str | Path, map_size: int = 1 << 30) -> None:
        self.path = Path(path)
        self.env = _open(self.path, map_size)
        with self.env.begin(write=True) as txn:
            self._dbs = {name: self.env.open_db(name.encode(), txn=txn) for name in DATABASES}

    def close(self) -> None:
        self.env.sync(True)
        self.env.close()

    def flush(self) -> None:
        self.env.sync(True)

    # -- raw records --------------------------------------------------------------------
    def get(self, db: str, key: str) -> bytes | None:
        with self.env.begin(db=self._dbs[db]) as txn:
            raw = txn.get(key.encode())
        return bytes(raw) if raw is not None else None

    def put(self, db: str, key: str, value: bytes, *, bump_health: bool = False) -> None:
        with self.env.begin(write=True) as txn:
            txn.put(key.encode(), value, db=self._dbs[db])
            if bump_health:
                _add(txn, self._dbs["counters"], HEALTH_VERSION, 1)

    def update_many(self, db: str, keys: Iterable[str], change: Callable[[str, bytes | None], bytes | None], *,
                    bump_health: bool = False) -> dict[str, bytes]:
        """Read-modify-write ``keys`` atomically across workers, in one write transaction:
        ``change(key, old)`` answers each new value (``None``: leave it as it is). Answers what
        was written."""
        written: dict[str, bytes] = {}
        with self.env.begin(write=True) as txn:
            for key in keys:
                raw = txn.get(key.encode(), db=self._dbs[db])
                new = change(key, bytes(raw) if raw is not None else None)
                if new is not None:
                    txn.put(key.encode(), new, db=self._dbs[db])
                    written[key] = new
            if bump_health and written:
                _add(txn, self._dbs["counters"], HEALTH_VERSION, 1)
        return written

    def items(self, db: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        with self.env.begin(db=self._dbs[db]) as txn:
            cursor = txn.cursor()
            found = cursor.set_range(prefix.encode()) if prefix else cursor.first()
            rows = []
            while found:
                key = bytes(cursor.key())
                if prefix and not key.startswith(prefix.encode()):
                    break
                rows.append((key.decode(), bytes(cursor.value())))
                found = cursor.next()
        yield from rows

    def clear(self, db: str, *, bump_health: bool = False) -> None:
        with self.env.begin(write=True) as txn:
            txn.drop(self._dbs[db], delete=False)
            if bump_health:
                _add(txn, self._dbs["counters"], HEALTH_VERSION, 1)

    def delete_many(self, db: str, keys: Iterable[str]) -> None:
        with self.env.begin(write=True, db=self._dbs[db]) as txn:
            for key in keys:
                txn.delete(key.encode())

    # -- counters -----------------------------------------------------------------------
    def counter(self, name: str) -> int:
        raw = self.get("counters", name)
        return _u64.unpack(raw)[0] if raw else 0

    def health_version(self) -> int:
        with self.env.begin(db=self._dbs["counters"]) as txn:
            raw = txn.get(HEALTH_VERSION)
        return _u64.unpack(raw)[0] if raw else 0

    def next_turn(self, name: str) -> int:
        """Increment the counter ``name``; its value before (0, 1, 2, … across workers)."""
        with self.env.begin(write=True) as txn:
            return _add(txn, self._dbs["counters"], name.encode(), 1) - 1

    # -- rate windows -------------------------------------------------------------------
    def window(self, key: str) -> tuple[int, int]:
        raw = self.get("windows", key)
        return _pair.unpack(raw) if raw else (0, 0)

    def admit(self, checks: list[tuple[str, int, int]], budget: tuple[str, float] | None = None
              ) -> tuple[int, float]:
        """Count one request in every window of ``checks`` — ``(window key, request limit,
        token limit)`` with 0 meaning no limit — if none of them is full and ``budget``'s
        ``(spend key, limit)`` is not spent; all or nothing. Answers ``(-1, spent)`` when
        admitted, ``(i, 0)`` when window ``i`` is full, ``(len(checks), spent)`` when the
        budget is spent."""
        return self.turn([(checks, budget)], {}, {})[0]

    def turn(self, admissions: list[tuple[list[tuple[str, int, int]], tuple[str, float] | None]],
             tokens: dict[str, int], spend: dict[str, float]) -> list[tuple[int, float]]:
        """One event-loop turn's limit work in one write transaction: what finished answers
        used (``tokens`` added to those windows, ``spend``'s USD to those totals), then each
        admission in order, as ``admit`` answers it (each sees the ones before it)."""
        windows, spent_db = self._dbs["windows"], self._dbs["spend"]
        answers = []
        # the windows are the transaction's default database and the calls positional: no
        # keyword parsing per call (this runs for every limited request)
        with self.env.begin(windows, None, True) as txn:
            for key, more in tokens.items():
                raw = txn.get(key.encode())
                requests, held = _pair.unpack(raw) if raw else (0, 0)
                txn.put(key.encode(), _pair.pack(requests, held + more))
            for key, usd in spend.items():
                _add_f64(txn, spent_db, key.encode(), usd)
            for checks, budget in admissions:
                answers.append(_admit(txn, spent_db, checks, budget))
        return answers

    def count(self, tokens: dict[str, int], spend: dict[str, float]) -> None:
        """After answers, in one write transaction: ``tokens`` added to each of those windows
        (token limits) and ``spend``'s USD to each of those totals."""
        self.turn([], tokens, spend)

    # -- spend --------------------------------------------------------------------------
    def spent(self, key: str) -> float:
        raw = self.get("spend", key)
        return _f64.unpack(raw)[0] if raw else 0.0

    def spend_totals(self) -> dict[str, float]:
        return {key: _f64.unpack(raw)[0] for key, raw in self.items("spend")}

    def keep_spend(self, totals: dict[str, float]) -> None:
        """Each ``spend`` entry raised to ``totals``' when that is higher (a restore: what was
        spent stays spent)."""
        def higher(key: str, raw: bytes | None) -> bytes | None:
            held = _f64.unpack(raw)[0] if raw else 0.0
            return _f64.pack(totals[key]) if totals[key] > held else None

        self.update_many("spend", totals, higher)

    def spend(self, key: str, usd: float) -> float:
        with self.env.begin(write=True) as txn:
            return _add_f64(txn, self._dbs["spend"], key.encode(), usd)


def _add(txn: lmdb.Transaction, db: object, key: bytes, by: int) -> int:
    raw = txn.get(key, db=db)
    value = (_u64.unpack(raw)[0] if raw else 0) + by
    txn.put(key, _u64.pack(value), db=db)
    return value


def _admit(txn: lmdb.Transaction, spent_db: object, checks: list[tuple[str, int, int]],
           budget: tuple[str, float] | None) -> tuple[int, float]:
    """``Runtime.admit`` inside ``txn`` (whose default database is ``windows``)."""
    held = []
    for i, (key, rpm, tpm) in enumerate(checks):
        name = key.encode()
        raw = txn.get(name)
        requests, tokens = _pair.unpack(raw) if raw else (0, 0)
        if (rpm and requests >= rpm) or (tpm and tokens >= tpm):
            return i, 0.0
        held.append((name, requests, tokens))
    spent = 0.0
    if budget is not None:
        raw = txn.get(budget[0].encode(), None, spent_db)
        spent = _f64.unpack(raw)[0] if raw else 0.0
        if spent >= budget[1]:
            return len(checks), spent
    for name, requests, tokens in held:
        txn.put(name, _pair.pack(requests + 1, tokens))
    return -1, spent


def _add_f64(txn: lmdb.Transaction, db: object, key: bytes, by: float) -> float:
    raw = txn.get(key, db=db)
    total = (_f64.unpack(raw)[0] if raw else 0.0) + by
    txn.put(key, _f64.pack(total), db=db)
    return total


def _open(path: Path, map_size: int) -> lmdb.Environment:
    """Open (or, when it is unreadable, recreate) the runtime environment."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        return lmdb.open(str(path), map_size=map_size, max_dbs=len(DATABASES) + 2, subdir=True,
                         max_readers=256, sync=False, metasync=False, writemap=True)
    except lmdb.Error as exc:
        log.warning("runtime state at %s is unreadable (%s): starting it afresh", path, exc)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return lmdb.open(str(path), map_size=map_size, max_dbs=len(DATABASES) + 2, subdir=True,
                         max_readers=256, sync=False, metasync=False, writemap=True)
