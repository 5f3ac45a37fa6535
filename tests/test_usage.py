"""Usage recording across two Granian workers (``omniroute.usage``): every request gets
exactly one record whichever worker served it, the telemetry summary counts every worker's
requests with percentiles equal to a reference computation over the same samples, nothing
queued is lost on SIGTERM right after a burst, and counters survive the restart."""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream
from tests.support.usage_api import records, wait_records

MESSAGES = [{"role": "user", "content": "hi"}]


def burst(gw: RunningGateway, n: int, model: str = "mock/burst", stream: bool = False) -> list[int]:
    """``n`` requests from 8 threads, each on a fresh connection (so both workers serve)."""
    def one(_i: int) -> int:
        with httpx.Client(timeout=20) as c:
            return c.post(gw.url + "/v1/chat/completions", headers={"connection": "close"},
                          json={"model": model, "messages": MESSAGES, "stream": stream}).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def nearest_rank(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered) / 100) - 1)]


@pytest.fixture(scope="module")
def gw2(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    gw = RunningGateway(tmp_path_factory.mktemp("usage-gw"), "--workers", "2")
    gw.add_openai_upstream(upstream.base_url)
    yield gw
    gw.stop()


def test_every_request_of_both_workers_is_recorded_once(gw2: RunningGateway) -> None:
    since = time.time()
    assert burst(gw2, 60) + burst(gw2, 20, stream=True) == [200] * 80
    found = wait_records(gw2, 80, **{"from": since})
    time.sleep(0.3)  # a duplicate would arrive by now
    found = records(gw2, **{"from": since})
    assert len(found) == 80 and len({r["id"] for r in found}) == 80
    assert len({r["id"][16:24] for r in found}) == 2, "both workers (the pid in each id) wrote records"
    assert sum(r["stream"] for r in found) == 20
    assert all(r["usage"]["inputTokens"] == 12 and r["usage"]["outputTokens"] == 6 for r in found)


def test_summary_counts_every_worker_and_matches_a_reference(gw2: RunningGateway) -> None:
    """Percentiles equal nearest-rank percentiles over the records' own samples."""
    found = records(gw2)
    window = 600
    provider = found[0]["provider"]
    deadline = time.time() + 5
    while True:
        summary = gw2.api("GET", "/api/telemetry/summary", params={"window": window}).json()
        if summary["providers"].get(provider, {}).get("count") == len(found) or time.time() > deadline:
            break
        time.sleep(0.1)
    assert summary["windowS"] == window
    mine = summary["providers"][provider]
    latencies = [r["latencyMs"] for r in found]
    assert mine["count"] == len(found)
    for p in (50, 95, 99):
        assert mine[f"p{p}"] == pytest.approx(nearest_rank(latencies, p), abs=0.0011)
        assert summary["overhead"][f"p{p}"] == pytest.approx(
            nearest_rank([r["overheadMs"] for r in found], p), abs=0.0011)
    ttfts = [r["ttftMs"] for r in found if r["stream"]]
    assert summary["ttft"]["count"] == len(ttfts)
    assert summary["ttft"]["p50"] == pytest.approx(nearest_rank(ttfts, 50), abs=0.0011)
    assert summary["models"][found[0]["servedModel"]]["count"] == len(found)
    assert mine["overhead"]["p95"] == summary["overhead"]["p95"], "one provider: its overhead is everyone's"
    assert mine["ttft"]["count"] == len(ttfts)


def test_summary_window_is_checked(gw2: RunningGateway) -> None:
    for bad in ("0", "abc", "86401"):
        got = gw2.api("GET", "/api/telemetry/summary", params={"window": bad})
        assert got.status_code == 400 and "window" in got.json()["error"]["message"]


def _metric(gw: RunningGateway, name: str) -> float:
    text = gw.api("GET", "/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return sum(s.value for s in families[name].samples if s.name == name + "_total" or s.name == name)


def test_nothing_is_lost_on_sigterm_right_after_a_burst(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = RunningGateway(tmp_path, "--workers", "2")
    gw.add_openai_upstream(upstream.base_url)
    assert burst(gw, 120) == [200] * 120
    output = gw.stop(signal.SIGTERM)  # at once: the last flush has not run yet
    assert gw.proc.returncode == 0, output
    again = RunningGateway(tmp_path, "--workers", "2")
    try:
        found = records(again)
        assert len(found) == 120
        assert _metric(again, "omniroute_requests") == 120, "counters survive a restart"
        assert _metric(again, "omniroute_tokens") == 120 * (12 + 6)
    finally:
        again.stop()


def test_recording_can_be_switched_off(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = RunningGateway(tmp_path, "--no-record-usage")
    try:
        gw.add_openai_upstream(upstream.base_url)
        assert burst(gw, 3) == [200] * 3
        time.sleep(0.3)
        assert records(gw) == []
        assert gw.api("GET", "/api/compliance/audit-log").json()["entries"], "the audit log is always kept"
    finally:
        gw.stop()
