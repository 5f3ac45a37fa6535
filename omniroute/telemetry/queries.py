"""Reading the usage environment: paged logs, history from rollups, account totals, sessions,
the audit log.

Logs are read newest first from a cursor: each record's leading fields (``RecordHead``) are
decoded to filter, and only matches are decoded in full. A page stops at ``limit`` matches
or after ``SCAN_LIMIT`` records scanned, whichever comes first; ``nextCursor`` then points
at where it stopped, so a filter that matches little never makes one call slow.

History sums rollups (``aggregate``), never records: it costs the same over a million
records as over ten, and keeps what retention pruned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

from omniroute.telemetry import rollups
from omniroute.telemetry.aggregate import session_key
from omniroute.telemetry.records import (
    AuditEntry,
    BodyLog,
    RecordHead,
    UsageRecord,
    iso,
    present,
    present_audit,
    present_body,
    present_session,
    record_key,
)
from omniroute.telemetry.retention import SESSION_IDLE_S
from omniroute.telemetry.usage_db import UsageDB, decode_session, floats

SCAN_LIMIT = 100_000

_head = msgspec.msgpack.Decoder(RecordHead)
_record = msgspec.msgpack.Decoder(UsageRecord)
_body = msgspec.msgpack.Decoder(BodyLog)
_audit = msgspec.msgpack.Decoder(AuditEntry)


class LogFilter(NamedTuple):
    key_id: str | None = None
    provider: str | None = None
    model: str | None = None
    status: Callable[[int, str | None], bool] | None = None  # (status, error kind) → matches
    since: float = 0.0
    until: float | None = None
    bodies: bool = False  # only records that have stored bodies

    def matches(self, h: RecordHead) -> bool:
        if self.key_id is not None and h.key_id != self.key_id:
            return False
        if self.provider is not None and h.provider != self.provider:
            return False
        if self.model is not None and not model_matches(self.model, h.model, h.served_model):
            return False
        return self.status is None or self.status(h.status, h.error_kind)


def model_matches(wanted: str, model: str | None, served: str | None) -> bool:
    """The requested id, the served ``provider/model``, or the served model without its provider."""
    return wanted in (model, served) or (served is not None and served.partition("/")[2] == wanted)


def page(db: UsageDB, f: LogFilter, cursor: bytes | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, from before ``cursor`` (a record key): (records, the next cursor or None)."""
    source = db.dbs["bodies" if f.bodies else "records"]
    records = db.dbs["records"]
    floor = record_key(f.since, 0, 0)
    top = cursor or (record_key(f.until, 0xFFFFFFFF, 0xFFFFFFFF) if f.until is not None else None)
    out: list[dict[str, Any]] = []
    scanned = 0
    with db.env.begin() as txn:
        it = txn.cursor(db=source)
        found = it.set_range(top) if top is not None else it.last()
        if top is not None:  # set_range lands on the first key >= top: step back below it
            found = it.prev() if found else it.last()
        while found:
            key = bytes(it.key())
            if key < floor:
                return out, None
            raw = it.value() if not f.bodies else txn.get(key, db=records)
            scanned += 1
            if raw is not None and f.matches(_head.decode(raw)):
                out.append(present(key, _record.decode(raw)))
                if len(out) >= limit:
                    return out, key.hex() if it.prev() else None
            if scanned >= SCAN_LIMIT:
                return out, key.hex()
            found = it.prev()
    return out, None


def one(db: UsageDB, key: bytes) -> dict[str, Any] | None:
    """A record in full, with its bodies when it has them."""
    with db.env.begin() as txn:
        raw = txn.get(key, db=db.dbs["records"])
        body = txn.get(key, db=db.dbs["bodies"])
    if raw is None:
        return None
    out = present(key, _record.decode(raw))
    if body is not None:
        out["bodies"] = present_body(_body.decode(body))
    return out


def history(db: UsageDB, bucket: str, since: float, until: float, f: LogFilter) -> list[dict[str, Any]]:
    """Buckets (oldest first) of the rollups in [since, until) that match ``f`` (key, provider,
    model); empty buckets are left out (``rollups.history``)."""
    with db.env.begin() as txn:
        return rollups.history(txn, db.dbs["rollups"], bucket, since, until, f.key_id, f.provider, f.model)


def account(db: UsageDB, connection_id: str) -> dict[str, Any] | None:
    """All-time totals of one connection (``None``: it was never used)."""
    with db.env.begin(db=db.dbs["totals"]) as txn:
        raw = txn.get(connection_id.encode())
    if raw is None:
        return None
    values = floats(raw)
    out = rollups.bucket_row(0, values[:-1])
    del out["start"]
    return {"connectionId": connection_id, **out, "lastUsed": iso(values[-1])}


def sessions(db: UsageDB, now: float, streams: dict[bytes, int], limit: int) -> list[dict[str, Any]]:
    """Sessions seen within ``SESSION_IDLE_S``, most recent first; ``streams``: open streams
    by session key, summed over the workers' live states."""
    found = []
    with db.env.begin(db=db.dbs["sessions"]) as txn:
        for raw in txn.cursor().iternext(keys=False, values=True):
            s = decode_session(raw)
            if now - s.last_seen <= SESSION_IDLE_S:
                found.append(s)
    found.sort(key=lambda s: s.last_seen, reverse=True)
    return [present_session(s, streams.get(session_key(s.key_id, s.client_ip, s.user_agent), 0))
            for s in found[:limit]]


def audit_log(db: UsageDB, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` audit entries, newest first."""
    out = []
    with db.env.begin(db=db.dbs["audit"]) as txn:
        for raw in txn.cursor().iterprev(keys=False, values=True):
            out.append(present_audit(_audit.decode(raw)))
            if len(out) >= limit:
                break
    return out
