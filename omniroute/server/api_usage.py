"""Usage over the management API: ``/api/usage/logs*``, ``/api/usage/request-logs*``,
``/api/usage/history``, ``/api/usage/{connectionId}``, ``/api/usage/retention``.

Reads run in a thread (``asyncio.to_thread``): a scan never stalls the worker's requests.
Records written by any worker are visible once its writer flushed (every ~100 ms).

=================================  =============================================================
endpoint                           answer
=================================  =============================================================
GET /api/usage/logs                ``{"data": [record…], "nextCursor"}``, newest first; query
                                   ``limit`` (1–1000, 50), ``cursor``, ``keyId``, ``provider``,
                                   ``model`` (as asked, or served), ``status`` (``429``,
                                   ``4xx``, ``error``), ``from``, ``to``
GET /api/usage/logs/{id}           one record in full (with ``bodies`` when stored)
GET /api/usage/request-logs[/id]   the same, over records that have stored bodies
GET /api/usage/history             ``{"bucket", "from", "to", "buckets": [...]}``; query
                                   ``bucket`` (hour, day), ``from``/``to`` (default: the last
                                   48 hours / 30 days), ``keyId``, ``provider``, ``model``
GET /api/usage/{connectionId}      the connection's all-time totals and last use
GET/PUT /api/usage/retention       ``telemetry.retention`` (PUT: any subset of the fields)
=================================  =============================================================
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server.http import HttpRequest, send_json
from omniroute.server.params import choice, integer, known, moment, status
from omniroute.telemetry import queries
from omniroute.telemetry.queries import LogFilter
from omniroute.telemetry.records import iso, parse_id
from omniroute.telemetry.retention import SETTING, load, present, validate

LOG_PARAMS = ("limit", "cursor", "keyId", "provider", "model", "status", "from", "to")
HISTORY_PARAMS = ("bucket", "from", "to", "keyId", "provider", "model")
#: bucket → how far back history goes when ``from`` is not given, seconds
HISTORY_SPAN = {"hour": 48 * 3600, "day": 30 * 86400}


def _filter(query: dict[str, str], bodies: bool = False) -> tuple[LogFilter, bytes | None, int]:
    known(query, LOG_PARAMS)
    limit = integer(query, "limit", 50, 1, 1000)
    cursor = None
    if query.get("cursor"):
        cursor = parse_id(query["cursor"])
        if cursor is None:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "query parameter 'cursor' is not a cursor this API gave",
                               param="cursor")
    since, until = _span(query)
    f = LogFilter(query.get("keyId"), query.get("provider"), query.get("model"), status(query), since or 0.0,
                  until, bodies)
    return f, cursor, limit


def _span(query: dict[str, str]) -> tuple[float | None, float | None]:
    since, until = moment(query, "from"), moment(query, "to")
    if since is not None and until is not None and since > until:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'from' is after 'to'", param="from")
    return since, until


async def logs(gw: Gateway, req: HttpRequest, send: Any) -> None:
    f, cursor, limit = _filter(req.query)
    data, cursor_out = await asyncio.to_thread(queries.page, gw.usage_db, f, cursor, limit)
    await send_json(send, 200, {"data": data, "nextCursor": cursor_out})


async def request_logs(gw: Gateway, req: HttpRequest, send: Any) -> None:
    f, cursor, limit = _filter(req.query, bodies=True)
    data, cursor_out = await asyncio.to_thread(queries.page, gw.usage_db, f, cursor, limit)
    await send_json(send, 200, {"data": data, "nextCursor": cursor_out})


async def log_entry(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, _one(gw, req.path_params["id"], bodies=False))


async def request_log_entry(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, _one(gw, req.path_params["id"], bodies=True))


def _one(gw: Gateway, record_id: str, bodies: bool) -> dict[str, Any]:
    key = parse_id(record_id)
    found = queries.one(gw.usage_db, key) if key is not None else None
    if found is None or (bodies and "bodies" not in found):
        what = "request log" if bodies else "usage record"
        raise GatewayError(ErrorKind.NOT_FOUND, f"no {what} with id '{record_id}'", param="id")
    return found


async def history(gw: Gateway, req: HttpRequest, send: Any) -> None:
    query = req.query
    known(query, HISTORY_PARAMS)
    bucket = choice(query, "bucket", ("hour", "day"), "hour")
    since, until = _span(query)
    until = until if until is not None else time.time() + 1
    since = since if since is not None else until - HISTORY_SPAN[bucket]
    f = LogFilter(query.get("keyId"), query.get("provider"), query.get("model"))
    buckets = await asyncio.to_thread(queries.history, gw.usage_db, bucket, since, until, f)
    await send_json(send, 200, {"bucket": bucket, "from": iso(since), "to": iso(until), "buckets": buckets})


async def connection_usage(gw: Gateway, req: HttpRequest, send: Any) -> None:
    connection_id = req.path_params["connectionId"]
    totals = queries.account(gw.usage_db, connection_id)
    if totals is None:
        if gw.store.get("connections", connection_id) is None:
            raise GatewayError(ErrorKind.NOT_FOUND, f"no connection or usage for '{connection_id}'",
                               param="connectionId")
        totals = {"connectionId": connection_id, "requests": 0, "errors": 0, "inputTokens": 0, "outputTokens": 0,
                  "cachedTokens": 0, "cacheWriteTokens": 0, "reasoningTokens": 0, "cost": 0.0,
                  "avgLatencyMs": None, "lastUsed": None}
    await send_json(send, 200, totals)


async def get_retention(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, present(load(gw.store.setting(SETTING))))


async def put_retention(gw: Gateway, req: HttpRequest, send: Any) -> None:
    changes = await req.read_json(gw.settings.max_body_bytes)
    retention = validate(load(gw.store.setting(SETTING)), changes)
    gw.store.put_setting(SETTING, present(retention))
    if gw.recorder is not None:
        gw.recorder.set_retention(retention)
    await send_json(send, 200, present(retention))
