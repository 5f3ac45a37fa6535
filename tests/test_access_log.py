"""The access log: one line per request at info level, plain or JSON, written by a thread;
nothing at the default level. Unit tests of the line formats, then a real gateway with two
workers whose output is read back after SIGTERM (queued lines are written before exit)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import httpx
import openai
import pytest

from omniroute.access_log import AccessLog
from omniroute.context import Attempt, RequestContext
from omniroute.errors import ErrorKind, GatewayError
from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream

MESSAGES = [{"role": "user", "content": "hi"}]


def written(log: AccessLog, stream: io.StringIO) -> list[str]:
    log.close()
    return stream.getvalue().splitlines()


def test_plain_line_has_every_fact_and_the_reason() -> None:
    stream = io.StringIO()
    log = AccessLog("plain", stream)
    ctx = RequestContext(time.perf_counter() - 0.0125, "anthropic")
    ctx.attempts.append(Attempt("openai", "c1", "gpt-4o-mini", 429, "rate_limited", 3.0))
    ctx.error = GatewayError(ErrorKind.RATE_LIMITED, 'slow "down"')
    log.record("POST", "/v1/messages", 429, 97, ctx, log.request_id(None))
    ok = RequestContext(time.perf_counter(), None)
    log.record("GET", "/api/monitoring/health", 200, 15, ok, log.request_id(b"client-id-7"))
    first, second = written(log, stream)
    stamp, method, path, status, fmt, model, upstream, ms, size, rid, kind, reason = first.split(" ", 11)
    assert stamp.endswith("Z") and (method, path, status, fmt, model) == (
        "POST", "/v1/messages", "429", "anthropic", "openai/gpt-4o-mini")
    assert upstream == "upstream=429" and ms.endswith("ms") and float(ms[:-2]) >= 12.5 and size == "97B"
    assert rid.startswith("id=") and kind == "error=rate_limited" and json.loads(reason) == 'slow "down"'
    assert second.split(" ")[1:7] == ["GET", "/api/monitoring/health", "200", "-", "-", "upstream=-"]
    assert second.endswith("id=client-id-7")


def test_json_line_is_one_object() -> None:
    stream = io.StringIO()
    log = AccessLog("json", stream)
    ctx = RequestContext(time.perf_counter(), "openai_chat")
    log.record("POST", "/v1/chat/completions", 404, 120, ctx, "r1")
    (line,) = written(log, stream)
    record = json.loads(line)
    assert record == {**record, "method": "POST", "status": 404, "clientFormat": "openai_chat", "servedModel": None,
                      "upstreamStatus": None, "bytes": 120, "requestId": "r1", "errorKind": None, "error": None}
    assert set(record) == {"ts", "method", "path", "status", "clientFormat", "servedModel", "upstreamStatus",
                           "latencyMs", "bytes", "requestId", "errorKind", "error"}


def test_generated_ids_are_unique_per_worker() -> None:
    log = AccessLog("plain", io.StringIO())
    ids = {log.request_id(None) for _ in range(100)}
    log.close()
    assert len(ids) == 100


def test_a_broken_stream_never_stops_the_writer() -> None:
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("pipe closed")

    log = AccessLog("plain", Broken())
    log.record("GET", "/", 200, 0, RequestContext(time.perf_counter(), None), "x")
    log.close()
    assert not log.thread.is_alive()


def lines(gw: RunningGateway) -> list[dict]:
    out = gw.stop()
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_gateway_logs_each_request_as_json(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = RunningGateway(tmp_path, "--workers", "2", "--log-level", "info", "--log-format", "json")
    try:
        conn = gw.add_openai_upstream(upstream.base_url, prefix="mock")
        gw_node = next(c["provider"] for c in gw.api("GET", "/api/providers").json()["connections"] if c["id"] == conn)
        sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0)
        def rid(name: str) -> dict:
            return {"extra_headers": {"x-request-id": name}}

        sdk.chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES, **rid("ok"))
        with pytest.raises(openai.APIError, match="closed the connection"):  # the stream's error event
            list(sdk.chat.completions.create(model="mock/drop", messages=MESSAGES, stream=True, **rid("dropped")))
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(model="nosuch-model", messages=MESSAGES, **rid("unknown"))
        with pytest.raises(openai.InternalServerError):
            sdk.chat.completions.create(model="mock/error-500", messages=MESSAGES, **rid("failed"))
        gw.http.post("/v1/messages", content=b"{", headers={"x-request-id": "mine-1"})
        gw.http.get("/v1/models")
    finally:
        records = lines(gw)
    # two workers write their own lines: find each request by its id, not by position
    assert len({r["requestId"] for r in records}) == len(records), records
    client = [r for r in records if r["path"].startswith("/v1/")]  # the rest is the test's /api set-up
    by_id = {r["requestId"]: r for r in client}
    assert len(client) == 6, client
    ok, dropped, unknown, failed = (by_id[k] for k in ("ok", "dropped", "unknown", "failed"))
    node = gw_node  # served models name the provider by id: a custom node's is ``node-…``
    assert (ok["status"], ok["clientFormat"], ok["servedModel"], ok["upstreamStatus"], ok["errorKind"]) == (
        200, "openai_chat", f"{node}/gpt-4o-mini", 200, None)
    assert ok["path"] == "/v1/chat/completions"
    assert ok["bytes"] > 100 and ok["latencyMs"] > 0
    assert (dropped["status"], dropped["upstreamStatus"], dropped["errorKind"]) == (200, 200, "upstream_protocol")
    assert (unknown["status"], unknown["upstreamStatus"], unknown["errorKind"]) == (404, None, "not_found")
    assert "nosuch-model" in unknown["error"]
    assert (failed["status"], failed["servedModel"], failed["upstreamStatus"]) == (500, f"{node}/error-500", 500)
    bad = by_id["mine-1"]
    assert (bad["path"], bad["status"], bad["clientFormat"], bad["errorKind"]) == (
        "/v1/messages", 400, "anthropic", "invalid_request")
    (listing,) = [r for r in client if r["path"] == "/v1/models"]
    assert listing["status"] == 200 and listing["errorKind"] is None


def test_nothing_is_logged_at_the_default_level(tmp_path: Path) -> None:
    gw = RunningGateway(tmp_path)
    try:
        assert httpx.get(gw.url + "/v1/models").status_code == 200
        gw.http.post("/v1/chat/completions", content=b"{")
    finally:
        out = gw.stop()
    assert "/v1/models" not in out and "/v1/chat/completions" not in out
