"""One flush's worth of records, folded in memory before its single write transaction.

A ``Batch`` holds the records and bodies, and folds each record into one group (the hour
and every dimension an aggregate is keyed by): one dict update per record. ``expand`` (in the
writer thread) turns the groups into the increments of every aggregate the usage
environment keeps, so that a flush of N records does N puts plus one read-modify-write per
aggregate key it touched (not per record):

=============  ==============================================  ================================
aggregate      key                                             values (float64 each)
=============  ==============================================  ================================
rollups        ``rollups.keys_of``: ``h``/``d``, a family, the     ``ROLLUP``: requests, errors,
               bucket start (UTC) and its dimensions            tokens by kind, cost, latency
                                                                sum (ms)
totals         connection id                                    ``ROLLUP`` + last use (max)
metrics        metric name + label values                       counter: [value]; histogram:
                                                                bucket counts, +Inf, sum
sessions       hash of key id, client ip, user agent            ``SessionRecord`` (merged)
=============  ==============================================  ================================
"""

from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

import xxhash

from omniroute.telemetry.metrics import BOUNDS, metric_key
from omniroute.telemetry.records import SessionRecord, UsageRecord
from omniroute.telemetry.rollups import DAY, HOUR, ROLLUP, keys_of

_HIST = len(BOUNDS) + 2  # buckets, +Inf, sum


def session_key(key_id: str | None, ip: str | None, agent: str | None) -> bytes:
    return xxhash.xxh64_digest(f"{key_id}\n{ip}\n{agent}".encode())


def _add(table: dict[bytes, list[float]], key: bytes, values: list[float]) -> None:
    held = table.get(key)
    if held is None:
        table[key] = list(values)
    else:
        for i, v in enumerate(values):
            held[i] += v


class Batch:
    """Records as they are folded in (cheap: one group update per record), expanded into
    the aggregates' increments by ``expand`` in the writer thread."""

    __slots__ = ("bodies", "groups", "histograms", "records", "sessions")

    def __init__(self) -> None:
        self.records: list[tuple[bytes, UsageRecord]] = []
        self.bodies: list[tuple[bytes, bytes]] = []
        #: (hour, key id, provider, connection, served model, status, client format, error kind, cache)
        #: → ROLLUP values + last use
        self.groups: dict[tuple, list[float]] = {}
        #: (metric name, provider) → bucket counts, +Inf, sum
        self.histograms: dict[tuple[str, str], list[float]] = {}
        #: (key id, client ip, user agent) → [first seen, last seen, requests]
        self.sessions: dict[tuple, list[float]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def add(self, key: bytes, r: UsageRecord, body: bytes | None = None) -> None:
        self.records.append((key, r))
        if body is not None:
            self.bodies.append((key, body))
        ts = r.ts
        group = (int(ts) // HOUR * HOUR, r.key_id, r.provider, r.connection_id, r.served_model, r.status,
                 r.client_format, r.error_kind, r.cache)
        held = self.groups.get(group)
        if held is None:
            held = self.groups[group] = [0.0] * (len(ROLLUP) + 1)
        held[0] += 1
        if r.status >= 400 or r.error_kind is not None:
            held[1] += 1
        held[2] += r.input_tokens
        held[3] += r.output_tokens
        held[4] += r.cached_tokens
        held[5] += r.cache_write_tokens
        held[6] += r.reasoning_tokens
        held[7] += r.cost
        held[8] += r.latency_ms
        if ts > held[9]:
            held[9] = ts
        provider = r.provider or ""
        self._observe("request_duration_seconds", provider, r.latency_ms / 1000)
        if r.upstream_ms is not None:
            self._observe("upstream_duration_seconds", provider, r.upstream_ms / 1000)
        who = (r.key_id, r.client_ip, r.user_agent)
        seen = self.sessions.get(who)
        if seen is None:
            self.sessions[who] = [ts, ts, 1]
        else:
            seen[0], seen[1], seen[2] = min(seen[0], ts), max(seen[1], ts), seen[2] + 1

    def _observe(self, name: str, provider: str, seconds: float) -> None:
        held = self.histograms.get((name, provider))
        if held is None:
            held = self.histograms[(name, provider)] = [0.0] * _HIST
        held[bisect_left(BOUNDS, seconds)] += 1
        held[-1] += seconds


class Increments(NamedTuple):
    """What a batch adds to each aggregate (the module table), keyed as stored."""

    rollups: dict[bytes, list[float]]
    totals: dict[bytes, list[float]]
    metrics: dict[bytes, list[float]]
    sessions: dict[bytes, SessionRecord]


def expand(batch: Batch) -> Increments:
    rollups: dict[bytes, list[float]] = {}
    totals: dict[bytes, list[float]] = {}
    metrics: dict[bytes, list[float]] = {}
    for (hour, key_id, provider, connection, served, status, fmt, kind, cache), values in batch.groups.items():
        row = values[: len(ROLLUP)]
        for level, start in ((b"h", hour), (b"d", hour - hour % DAY)):
            for key in keys_of(level, start, key_id, provider, connection, served):
                _add(rollups, key, row)
        if connection:
            held = totals.get(connection.encode())
            if held is None:
                totals[connection.encode()] = list(values)
            else:
                _add_row(held, values)
        _count(metrics, row, provider or "", served.partition("/")[2] if served and provider else "", status, fmt,
               kind, cache)
    for (name, provider), values in batch.histograms.items():
        _add(metrics, metric_key(name, (provider,)), values)
    sessions = {session_key(*who): SessionRecord(*who, first, last, int(count))
                for who, (first, last, count) in batch.sessions.items()}
    return Increments(rollups, totals, metrics, sessions)


def _add_row(held: list[float], values: list[float]) -> None:
    for i in range(len(ROLLUP)):
        held[i] += values[i]
    held[-1] = max(held[-1], values[-1])


def _count(metrics: dict[bytes, list[float]], row: list[float], provider: str, model: str, status: int,
           fmt: str | None, kind: str | None, cache: str | None) -> None:
    requests, errors = row[0], row[1]
    _add(metrics, metric_key("requests_total", (provider, model, str(status), fmt or "")), [requests])
    if errors:
        _add(metrics, metric_key("errors_total", (kind or "http_error",)), [errors])
    for direction, count in (("input", row[2]), ("output", row[3]), ("cached", row[4])):
        if count:
            _add(metrics, metric_key("tokens_total", (provider, model, direction)), [count])
    if row[7]:
        _add(metrics, metric_key("cost_usd_total", (provider, model)), [row[7]])
    if cache:
        _add(metrics, metric_key("cache_requests_total", (cache,)), [requests])


def merge_session(old: SessionRecord | None, new: SessionRecord) -> SessionRecord:
    if old is None:
        return new
    return SessionRecord(new.key_id, new.client_ip, new.user_agent, min(old.first_seen, new.first_seen),
                         max(old.last_seen, new.last_seen), old.requests + new.requests)
