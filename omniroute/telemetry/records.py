"""What the usage environment stores: one ``UsageRecord`` per request, its optional bodies,
session and audit entries, and how each is presented by the API (camelCase).

Records are msgpack arrays (``array_like``): field names are not repeated a million times,
and a reader that needs only the leading fields (``RecordHead``: what the log filters read)
decodes only those. New fields go at the end, with a default, so older records still decode.

A record's id is its 16-byte key in hex: arrival time in microseconds (big-endian, so keys
sort by time), the worker's pid and a per-worker sequence number.
"""

from __future__ import annotations

import struct
import time
from typing import Any

import msgspec

_KEY = struct.Struct(">QII")


class AttemptRecord(msgspec.Struct, array_like=True):
    provider: str
    connection_id: str
    model: str
    status: int
    error_kind: str | None
    latency_ms: float


class UsageRecord(msgspec.Struct, array_like=True):
    ts: float  # arrival, unix seconds
    key_id: str | None
    provider: str | None
    connection_id: str | None
    model: str  # as the client asked
    served_model: str | None  # provider/model of the account that answered (or failed last)
    status: int
    error_kind: str | None
    combo: str | None
    client_format: str | None
    upstream_format: str | None
    endpoint: str
    stream: bool
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: float
    latency_ms: float
    ttft_ms: float | None
    upstream_ms: float | None
    overhead_ms: float
    cache: str | None
    client_ip: str | None
    user_agent: str | None
    attempts: list[AttemptRecord] = msgspec.field(default_factory=list)
    error: str | None = None
    units: dict[str, float] | None = None
    has_body: bool = False


class RecordHead(msgspec.Struct, array_like=True):
    """The leading fields of a ``UsageRecord``: what log filters read."""

    ts: float
    key_id: str | None
    provider: str | None
    connection_id: str | None
    model: str
    served_model: str | None
    status: int
    error_kind: str | None


class BodyLog(msgspec.Struct, array_like=True):
    """A request's bodies, capped and with secrets redacted (``telemetry.redact``)."""

    request_headers: dict[str, str]
    request_body: str
    response_body: str
    request_truncated: bool = False
    response_truncated: bool = False


class SessionRecord(msgspec.Struct, array_like=True):
    key_id: str | None
    client_ip: str | None
    user_agent: str | None
    first_seen: float
    last_seen: float
    requests: int


class AuditEntry(msgspec.Struct, array_like=True):
    timestamp: float
    action: str  # METHOD /route/{pattern}
    target: str | None  # the path parameters, or the id of what the write created
    actor: str  # session:<hash prefix>, loopback, anonymous
    ip: str
    outcome: str  # ok | denied | failed
    status: int


def record_key(ts: float, pid: int, seq: int) -> bytes:
    return _KEY.pack(int(ts * 1_000_000), pid & 0xFFFFFFFF, seq & 0xFFFFFFFF)


def key_time(key: bytes) -> float:
    """Arrival time (unix seconds) of the record stored under ``key``."""
    return _KEY.unpack_from(key)[0] / 1_000_000


def parse_id(record_id: str) -> bytes | None:
    """The key of a record id (``None``: not an id)."""
    if len(record_id) != _KEY.size * 2:
        return None
    try:
        return bytes.fromhex(record_id)
    except ValueError:
        return None


def iso(ts: float) -> str:
    """``2026-01-05T12:00:00.123Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def present(key: bytes, r: UsageRecord) -> dict[str, Any]:
    """A record as the API shows it (docs/observability.md, "Usage records")."""
    return {
        "id": key.hex(), "timestamp": iso(r.ts), "keyId": r.key_id, "provider": r.provider,
        "connectionId": r.connection_id, "model": r.model, "servedModel": r.served_model, "combo": r.combo,
        "attempts": [{"provider": a.provider, "connectionId": a.connection_id, "model": a.model, "status": a.status,
                      "errorKind": a.error_kind, "latencyMs": _ms(a.latency_ms)} for a in r.attempts],
        "clientFormat": r.client_format, "upstreamFormat": r.upstream_format, "endpoint": r.endpoint,
        "status": r.status, "errorKind": r.error_kind, "error": r.error,
        "usage": {"inputTokens": r.input_tokens, "outputTokens": r.output_tokens, "cachedTokens": r.cached_tokens,
                  "cacheWriteTokens": r.cache_write_tokens, "reasoningTokens": r.reasoning_tokens},
        "units": r.units, "cost": r.cost, "latencyMs": _ms(r.latency_ms), "ttftMs": _ms(r.ttft_ms),
        "upstreamMs": _ms(r.upstream_ms), "overheadMs": _ms(r.overhead_ms), "cache": r.cache, "stream": r.stream,
        "clientIp": r.client_ip,
        "userAgent": r.user_agent, "hasBody": r.has_body,
    }


def _ms(value: float | None) -> float | None:
    """Milliseconds as shown: to the microsecond (percentiles are rounded the same way)."""
    return round(value, 3) if value is not None else None


def present_body(body: BodyLog) -> dict[str, Any]:
    return {"requestHeaders": body.request_headers, "requestBody": body.request_body,
            "responseBody": body.response_body, "requestTruncated": body.request_truncated,
            "responseTruncated": body.response_truncated}


def present_audit(e: AuditEntry) -> dict[str, Any]:
    return {"timestamp": iso(e.timestamp), "action": e.action, "target": e.target, "actor": e.actor, "ip": e.ip,
            "outcome": e.outcome, "status": e.status}


def present_session(s: SessionRecord, active: int) -> dict[str, Any]:
    return {"keyId": s.key_id, "clientIp": s.client_ip, "userAgent": s.user_agent, "firstSeen": iso(s.first_seen),
            "lastSeen": iso(s.last_seen), "requests": s.requests, "activeStreams": active}
