"""``telemetry.rings``: fixed-size rings, nearest-rank percentiles against a reference over the
same samples, two workers' publications merged, the time window."""

from __future__ import annotations

import math
import random

from omniroute.telemetry.rings import Ring, Rings, newest, percentiles, summarize


def reference(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered) / 100) - 1)]


def test_a_ring_keeps_the_last_n_samples_in_preallocated_columns() -> None:
    ring = Ring(4)
    columns = (ring.ts, ring.latency, ring.overhead, ring.ttft)
    for i in range(10):
        ring.add(float(i), float(i) * 10, 1.0, None)
    assert all(c is d for c, d in zip(columns, (ring.ts, ring.latency, ring.overhead, ring.ttft), strict=True))
    assert sorted(ring.latency) == [60.0, 70.0, 80.0, 90.0] and ring.n == 10
    assert newest(ring.encode()) == 9.0


def test_percentiles_equal_a_reference_computation() -> None:
    rng = random.Random(7)
    for n in (1, 2, 3, 10, 99, 100, 101, 1000):
        values = [round(rng.lognormvariate(1, 1), 3) for _ in range(n)]
        got = percentiles(list(values))
        assert got["count"] == n
        for p in (50, 95, 99):
            assert got[f"p{p}"] == reference(values, p)
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None, "count": 0}


def test_two_workers_merge_within_the_window() -> None:
    now = 10_000.0
    rng = random.Random(3)
    workers = [Rings(256), Rings(256)]
    samples: dict[str, list[float]] = {"openai": [], "anthropic": []}
    for i in range(300):
        w = workers[i % 2]
        provider = "openai" if i % 3 else "anthropic"
        latency = round(rng.uniform(1, 100), 3)
        ts = now - 50 + i * 0.1
        w.add(ts, latency, latency / 10, latency / 2 if i % 4 == 0 else None, provider, f"{provider}/m", None)
        samples[provider].append((ts, latency))
    published = [(kind, name, raw) for w in workers for (kind, name), raw in w.publish().items()]
    assert all(not w.dirty for w in workers)
    summary = summarize(published, now, 300)
    # each worker kept its last 256 samples of "all"; per provider fewer than 256 each: all kept
    for provider, kept in samples.items():
        values = [lat for _ts, lat in kept]
        assert summary["providers"][provider]["count"] == len(values)
        for p in (50, 95, 99):
            assert summary["providers"][provider][f"p{p}"] == reference(values, p)
    assert summary["latency"]["count"] == 300
    assert summary["ttft"]["count"] == 75 and summary["combos"] == {}
    narrow = summarize(published, now, 10)  # the last 10 s: samples from now-10 on
    assert narrow["latency"]["count"] == sum(1 for k in samples.values() for ts, _ in k if ts >= now - 10)


def test_a_full_ring_gives_its_newest_samples() -> None:
    worker = Rings(64)
    for i in range(200):
        worker.add(1000.0 + i, float(i), 0.0, None, "p", "p/m", "combo")
    summary = summarize([(k, n, raw) for (k, n), raw in worker.publish().items()], 1200.0, 300)
    newest_64 = [float(i) for i in range(136, 200)]
    combo = summary["combos"]["combo"]
    assert {k: combo[k] for k in ("p50", "p95", "p99", "count")} == percentiles(newest_64)
    assert combo["overhead"]["count"] == 64 and combo["ttft"]["count"] == 0
