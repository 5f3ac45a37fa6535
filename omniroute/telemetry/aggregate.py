"""One flush's worth of records, folded in memory before its single write transaction.

A ``Batch`` holds the encoded records and bodies, and the increments they bring to every
aggregate the usage environment keeps, so that a flush of N records does N puts plus one
read-modify-write per aggregate key it touched (not per record):

=============  ==============================================  ================================
aggregate      key                                             values (float64 each)
=============  ==============================================  ================================
rollups        ``h``/``d`` + bucket start (u32, UTC) + key id,  ``ROLLUP``: requests, errors,
               provider, connection id, served model            tokens by kind, cost, latency
                                                                sum (ms)
totals         connection id                                    ``ROLLUP`` + last use (max)
metrics        metric name + label values                       counter: [value]; histogram:
                                                                bucket counts, +Inf, sum
sessions       hash of key id, client ip, user agent            ``SessionRecord`` (merged)
=============  ==============================================  ================================
"""

from __future__ import annotations

from bisect import bisect_left

import msgspec
import xxhash

from omniroute.telemetry.metrics import BOUNDS, metric_key
from omniroute.telemetry.records import SessionRecord, UsageRecord

ROLLUP = ("requests", "errors", "inputTokens", "outputTokens", "cachedTokens", "cacheWriteTokens",
          "reasoningTokens", "cost", "latencyMs")
HOUR, DAY = 3600, 86400
SEP = "\x1f"
_HIST = len(BOUNDS) + 2  # buckets, +Inf, sum
_encode = msgspec.msgpack.Encoder().encode


def rollup_key(kind: bytes, start: int, key_id: str | None, provider: str | None, connection_id: str | None,
               model: str | None) -> bytes:
    dims = SEP.join((key_id or "", provider or "", connection_id or "", model or ""))
    return kind + start.to_bytes(4, "big") + dims.encode()


def split_rollup(key: bytes) -> tuple[bytes, int, list[str]]:
    return key[:1], int.from_bytes(key[1:5], "big"), key[5:].decode().split(SEP)


def session_key(key_id: str | None, ip: str | None, agent: str | None) -> bytes:
    return xxhash.xxh64_digest(f"{key_id}\n{ip}\n{agent}".encode())


def _add(table: dict[bytes, list[float]], key: bytes, values: tuple[float, ...] | list[float]) -> None:
    held = table.get(key)
    if held is None:
        table[key] = list(values)
    else:
        for i, v in enumerate(values):
            held[i] += v


class Batch:
    __slots__ = ("bodies", "metrics", "records", "rollups", "sessions", "totals")

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []
        self.bodies: list[tuple[bytes, bytes]] = []
        self.rollups: dict[bytes, list[float]] = {}
        self.totals: dict[bytes, list[float]] = {}
        self.metrics: dict[bytes, list[float]] = {}
        self.sessions: dict[bytes, SessionRecord] = {}

    def __len__(self) -> int:
        return len(self.records)

    def add(self, key: bytes, r: UsageRecord, body: bytes | None = None) -> None:
        self.records.append((key, _encode(r)))
        if body is not None:
            self.bodies.append((key, body))
        failed = r.status >= 400 or r.error_kind is not None
        row = (1.0, 1.0 if failed else 0.0, r.input_tokens, r.output_tokens, r.cached_tokens, r.cache_write_tokens,
               r.reasoning_tokens, r.cost, r.latency_ms)
        ts = int(r.ts)
        for kind, size in ((b"h", HOUR), (b"d", DAY)):
            _add(self.rollups, rollup_key(kind, ts - ts % size, r.key_id, r.provider, r.connection_id,
                                          r.served_model), row)
        if r.connection_id:
            self._total(r.connection_id.encode(), row, r.ts)
        self._metrics(r, failed)
        self._session(r)

    def _total(self, key: bytes, row: tuple[float, ...], ts: float) -> None:
        held = self.totals.get(key)
        if held is None:
            self.totals[key] = [*row, ts]
        else:
            for i, v in enumerate(row):
                held[i] += v
            held[-1] = max(held[-1], ts)

    def _metrics(self, r: UsageRecord, failed: bool) -> None:
        provider = r.provider or ""
        model = r.served_model.partition("/")[2] if r.served_model and r.provider else ""
        m = self.metrics
        _add(m, metric_key("requests_total", (provider, model, str(r.status), r.client_format or "")), (1.0,))
        if failed:
            _add(m, metric_key("errors_total", (r.error_kind or "unknown",)), (1.0,))
        for direction, count in (("input", r.input_tokens), ("output", r.output_tokens), ("cached", r.cached_tokens)):
            if count:
                _add(m, metric_key("tokens_total", (provider, model, direction)), (float(count),))
        if r.cost:
            _add(m, metric_key("cost_usd_total", (provider, model)), (r.cost,))
        if r.cache:
            _add(m, metric_key("cache_requests_total", (r.cache,)), (1.0,))
        _observe(m, metric_key("request_duration_seconds", (provider,)), r.latency_ms / 1000)
        if r.upstream_ms is not None:
            _observe(m, metric_key("upstream_duration_seconds", (provider,)), r.upstream_ms / 1000)

    def _session(self, r: UsageRecord) -> None:
        key = session_key(r.key_id, r.client_ip, r.user_agent)
        held = self.sessions.get(key)
        if held is None:
            self.sessions[key] = SessionRecord(r.key_id, r.client_ip, r.user_agent, r.ts, r.ts, 1)
        else:
            held.first_seen = min(held.first_seen, r.ts)
            held.last_seen = max(held.last_seen, r.ts)
            held.requests += 1


def _observe(metrics: dict[bytes, list[float]], key: bytes, seconds: float) -> None:
    held = metrics.get(key)
    if held is None:
        held = metrics[key] = [0.0] * _HIST
    held[bisect_left(BOUNDS, seconds)] += 1
    held[-1] += seconds


def merge_session(old: SessionRecord | None, new: SessionRecord) -> SessionRecord:
    if old is None:
        return new
    return SessionRecord(new.key_id, new.client_ip, new.user_agent, min(old.first_seen, new.first_seen),
                         max(old.last_seen, new.last_seen), old.requests + new.requests)
