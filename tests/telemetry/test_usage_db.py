"""``telemetry.usage_db``, ``aggregate``, ``prune``, ``queries``, ``metrics`` on a real LMDB
environment in a temp dir: one transaction per batch, rollups and totals that equal the sum
of the records, pruning to both bounds with the rollups kept, the exposition parsed by
prometheus_client."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from omniroute.telemetry import queries
from omniroute.telemetry.aggregate import Batch
from omniroute.telemetry.metrics import exposition
from omniroute.telemetry.prune import prune_records, prune_rest
from omniroute.telemetry.queries import LogFilter
from omniroute.telemetry.records import AttemptRecord, AuditEntry, UsageRecord, record_key
from omniroute.telemetry.retention import Retention
from omniroute.telemetry.usage_db import UsageDB

NOW = 1_800_000_000.0


def record(ts: float, i: int = 0, provider: str = "openai", status: int = 200) -> UsageRecord:
    return UsageRecord(
        ts=ts, key_id="key-1" if i % 2 else None, provider=provider, connection_id=f"conn-{provider}",
        model="gpt", served_model=f"{provider}/gpt", status=status, error_kind=None if status < 400 else "x",
        combo=None, client_format="openai_chat", upstream_format="openai_chat", endpoint="/v1/chat/completions",
        stream=bool(i % 3), input_tokens=10 + i, output_tokens=5, cached_tokens=i % 4, cache_write_tokens=0,
        reasoning_tokens=0, cost=0.001 * (i + 1), latency_ms=2.5, ttft_ms=None, upstream_ms=2.0, overhead_ms=0.5,
        cache="miss", client_ip="127.0.0.1", user_agent="t",
        attempts=[AttemptRecord(provider, f"conn-{provider}", "gpt", status, None, 2.0)])


def fill(db: UsageDB, n: int, start: float, step: float = 60.0, batch_size: int = 500) -> list[UsageRecord]:
    made = []
    for first in range(0, n, batch_size):
        batch = Batch()
        for i in range(first, min(n, first + batch_size)):
            r = record(start + i * step, i, "openai" if i % 2 else "anthropic", 500 if i % 10 == 0 else 200)
            batch.add(record_key(r.ts, 1, i), r)
            made.append(r)
        db.write(batch)
    return made


@pytest.fixture
def db(tmp_path: Path) -> UsageDB:
    opened = UsageDB(tmp_path / "usage", map_size=1 << 28)
    yield opened
    opened.close()


def test_history_and_totals_equal_the_records(db: UsageDB) -> None:
    made = fill(db, 1000, NOW - 1000 * 60)
    for bucket in ("hour", "day"):
        got = queries.history(db, bucket, 0, NOW + 1, LogFilter())
        assert sum(b["requests"] for b in got) == 1000
        assert sum(b["errors"] for b in got) == 100
        assert sum(b["inputTokens"] for b in got) == sum(r.input_tokens for r in made)
        assert sum(b["cachedTokens"] for b in got) == sum(r.cached_tokens for r in made)
        assert sum(b["cost"] for b in got) == pytest.approx(sum(r.cost for r in made), abs=1e-9)
    openai = queries.history(db, "day", 0, NOW + 1, LogFilter(provider="openai"))
    assert sum(b["requests"] for b in openai) == 500
    keyed = queries.history(db, "hour", 0, NOW + 1, LogFilter(key_id="key-1", model="gpt"))
    assert sum(b["requests"] for b in keyed) == 500
    for f, count in ((LogFilter(model="gpt"), 1000), (LogFilter(model="openai/gpt"), 500),
                     (LogFilter(provider="openai", model="gpt"), 500),
                     (LogFilter(key_id="key-1", provider="anthropic"), 0),
                     (LogFilter(key_id="key-1", provider="openai", model="openai/gpt"), 500),
                     (LogFilter(key_id="nobody"), 0)):
        for bucket in ("hour", "day"):
            assert sum(b["requests"] for b in queries.history(db, bucket, 0, NOW + 1, f)) == count, (f, bucket)
    total = queries.account(db, "conn-openai")
    mine = [r for r in made if r.provider == "openai"]
    assert total["requests"] == 500 and total["outputTokens"] == 5 * 500
    assert total["cost"] == pytest.approx(sum(r.cost for r in mine), abs=1e-9)
    assert queries.account(db, "conn-none") is None


def test_pages_cover_every_record_once_newest_first(db: UsageDB) -> None:
    fill(db, 250, NOW - 250)
    seen, cursor = [], None
    while True:
        page, cursor_hex = queries.page(db, LogFilter(), cursor, 40)
        seen += page
        if cursor_hex is None:
            break
        cursor = bytes.fromhex(cursor_hex)
    assert len(seen) == 250 and len({r["id"] for r in seen}) == 250
    assert [r["timestamp"] for r in seen] == sorted((r["timestamp"] for r in seen), reverse=True)
    errors, _ = queries.page(db, LogFilter(status=lambda code, _k: code >= 500), None, 1000)
    assert len(errors) == 25


def test_pruning_keeps_the_newest_within_both_bounds(db: UsageDB) -> None:
    made = fill(db, 3000, NOW - 3000 * 60)
    removed = prune_records(db, Retention(max_records=1200, max_age_days=30), NOW)
    assert removed == 1800 and db.count("records") == 1200
    kept, _ = queries.page(db, LogFilter(), None, 1)
    assert kept[0]["timestamp"].startswith(queries.iso(made[-1].ts)[:19])
    removed = prune_records(db, Retention(max_records=10_000, max_age_days=10 / 1440), NOW)  # 10 minutes
    assert db.count("records") == 10 and removed == 1190
    history = queries.history(db, "day", 0, NOW + 1, LogFilter())
    assert sum(b["requests"] for b in history) == 3000, "rollups keep what was pruned"
    assert queries.account(db, "conn-openai")["requests"] == 1500


def test_rest_prunes_old_hourly_rollups_and_audit_and_keeps_daily(db: UsageDB) -> None:
    fill(db, 10, NOW - 200 * 86400, step=3600)
    fill(db, 1, NOW - 3600)
    prune_rest(db, Retention(max_age_days=30), NOW)
    for f in (LogFilter(), LogFilter(provider="anthropic"), LogFilter(key_id="key-1", model="gpt")):
        assert sum(b["requests"] for b in queries.history(db, "hour", 0, NOW, f)) == (f.key_id is None)
    assert sum(b["requests"] for b in queries.history(db, "day", 0, NOW, LogFilter())) == 11
    for i in range(5):
        db.audit(AuditEntry(NOW + i, "POST /api/keys", None, "loopback", "127.0.0.1", "ok", 201), pid=1)
    assert [e["timestamp"] for e in queries.audit_log(db, 2)] == [queries.iso(NOW + 4), queries.iso(NOW + 3)]


def test_exposition_parses_and_histograms_add_up(db: UsageDB) -> None:
    made = fill(db, 100, NOW - 100)
    text = exposition(db.metrics(), {"circuit_breaker_open": [(("openai",), 1.0)], "inflight_requests": [((), 3.0)]})
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = sum(s.value for s in families["omniroute_requests"].samples)
    assert requests == 100
    histogram = families["omniroute_request_duration_seconds"]
    buckets = [s for s in histogram.samples if s.name.endswith("_bucket") and s.labels["provider"] == "openai"]
    assert [s.value for s in buckets] == sorted(s.value for s in buckets), "cumulative"
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 50
    assert sum(s.value for s in histogram.samples if s.name.endswith("_sum")) == pytest.approx(100 * 0.0025)
    cost = sum(s.value for s in families["omniroute_cost_usd"].samples)
    assert cost == pytest.approx(sum(r.cost for r in made))
    assert families["omniroute_circuit_breaker_open"].samples[0].value == 1
