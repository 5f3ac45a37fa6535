"""The usage store at scale: queries over a million records, and a million-record soak under a
retention bound — on the real write path (``Batch`` → ``UsageDB.write``) and real LMDB.

    python bench/usage_store.py [--records 1000000] [--soak 1000000] [--bound 100000]

1. Writes ``--records`` records spread over 30 days (20 keys, 5 providers with 2 accounts
   each, 10 models, 3 combos, 1 in 20 failed) in transactions of 1,000, as the recorder
   does, and reports the write rate.
2. Times (best of 5) the management reads over them: ``history`` (hour buckets over the
   default 48 h and over 30 days, day buckets over 30 days, filtered by key, provider, model),
   a first page of ``logs`` (unfiltered, and filtered by a model 1 % of records have), a
   connection's totals; the telemetry ``summary`` over two workers' full rings of every
   series; the ``/metrics`` exposition.
3. Soak: writes ``--soak`` records into a fresh environment with ``maxRecords = --bound``,
   pruning once per 10 transactions (the writer prunes once a second; 10 × 1,000 records a
   second is a 10 k req/s gateway), and reports the record count and the data file's size as
   it goes: both must level off.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omniroute.telemetry import queries
from omniroute.telemetry.aggregate import Batch
from omniroute.telemetry.metrics import exposition
from omniroute.telemetry.prune import prune_records
from omniroute.telemetry.queries import LogFilter
from omniroute.telemetry.records import AttemptRecord, UsageRecord, record_key
from omniroute.telemetry.retention import Retention
from omniroute.telemetry.rings import Rings, summarize
from omniroute.telemetry.usage_db import UsageDB

DAY = 86400
PROVIDERS = ["openai", "anthropic", "gemini", "mistral", "groq"]
MODELS = [f"model-{i}" for i in range(10)]
COMBOS = [None, None, None, "fast", "cheap", "smart"]


def record(rng: random.Random, ts: float) -> UsageRecord:
    provider = rng.choice(PROVIDERS)
    connection = f"conn-{provider}-{rng.randint(1, 2)}"
    model = rng.choice(MODELS)
    failed = rng.random() < 0.05
    latency = rng.lognormvariate(6, 0.8)
    return UsageRecord(
        ts, f"key-{rng.randint(1, 20)}", provider, connection, model, f"{provider}/{model}", 429 if failed else 200,
        "rate_limited" if failed else None, rng.choice(COMBOS), "openai_chat", "openai_chat", "/v1/chat/completions",
        rng.random() < 0.5, rng.randint(100, 4000), rng.randint(10, 800), rng.randint(0, 100), 0, 0,
        rng.random() / 100, latency, latency / 3, latency - 0.3, 0.3, None, "10.0.0.1", "bench",
        [AttemptRecord(provider, connection, model, 429 if failed else 200, None, latency - 0.3)])


def fill(db: UsageDB, n: int, start: float, span: float, prune: Retention | None = None) -> list[tuple[int, int, int]]:
    """Write ``n`` records over ``span`` seconds from ``start``; with ``prune``, prune every
    10 transactions and sample (records written, records kept, data file bytes)."""
    rng = random.Random(11)
    step = span / n
    samples = []
    for first in range(0, n, 1000):
        batch = Batch()
        for i in range(first, min(n, first + 1000)):
            r = record(rng, start + i * step)
            batch.add(record_key(r.ts, 7, i), r)
        db.write(batch)
        if prune is not None and (first // 1000) % 10 == 9:
            prune_records(db, prune, start + (first + 1000) * step)
        if prune is not None and (first + 1000) % (n // 10) == 0:
            samples.append((first + 1000, db.count("records"), os.path.getsize(db.path / "data.mdb")))
    return samples


def best(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return min(times)


def reads(db: UsageDB, now: float) -> list[tuple[str, float]]:
    f = LogFilter()
    rare = LogFilter(model="model-3", key_id="key-4", provider="groq")
    rings = []
    for pid in (1, 2):
        worker = Rings()
        rng = random.Random(pid)
        for i in range(2048 * 3):
            p, m = rng.choice(PROVIDERS), rng.choice(MODELS)
            worker.add(now - 250 + i * 0.04, rng.random() * 900, rng.random(), rng.random() * 300, p, f"{p}/{m}",
                       rng.choice(COMBOS))
        rings += [(k, n, raw) for (k, n), raw in worker.publish().items()]
    return [
        ("history, hour buckets, last 48 h", best(lambda: queries.history(db, "hour", now - 2 * DAY, now, f))),
        ("history, hour buckets, 30 days", best(lambda: queries.history(db, "hour", now - 30 * DAY, now, f))),
        ("history, day buckets, 30 days", best(lambda: queries.history(db, "day", now - 30 * DAY, now, f))),
        ("history, day buckets, 30 days, key+provider+model", best(
            lambda: queries.history(db, "day", now - 30 * DAY, now, LogFilter("key-3", "openai", "model-1")))),
        ("logs, first page of 50", best(lambda: queries.page(db, f, None, 50))),
        ("logs, 50 matching a 0.1 % filter", best(lambda: queries.page(db, rare, None, 50), runs=3)),
        ("connection totals", best(lambda: queries.account(db, "conn-openai-1"))),
        (f"telemetry summary ({len(rings)} series × 2048 samples)", best(lambda: summarize(rings, now, 300))),
        ("/metrics exposition", best(lambda: exposition(db.metrics(), {}))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--soak", type=int, default=1_000_000)
    parser.add_argument("--bound", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omniroute-usage-store-"))
    now = time.time()
    db = UsageDB(work / "big")
    began = time.perf_counter()
    fill(db, args.records, now - 30 * DAY, 30 * DAY)
    took = time.perf_counter() - began
    print(f"wrote {args.records:,} records in {took:.1f} s ({args.records / took:,.0f} records/s, "
          f"{os.path.getsize(work / 'big' / 'data.mdb') / 2**20:.0f} MiB)")
    print(f"\n| read over {db.count('records'):,} records | ms |\n|---|---:|")
    for name, ms in reads(db, now):
        print(f"| {name} | {ms:.1f} |")
    db.close()
    soak = UsageDB(work / "soak")
    samples = fill(soak, args.soak, now - args.soak / 10_000, args.soak / 10_000, Retention(max_records=args.bound))
    print(f"\n| soak: written | records kept (bound {args.bound:,}) | data file MiB |\n|---:|---:|---:|")
    for written, kept, size in samples:
        print(f"| {written:,} | {kept:,} | {size / 2**20:.0f} |")
    soak.close()


if __name__ == "__main__":
    main()
