"""The LMDB environment: one per worker process, opened after fork, closed on shutdown.

Writes here are management-path only (create a key, add a connection); each bumps the
``meta/version`` counter so every worker notices and rebuilds its routing snapshot
(``omniroute.routing.registry``) on its next request. Values are msgpack-encoded Structs.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import lmdb
import msgspec

from omniroute.store.records import (
    Alias,
    ApiKey,
    Budget,
    Combo,
    Connection,
    CustomModel,
    EvalSuite,
    OAuthToken,
    Policy,
    ProviderNode,
    Session,
    SettingValue,
)

T = TypeVar("T", bound=msgspec.Struct)

#: named database -> record type
TABLES: dict[str, type[msgspec.Struct]] = {
    "connections": Connection,
    "nodes": ProviderNode,
    "keys": ApiKey,
    "aliases": Alias,
    "sessions": Session,
    "combos": Combo,
    "models": CustomModel,
    "policies": Policy,
    "budgets": Budget,
    "settings": SettingValue,
    "oauth": OAuthToken,
    "evals": EvalSuite,
}

#: what a restore or an import replaces: everything but login sessions (whoever restores
#: stays logged in) and the OAuth tokens, which are merged (``store.backups``)
REPLACED = tuple(name for name in TABLES if name not in ("sessions", "oauth"))
#: meta entries a restore carries over from the backup
RESTORED_META = (b"password_hash", b"sync_token_hash")

_VERSION = b"version"
_u64 = struct.Struct("<Q")
_encoder = msgspec.msgpack.Encoder()
_decoders = {name: msgspec.msgpack.Decoder(cls) for name, cls in TABLES.items()}


class Store:
    """Typed access to the named databases of one LMDB environment."""

    def __init__(self, path: str | Path, map_size: int = 1 << 30) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        self.env = lmdb.open(str(self.path), map_size=map_size, max_dbs=32, subdir=True, max_readers=256)
        with self.env.begin(write=True) as txn:
            self._dbs = {name: self.env.open_db(name.encode(), txn=txn) for name in (*TABLES, "meta")}

    def close(self) -> None:
        self.env.close()

    # -- records ---------------------------------------------------------------------
    def get(self, table: str, key: str) -> msgspec.Struct | None:
        with self.env.begin(db=self._dbs[table]) as txn:
            raw = txn.get(key.encode())
        return _decoders[table].decode(raw) if raw is not None else None

    def put(self, table: str, key: str, record: msgspec.Struct, *, bump: bool = True) -> None:
        with self.env.begin(write=True) as txn:
            txn.put(key.encode(), _encoder.encode(record), db=self._dbs[table])
            if bump:
                self._bump(txn)

    def delete(self, table: str, key: str, *, bump: bool = True) -> bool:
        with self.env.begin(write=True) as txn:
            found = txn.delete(key.encode(), db=self._dbs[table])
            if found and bump:
                self._bump(txn)
        return found

    def scan(self, table: str) -> Iterator[msgspec.Struct]:
        decode = _decoders[table].decode
        with self.env.begin(db=self._dbs[table]) as txn:
            values = [bytes(v) for v in txn.cursor().iternext(keys=False, values=True)]
        for raw in values:
            yield decode(raw)

    def items(self, table: str) -> list[tuple[str, msgspec.Struct]]:
        """(key, record) of every record of ``table``, in key order."""
        decode = _decoders[table].decode
        with self.env.begin(db=self._dbs[table]) as txn:
            rows = [(bytes(k).decode(), bytes(v)) for k, v in txn.cursor()]
        return [(key, decode(raw)) for key, raw in rows]
    def keys(self, table: str) -> list[str]:
        with self.env.begin(db=self._dbs[table]) as txn:
            return [bytes(k).decode() for k in txn.cursor().iternext(keys=True, values=False)]

    def count(self, table: str) -> int:
        with self.env.begin(db=self._dbs[table]) as txn:
            return txn.stat(self._dbs[table])["entries"]

    # -- meta ------------------------------------------------------------------------
    def version(self) -> int:
        with self.env.begin(db=self._dbs["meta"]) as txn:
            raw = txn.get(_VERSION)
        return _u64.unpack(raw)[0] if raw else 0

    def _bump(self, txn: lmdb.Transaction) -> None:
        raw = txn.get(_VERSION, db=self._dbs["meta"])
        txn.put(_VERSION, _u64.pack((_u64.unpack(raw)[0] if raw else 0) + 1), db=self._dbs["meta"])

    def get_meta(self, name: str) -> bytes | None:
        with self.env.begin(db=self._dbs["meta"]) as txn:
            raw = txn.get(name.encode())
        return bytes(raw) if raw is not None else None

    def setting(self, name: str) -> dict:
        """A stored settings document (``{}`` when none was stored)."""
        record = self.get("settings", name)
        return dict(record.value) if record is not None else {}

    def put_setting(self, name: str, value: dict) -> None:
        self.put("settings", name, SettingValue(value))

    def put_meta(self, name: str, value: bytes) -> None:
        with self.env.begin(write=True, db=self._dbs["meta"]) as txn:
            txn.put(name.encode(), value)

    # -- snapshots ----------------------------------------------------------------------
    def snapshot(self, path: Path) -> None:
        """A consistent copy of the environment into the directory ``path`` (LMDB's hot copy,
        compacted: one read transaction, writers on other workers are not stopped)."""
        path.mkdir(parents=True, exist_ok=True)
        self.env.copy(str(path), compact=True)

    def replace(self, tables: dict[str, list[tuple[str, msgspec.Struct]]], meta: dict[bytes, bytes | None]) -> None:
        """One write transaction: each table of ``tables`` emptied and refilled, ``meta``
        entries set (``None``: removed), the version moved — every worker rebuilds from it on
        its next request. All or nothing."""
        with self.env.begin(write=True) as txn:
            for name, rows in tables.items():
                db = self._dbs[name]
                txn.drop(db, delete=False)
                for key, record in rows:
                    txn.put(key.encode(), _encoder.encode(record), db=db)
            for key, value in meta.items():
                if value is None:
                    txn.delete(key, db=self._dbs["meta"])
                else:
                    txn.put(key, value, db=self._dbs["meta"])
            self._bump(txn)

    def bump(self) -> None:
        """Move the version (every worker rebuilds its snapshot)."""
        with self.env.begin(write=True) as txn:
            self._bump(txn)


def read_snapshot(path: Path) -> tuple[dict[str, list[tuple[str, msgspec.Struct]]], dict[bytes, bytes]]:
    """Every record of a snapshot directory (``Store.snapshot``), decoded — so a damaged one
    fails here, before anything is replaced: (table → [(key, record)], meta)."""
    env = lmdb.open(str(path), readonly=True, lock=False, max_dbs=32, subdir=True)
    tables: dict[str, list[tuple[str, msgspec.Struct]]] = {}
    meta: dict[bytes, bytes] = {}
    try:
        with env.begin() as txn:
            for name in (*TABLES, "meta"):
                try:
                    db = env.open_db(name.encode(), txn=txn, create=False)
                except lmdb.NotFoundError:
                    continue
                rows = [(bytes(k).decode(), bytes(v)) for k, v in txn.cursor(db=db)]
                if name == "meta":
                    meta = {k.encode(): v for k, v in rows}
                else:
                    tables[name] = [(k, _decoders[name].decode(v)) for k, v in rows]
    finally:
        env.close()
    return tables, meta
