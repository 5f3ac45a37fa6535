"""Keeping the usage environment within its bounds (``retention``), in the background.

``prune_records`` (each writer, about once a second) deletes the records past
``maxAgeDays`` and the oldest beyond ``maxRecords``, with their bodies, in transactions of
at most ``CHUNK`` deletions so that no writer waits long. ``prune_rest`` (about once a
minute) removes hourly rollups past their keep, idle sessions, audit entries beyond
``AUDIT_MAX`` and ring series no summary window can reach. Rollups and totals are never
reduced by pruning records: history keeps what was pruned.
"""

from __future__ import annotations

import lmdb

from omniroute.telemetry.records import record_key
from omniroute.telemetry.retention import AUDIT_MAX, HOURLY_KEEP_DAYS, SESSION_IDLE_S, Retention
from omniroute.telemetry.rings import MAX_WINDOW_S, newest
from omniroute.telemetry.rollups import prune_hourly
from omniroute.telemetry.usage_db import UsageDB, decode_live, decode_session

CHUNK = 10_000
DAY_S = 86_400


def prune_records(db: UsageDB, retention: Retention, now: float) -> int:
    """Records (and bodies) past the age bound or beyond the count bound; answers how many."""
    cutoff = record_key(now - retention.max_age_days * DAY_S, 0, 0)
    removed = 0
    while True:
        done = _drop_front(db, cutoff, retention.max_records)
        removed += done
        if done < CHUNK:
            return removed


def _drop_front(db: UsageDB, cutoff: bytes, max_records: int) -> int:
    """At most ``CHUNK`` of the oldest records: those past ``cutoff`` or beyond ``max_records``,
    counted in the same write transaction (two workers pruning at once never remove more than
    the excess between them)."""
    records, bodies = db.dbs["records"], db.dbs["bodies"]
    done = 0
    with db.env.begin(write=True) as txn:
        excess = txn.stat(records)["entries"] - max_records
        cursor = txn.cursor(db=records)
        found = cursor.first()
        while found and done < CHUNK and (done < excess or cursor.key() < cutoff):
            key = bytes(cursor.key())
            txn.delete(key, db=bodies)
            found = _delete(cursor)
            done += 1
    return done


def _delete(cursor: lmdb.Cursor) -> bool:
    """Delete the cursor's item; whether it now stands on the next one."""
    return cursor.delete() and bool(cursor.key())


def prune_rest(db: UsageDB, retention: Retention, now: float) -> None:
    keep_hours = max(HOURLY_KEEP_DAYS, retention.max_age_days) * DAY_S
    with db.env.begin(write=True) as txn:
        prune_hourly(txn, db.dbs["rollups"], int(max(0, now - keep_hours)))
    excess = db.count("audit") - AUDIT_MAX
    if excess > 0:
        _drop_range(db, "audit", b"", b"\xff" * 16, excess)
    idle_before = now - SESSION_IDLE_S
    stale_before = now - MAX_WINDOW_S
    with db.env.begin(write=True) as txn:
        cursor = txn.cursor(db=db.dbs["sessions"])
        found = cursor.first()
        while found:
            found = _delete(cursor) if decode_session(cursor.value()).last_seen < idle_before else cursor.next()
        cursor = txn.cursor(db=db.dbs["live"])
        found = cursor.first()
        while found:
            found = _delete(cursor) if _stale(cursor, stale_before) else cursor.next()


def _stale(cursor: lmdb.Cursor, before: float) -> bool:
    """A ring series or live state no window reaches: a worker that is gone."""
    if cursor.key()[:1] == b"r":
        return newest(cursor.value()) < before
    return decode_live(cursor.value()).at < before


def _drop_range(db: UsageDB, name: str, start: bytes, stop: bytes, limit: int | None = None) -> int:
    done = 0
    with db.env.begin(write=True, db=db.dbs[name]) as txn:
        cursor = txn.cursor()
        found = cursor.set_range(start)
        while found and cursor.key() < stop and (limit is None or done < limit):
            found = _delete(cursor)
            done += 1
    return done
