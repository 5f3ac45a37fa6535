"""What usage recording costs per request, in-process, on the real code.

    python bench/usage_record.py [--n 50000]

Measures, in µs per request (best of 5 runs of ``--n``):

* ``request path``: what a request does for recording — queue the finished request
  (``UsageRecorder.add``) and the in-flight insert/delete around it; plus, for an OpenAI Chat
  stream, asking the upstream for usage (``ask_for_usage`` on the bench's ~900-byte body) and
  the usage-chunk check on every forwarded frame (22 frames);
* ``off path``: building one record (usage read from the answer's bytes, cost, times) and
  folding it into a flush batch, then the batch's share of one LMDB write transaction;
* ``usage read`` vs ``assembled``: reading usage from the answer's bytes (``formats.usage``)
  against assembling the whole answer as a ``needs_answer`` post-hook gets it
  (``pipeline.collect_answer``), for the bench's JSON answer and its 22-frame stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from mock_upstream import completion_body, stream_body  # noqa: E402
from overhead import REQUEST  # noqa: E402

from omniroute.context import Attempt, RequestContext  # noqa: E402
from omniroute.formats import openai_chat  # noqa: E402
from omniroute.formats.usage import ask_for_usage, strip_usage_chunks, usage_of  # noqa: E402
from omniroute.pipeline import collect_answer  # noqa: E402
from omniroute.providers.pricing import Pricing  # noqa: E402
from omniroute.store import Store  # noqa: E402
from omniroute.telemetry.aggregate import Batch  # noqa: E402
from omniroute.telemetry.usage_db import UsageDB  # noqa: E402
from omniroute.usage import UsageRecorder  # noqa: E402

SCOPE = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "query_string": b"",
         "client": ("127.0.0.1", 50000),
         "headers": [(b"host", b"127.0.0.1:20128"), (b"user-agent", b"wrk"), (b"content-type", b"application/json"),
                     (b"content-length", b"900")]}


class _Target:
    provider, connection_id = "node-bench", "conn-bench"


class _Registry:
    pricing = Pricing({})


def finished(stream: bool) -> RequestContext:
    """A context as the pipeline leaves a served pass-through request."""
    ctx = RequestContext(time.perf_counter() - 0.002, "openai_chat")
    ctx.client, ctx.model, ctx.stream = openai_chat, "mock/gpt-4o-mini", stream
    ctx.body = json.dumps({"model": "mock/gpt-4o-mini", **REQUEST, "stream": stream}).encode()
    ctx.attempts.append(Attempt("node-bench", "conn-bench", "gpt-4o-mini", 200, None, 1.2))
    ctx.served, ctx.upstream_format, ctx.status = _Target(), "openai_chat", 200  # type: ignore[assignment]
    ctx.upstream_began, ctx.upstream_ended = ctx.started + 0.0002, ctx.started + 0.0018
    if stream:
        body = stream_body()
        ctx.captured = [body[i : i + 300] for i in range(0, len(body), 300)]
        ctx.first_byte = ctx.started + 0.0009
    else:
        ctx.captured = [completion_body()]
    return ctx


def repeat(fn, arg, k: int) -> None:
    for _ in range(k):
        fn(arg)


def best(fn, n: int, runs: int = 5) -> float:
    """Best µs per call over ``runs`` runs of ``n`` calls."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn(n)
        times.append((time.perf_counter() - began) / n * 1e6)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    n = parser.parse_args().n
    work = Path(tempfile.mkdtemp(prefix="omniroute-usage-bench-"))
    store, db = Store(work), UsageDB(work / "usage", map_size=1 << 32)
    rec = UsageRecorder(db, _Registry(), store)  # type: ignore[arg-type]
    rows: list[tuple[str, float]] = []
    plain, streamed = finished(False), finished(True)

    def request_path(k: int) -> None:
        inflight, add, pending = rec.inflight, rec.add, rec.pending
        for _ in range(k):
            inflight[plain] = SCOPE
            del inflight[plain]
            add(plain, SCOPE)
        pending.clear()

    rows.append(("request path: queue + in-flight", best(request_path, n)))
    body = json.dumps({"model": "mock/gpt-4o-mini", **REQUEST, "stream": True}).encode()
    rows.append(("request path: ask_for_usage (stream)", best(lambda k: repeat(ask_for_usage, body, k), n)))
    frames = [f + b"\n\n" for f in stream_body().split(b"\n\n") if f]

    def check(k: int) -> None:  # as relay.relay_stream does it
        for _ in range(k):
            for frame in frames:
                if b"[]" in frame:
                    strip_usage_chunks(frame)

    rows.append(("request path: usage-chunk check, 22 frames", best(check, n // 10)))

    for name, ctx in (("json", plain), ("stream", streamed)):
        def read(k: int, c: RequestContext = ctx) -> None:
            for _ in range(k):
                usage_of(c.upstream_format, c.stream, c.captured)

        rows.append((f"usage read from bytes ({name})", best(read, n)))

        def assemble(k: int, c: RequestContext = ctx) -> None:
            for _ in range(k):
                c.response = None
                collect_answer(c)
            c.response = None

        rows.append((f"answer assembled, needs_answer ({name})", best(assemble, n // 5)))

        def fold(k: int, c: RequestContext = ctx) -> None:
            batch = Batch()
            now, wall = time.perf_counter(), time.time()
            for _ in range(k):
                rec._fold(batch, c, SCOPE, now, wall, None)

        rows.append((f"off path: record built + folded ({name})", best(fold, n)))

    def write(k: int) -> None:
        now, wall = time.perf_counter(), time.time()
        for _ in range(0, k, 1000):
            batch = Batch()
            for _ in range(1000):
                rec._fold(batch, plain, SCOPE, now, wall, None)
            db.write(batch)

    fold_only = min(r for name, r in rows if name == "off path: record built + folded (json)")
    rows.append(("off path: + LMDB write, 1000 a transaction", best(write, 20_000, runs=3)))
    rows.append(("   of which the write transaction", rows[-1][1] - fold_only))
    asyncio.run(rec.close())
    db.close()
    store.close()
    print("| step | µs per request |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.2f} |")


if __name__ == "__main__":
    main()
