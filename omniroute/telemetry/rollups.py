"""Hourly and daily rollups: the sums ``/api/usage/history`` reads, kept past record pruning.

Each flush adds every record's ``ROLLUP`` row to its hour and its day, in five families, so
that each kind of question scans only the entries it needs:

======  ===================================================  ====================================
family  key (after ``h``/``d``)                              answers
======  ===================================================  ====================================
``*``   start (u32, big-endian)                              history with no filter
``k``   key id, NUL, start                                   ``keyId=``
``p``   provider, NUL, start                                 ``provider=``
``m``   served ``provider/model``, NUL, start                ``model=`` (a bare model id scans the
                                                             family for every provider's)
``x``   start, then key id, provider, connection, model      two or more filters
======  ===================================================  ====================================

A single-filter or unfiltered history over 30 days of hourly buckets reads at most 720
entries, however many records there were. Values are float64 sums (``ROLLUP``), exact for
token counts below 2⁵³.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lmdb

from omniroute.telemetry.records import iso

ROLLUP = ("requests", "errors", "inputTokens", "outputTokens", "cachedTokens", "cacheWriteTokens",
          "reasoningTokens", "cost", "latencyMs")
HOUR, DAY = 3600, 86400
BUCKETS = {"hour": (b"h", HOUR), "day": (b"d", DAY)}
SEP = "\x1f"
_TAGS = (b"k", b"p", b"m")


def _start(start: int) -> bytes:
    return start.to_bytes(4, "big")


def keys_of(kind: bytes, start: int, key_id: str | None, provider: str | None, connection: str | None,
            served: str | None) -> list[bytes]:
    """The rollup keys one record's row is added to, for one bucket (module table)."""
    at = _start(start)
    keys = [kind + b"*" + at]
    for tag, value in zip(_TAGS, (key_id, provider, served), strict=True):
        if value:
            keys.append(kind + tag + value.encode() + b"\x00" + at)
    dims = SEP.join((key_id or "", provider or "", connection or "", served or ""))
    keys.append(kind + b"x" + at + dims.encode())
    return keys


def history(txn: lmdb.Transaction, db: Any, bucket: str, since: float, until: float, key_id: str | None = None,
            provider: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
    """Buckets (oldest first) in [since, until) of the rows matching the filters; empty ones
    are left out."""
    kind, size = BUCKETS[bucket]
    first, last = int(since) - int(since) % size, int(until)
    filters = [(tag, value) for tag, value in zip(_TAGS, (key_id, provider, model), strict=True) if value is not None]
    sums: dict[int, list[float]] = {}
    for start, raw in _entries(txn.cursor(db=db), kind, first, last, filters):
        held = sums.setdefault(start, [0.0] * len(ROLLUP))
        for i, v in enumerate(memoryview(raw).cast("d")):
            held[i] += v
    return [bucket_row(start, values) for start, values in sorted(sums.items())]


def _entries(it: lmdb.Cursor, kind: bytes, first: int, last: int,
             filters: list[tuple[bytes, str]]) -> Iterator[tuple[int, bytes]]:
    if not filters:
        yield from _range(it, kind + b"*", first, last)
    elif len(filters) == 1 and not (filters[0][0] == b"m" and "/" not in filters[0][1]):
        tag, value = filters[0]
        yield from _range(it, kind + tag + value.encode() + b"\x00", first, last)
    elif len(filters) == 1:  # a bare model id: every provider's entries for it
        family, bare = kind + b"m", filters[0][1]
        found = it.set_range(family)
        while found and it.key().startswith(family):
            name, _, at = it.key()[len(family):].partition(b"\x00")
            start = int.from_bytes(at, "big")
            if first <= start < last and name.decode().partition("/")[2] == bare:
                yield start, it.value()
            found = it.next()
    else:
        yield from _joint(it, kind, first, last, dict(filters))


def _joint(it: lmdb.Cursor, kind: bytes, first: int, last: int, wanted: dict[bytes, str]
           ) -> Iterator[tuple[int, bytes]]:
    """Two or more filters, from the ``x`` family: with a key id, only that key's entries of
    each bucket are read (its dimensions lead the key)."""
    prefix = kind + b"x"
    lead = wanted[b"k"].encode() + SEP.encode() if b"k" in wanted else b""
    found = it.set_range(prefix + _start(first) + lead)
    while found and it.key() < prefix + _start(last):
        key = it.key()
        at = key[2:6]
        if not key[6:].startswith(lead):  # before the key's entries of this bucket, or past them
            bucket = int.from_bytes(at, "big") + (key[6:] > lead)
            found = it.set_range(prefix + _start(bucket) + lead)
            continue
        _key_id, provider, _connection, served = key[6:].decode().split(SEP)
        if (wanted.get(b"p") in (None, provider)) and (b"m" not in wanted or _model_matches(wanted[b"m"], served)):
            yield int.from_bytes(at, "big"), it.value()
        found = it.next()


def _model_matches(wanted: str, served: str) -> bool:
    return wanted == served or served.partition("/")[2] == wanted


def _range(it: lmdb.Cursor, prefix: bytes, first: int, last: int) -> Iterator[tuple[int, bytes]]:
    stop = prefix + _start(last)
    found = it.set_range(prefix + _start(first))
    while found and it.key() < stop:
        yield int.from_bytes(it.key()[len(prefix):], "big"), it.value()
        found = it.next()


def _prefixed(it: lmdb.Cursor, prefix: bytes, first: int, last: int) -> Iterator[tuple[bytes, bytes]]:
    stop = prefix + _start(last)
    found = it.set_range(prefix + _start(first))
    while found and it.key() < stop:
        yield it.key(), it.value()
        found = it.next()


def bucket_row(start: int, values: list[float]) -> dict[str, Any]:
    """``ROLLUP`` sums as the API shows them (latency as an average)."""
    out: dict[str, Any] = {"start": iso(start)}
    for name, value in zip(ROLLUP[:7], values, strict=False):
        out[name] = int(value)
    out["cost"] = round(values[7], 10)
    out["avgLatencyMs"] = round(values[8] / values[0], 3) if values[0] else None
    return out


def prune_hourly(txn: lmdb.Transaction, db: Any, before: int) -> int:
    """Delete hourly entries that started before ``before``, in every family."""
    it = txn.cursor(db=db)
    cut = _start(before)
    done = _drop(it, b"h*", b"h*" + cut) + _drop(it, b"hx", b"hx" + cut)
    for tag in _TAGS:
        family = b"h" + tag
        found = it.set_range(family)
        while found and it.key().startswith(family):
            name = it.key()[: it.key().index(b"\x00", len(family)) + 1]
            done += _drop(it, name, name + cut)
            found = it.set_range(name + b"\xff" * 5)  # past every start of this name
    return done


def _drop(it: lmdb.Cursor, start: bytes, stop: bytes) -> int:
    done = 0
    found = it.set_range(start)
    while found and it.key() < stop:
        found = it.delete() and bool(it.key())
        done += 1
    return done
