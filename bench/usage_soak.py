"""End-to-end soak: a real gateway (default workers, recording on) under wrk until
``--requests`` requests were answered, with a retention bound, sampling the usage store.

    python bench/usage_soak.py [--requests 1000000] [--bound 100000] [--conns 32]

Starts the nginx mock and ``omniroute serve``, sets ``maxRecords`` to ``--bound``, then runs
wrk in 20-second rounds (non-streaming OpenAI Chat, pass-through) until the gateway answered
``--requests``. After each round it reads the usage environment directly (a read-only LMDB
reader beside the gateway): records kept, the data file's size, and the requests counted by
the hourly rollups. It checks at the end that every answered request was counted (wrk leaves up to one
request per connection uncounted when a round stops; the gateway answers and records it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx
import lmdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from overhead import MODES, wired_gateway, wrk  # noqa: E402


def store_state(path: Path) -> tuple[int, int]:
    """(records kept, data file bytes), read beside the running gateway."""
    env = lmdb.open(str(path), readonly=True, lock=True, max_dbs=16, subdir=True)
    try:
        with env.begin() as txn:
            records = txn.stat(env.open_db(b"records", txn=txn, create=False))["entries"]
    finally:
        env.close()
    return records, os.path.getsize(path / "data.mdb")


def counted(url: str) -> int:
    history = httpx.get(url + "/api/usage/history", params={"bucket": "day"}, timeout=30).json()
    return sum(b["requests"] for b in history["buckets"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--bound", type=int, default=100_000)
    parser.add_argument("--conns", type=int, default=32)
    args = parser.parse_args()
    with wired_gateway("omniroute-usage-soak-", grace=30) as (work, url):
        httpx.put(url + "/api/usage/retention", json={"maxRecords": args.bound}).raise_for_status()
        soak(args, work, url)


def soak(args: argparse.Namespace, work: Path, url: str) -> None:
    prefix, _path, gateway_path, body = MODES["nonstream"]
    body_file = work / "body.json"
    body_file.write_text(json.dumps({"model": f"{prefix}/gpt-4o-mini", **body}))
    answered, worst, rounds, began = 0, 0, 0, time.time()
    print(f"| answered | records kept (bound {args.bound:,}) | data file MiB | req/s |\n|---:|---:|---:|---:|")
    while answered < args.requests:
        run = wrk(url + gateway_path, body_file, args.conns, 20, work / "r.json")
        answered += int(run["requests"])
        rounds += 1
        time.sleep(0.3)  # the last flush
        kept, size = store_state(work / "gw" / "usage")
        worst = max(worst, kept)
        print(f"| {answered:,} | {kept:,} | {size / 2**20:.0f} | {run['rps']:.0f} |", flush=True)
    time.sleep(1.5)
    total = counted(url)
    print(f"\n{answered:,} requests in {time.time() - began:.0f} s; counted by the rollups: {total:,}; "
          f"most records kept at a sample: {worst:,}")
    # wrk does not count the requests in flight when it stops: up to one per connection a round
    assert answered <= total <= answered + args.conns * rounds, f"{total} counted for {answered} answered"


if __name__ == "__main__":
    main()
