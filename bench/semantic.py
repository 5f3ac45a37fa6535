"""Semantic cache figures: lookup time at 100k prompts, and what embedding costs other requests.

    python bench/semantic.py lookup [--entries 100000] [--queries 2000]
    python bench/semantic.py load [--duration 8] [--conns 16] [--embedders 2] [--rounds 3]

``lookup`` fills a fresh cache environment (LMDB) with ``--entries`` prompts — random unit
vectors of MiniLM's 384 dimensions, half of them in 10 large exact parts (an app's one system
prompt: hnswlib graphs), half spread ten by ten over small ones (conversations: flat), each
with a stored answer —
builds the hnswlib index from it as a worker does at start-up, then times what a lookup does
after the embedding: the nearest neighbour with the same exact part, the prompt's record, the
answer (``index.nearest`` + ``index.answer_of`` + ``exact.get``). Embedding is excluded.

``load`` starts the nginx mock and a gateway (one worker per core) with the semantic cache on,
then measures with wrk the p99 of requests the cache does not take (``temperature`` 0.2,
pass-through) in three phases, ``--rounds`` times each, interleaved, medians reported:
``alone``; ``exact``: while ``--embedders`` client threads send deterministic requests with a
new question each, the semantic cache off (what that side traffic costs by itself);
``semantic``: the same side traffic with the semantic cache on (every question embedded by
MiniLM, looked up and stored). The issue's bound compares ``semantic`` with ``exact``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from overhead import REQUEST, wired_gateway, wrk  # noqa: E402


def lookup(args: argparse.Namespace) -> dict:
    import numpy as np

    from omniroute.cache.config import effective
    from omniroute.cache.db import CacheDB, Prompt
    from omniroute.cache.exact import ExactCache
    from omniroute.cache.vectors import SemanticIndex
    from omniroute.canonical import Response, StopReason, TextBlock

    work = Path(tempfile.mkdtemp(prefix="omniroute-semantic-"))
    try:
        db = CacheDB(work)
        exact = ExactCache(db, effective({"exact": {"maxEntries": args.entries * 2}}).exact)
        rng = np.random.default_rng(7)
        vectors = rng.standard_normal((args.entries, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index = SemanticIndex(db, "local", db.counter("generation"))
        answer = Response(id="r", model="m", content=[TextBlock("cached")], stop_reason=StopReason.END_TURN)
        began = time.perf_counter()
        for start in range(0, args.entries, 5000):
            with db.write() as txn:
                for i in range(start, min(start + 5000, args.entries)):
                    key = i.to_bytes(16, "little")
                    exact.put(key, answer, time.time() + 3600, txn)
                    prompt = Prompt(part_of(i, args.entries), key, time.time() + 3600, vectors[i].tobytes(), "local")
                    index.store(txn, prompt, args.entries)
        filled = time.perf_counter() - began
        began = time.perf_counter()
        index.build(384)
        built = time.perf_counter() - began
        times = []
        for q in range(args.queries):
            i = random.randrange(args.entries)
            probe = vectors[i] + rng.standard_normal(384).astype(np.float32) * 0.01
            t = time.perf_counter()
            found = index.nearest(probe, part_of(i, args.entries))
            key = index.answer_of(found[0], time.time()) if found else None
            hit = exact.get(key, time.time()) if key else None
            times.append(time.perf_counter() - t)
            assert hit is not None, (q, found)
        times.sort()
        ms = [round(t * 1000, 3) for t in (times[len(times) // 2], times[int(len(times) * 0.99)], times[-1])]
        kinds = {g.kind for g in index.groups.values()}
        return {"entries": args.entries, "parts": len(index.groups), "kinds": sorted(kinds),
                "fill_s": round(filled, 1), "build_s": round(built, 1),
                "p50_ms": ms[0], "p99_ms": ms[1], "max_ms": ms[2]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def part_of(i: int, entries: int) -> int:
    return i % 10 if i < entries // 2 else 100 + i % (entries // 20)


def load(args: argparse.Namespace) -> dict:
    with wired_gateway("omniroute-semload-") as (work, url):
        httpx.put(url + "/api/cache/config", json={"semantic": {"enabled": True}}).raise_for_status()
        for i in range(8):  # both workers load the model before anything is measured
            post(url, f"warm-up question {i} about proxies?", 0)
        body = work / "bypass.json"
        body.write_text(json.dumps({"model": "mock/gpt-4o-mini", **REQUEST, "stream": False}))
        wrk(url + "/v1/chat/completions", body, args.conns, 2, work / "warm.json")
        phases = {"alone": None, "exact": False, "semantic": True}  # side traffic: none / semantic off / on
        rounds: dict[str, list[dict]] = {name: [] for name in phases}
        embedded = [0]
        for _ in range(args.rounds):  # interleaved: the machine's own load drifts between runs
            for name, semantic in phases.items():
                rounds[name].append(phase(url, body, work, args, semantic, embedded))
        out = {"conns": args.conns, "side_threads": args.embedders, "rounds": args.rounds,
               "side_requests_per_s": round(embedded[0] / (args.duration * args.rounds * 2), 1)}
        for name, runs in rounds.items():
            for field in ("p50_us", "p99_us", "rps"):
                values = sorted(r[field] for r in runs)
                scale = 1000 if field.endswith("_us") else 1
                out[f"{field.removesuffix('_us')}_{name}"] = round(values[len(values) // 2] / scale, 3)
        out["p99_semantic_over_exact"] = round(out["p99_semantic"] / out["p99_exact"], 2)
        out["p99_semantic_over_alone"] = round(out["p99_semantic"] / out["p99_alone"], 2)
        return out


def phase(url: str, body: Path, work: Path, args: argparse.Namespace, semantic: bool | None,
          embedded: list[int]) -> dict:
    """One wrk run; with side traffic (``semantic`` on or off) unless ``semantic`` is None."""
    if semantic is None:
        return wrk(url + "/v1/chat/completions", body, args.conns, args.duration, work / "r.json")
    httpx.put(url + "/api/cache/config", json={"semantic": {"enabled": semantic}}).raise_for_status()
    stop = threading.Event()
    threads = [threading.Thread(target=embed_loop, args=(url, stop, embedded, t)) for t in range(args.embedders)]
    for t in threads:
        t.start()
    try:
        return wrk(url + "/v1/chat/completions", body, args.conns, args.duration, work / "r.json")
    finally:
        stop.set()
        for t in threads:
            t.join()


def post(url: str, question: str, temperature: float) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=60, json={
        "model": "mock/gpt-4o-mini", "temperature": temperature, "messages": [{"role": "user", "content": question}]})


def embed_loop(url: str, stop: threading.Event, count: list[int], tid: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        post(url, f"How would thread {tid} route request number {n} of {random.random()}?", 0)
        count[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("lookup")
    one.add_argument("--entries", type=int, default=100_000)
    one.add_argument("--queries", type=int, default=2000)
    two = sub.add_parser("load")
    two.add_argument("--duration", type=int, default=8)
    two.add_argument("--conns", type=int, default=16)
    two.add_argument("--embedders", type=int, default=2)
    two.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(lookup(args) if args.what == "lookup" else load(args), indent=1))


if __name__ == "__main__":
    main()
