"""Telemetry over the management API: ``/api/telemetry/summary``, ``/metrics``,
``/api/sessions``, ``/api/compliance/audit-log`` (docs/observability.md).

=================================  =============================================================
endpoint                           answer
=================================  =============================================================
GET /api/telemetry/summary         p50/p95/p99 and count per provider, served model and combo
                                   (latency), and over all requests: ``latency``, ``overhead``,
                                   ``ttft``; query ``window`` (seconds, 1–86400, 300)
GET /metrics                       Prometheus text exposition (``telemetry.metrics``); the
                                   ``metrics_token`` bearer when set, else management access
GET /api/sessions                  ``{"sessions": [...]}``: key + client seen within the idle
                                   time, most recent first, with their open streams; ``limit``
GET /api/compliance/audit-log      ``{"entries": [...]}`` newest first; ``limit`` (1–10000, 100)
=================================  =============================================================
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from omniroute.gateway import Gateway
from omniroute.routing.health import AccountHealth
from omniroute.server.http import HttpRequest, send_bytes, send_json
from omniroute.server.params import integer, known
from omniroute.telemetry import queries
from omniroute.telemetry.metrics import exposition
from omniroute.telemetry.rings import DEFAULT_WINDOW_S, MAX_WINDOW_S, summarize

PROMETHEUS_HEADERS = [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")]
#: a worker's live state older than this is a worker that is gone
LIVE_FRESH_S = 5.0


async def summary(gw: Gateway, req: HttpRequest, send: Any) -> None:
    query = req.query
    known(query, ("window",))
    window = integer(query, "window", DEFAULT_WINDOW_S, 1, MAX_WINDOW_S)
    db = gw.usage_db
    data = await asyncio.to_thread(lambda: summarize(db.rings(), time.time(), window))
    await send_json(send, 200, data)


async def metrics(gw: Gateway, req: HttpRequest, send: Any) -> None:
    known(req.query, ())
    stored = await asyncio.to_thread(gw.usage_db.metrics)
    now = time.time()
    providers = sorted({c.provider for c in gw.store.scan("connections")})
    health = gw.router.health
    breakers = [((p,), 1.0 if (health.state("p:" + p) or AccountHealth()).open_until > now else 0.0)
                for p in providers]
    inflight = sum(state.inflight for state in gw.usage_db.live(now, LIVE_FRESH_S))
    gauges = {"circuit_breaker_open": breakers, "inflight_requests": [((), float(inflight))]}
    await send_bytes(send, 200, exposition(stored, gauges).encode(), PROMETHEUS_HEADERS)


async def sessions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    query = req.query
    known(query, ("limit",))
    limit = integer(query, "limit", 100, 1, 10_000)
    now = time.time()
    streams: dict[bytes, int] = {}
    for state in gw.usage_db.live(now, LIVE_FRESH_S):
        for key, count in state.streams.items():
            streams[key] = streams.get(key, 0) + count
    found = await asyncio.to_thread(queries.sessions, gw.usage_db, now, streams, limit)
    await send_json(send, 200, {"sessions": found})


async def audit_log(gw: Gateway, req: HttpRequest, send: Any) -> None:
    query = req.query
    known(query, ("limit",))
    limit = integer(query, "limit", 100, 1, 10_000)
    entries = await asyncio.to_thread(queries.audit_log, gw.usage_db, limit)
    await send_json(send, 200, {"entries": entries})
