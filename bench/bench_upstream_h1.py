"""Upstream client cost: ``H1Pool`` vs aiohttp ``ClientSession`` vs a raw-socket floor, and the
response parser alone — optionally against the client of an older revision, in the same run.

Parser (first): ``ResponseParser`` fed whole responses in memory (start + feed + take), best
of ``--rounds`` interleaved repeats, the garbage collector off as in ``timeit``: the mock's own
answer (captured from it), the same body under a head the size of a real provider's (18
headers), and the mock's SSE answer (23 events) chunked, one chunk per read.

Round trip: sequential POSTs to a local nginx mock (``mock_upstream.py``, started here unless
``--url`` names one), after a warm-up, many short interleaved rounds; prints the median wall
µs and client-process CPU µs per request, and for two pools the median of their per-round
differences (the shared machine drifts by tens of µs between rounds, neighbouring rounds much
less). The floor writes pre-built request bytes on a bare ``asyncio.Protocol`` and waits for
the known response length: it is the server + kernel + loop cost no client can go below, so
``client − floor`` is the client's own overhead.

``--ref REV`` loads ``omniroute/upstream_h1.py`` and ``upstream_h1_parser.py`` as they were at
``REV`` (the hand-written parser, before httptools) from git into a temp dir and measures that
pool and parser beside this tree's, interleaved: ``git show`` only, the working tree is not
touched.

    python bench/bench_upstream_h1.py [--url URL] [-n 1000] [--rounds 20] [--loop uvloop|asyncio]
                                      [--ref REV]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from omniroute.upstream import H1Pool
from omniroute.upstream.parser import ResponseParser

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mock_upstream import start_nginx, stream_body  # noqa: E402

BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false}'
HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-test"}
Factory = Callable[[str], Awaitable[tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]]]


class _Floor(asyncio.Protocol):
    """Bare protocol: counts bytes until the expected response length arrived."""

    def __init__(self) -> None:
        self.need = 0
        self.waiter: asyncio.Future[None] | None = None
        self.seen = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if len(self.seen) < 65536:
            self.seen += data
        self.need -= len(data)
        if self.need <= 0 and self.waiter is not None:
            self.waiter.set_result(None)
            self.waiter = None


async def floor_factory(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    proto, size, payload = await _floor_connect(url)
    loop = asyncio.get_running_loop()

    async def one() -> None:
        proto.need = size
        proto.waiter = loop.create_future()
        proto.transport.write(payload)
        await proto.waiter

    async def close() -> None:
        proto.transport.close()

    return one, close


async def _floor_connect(url: str) -> tuple[_Floor, int, bytes]:
    """A bare connection that has sent one request; the response length it learnt."""
    parts = urlsplit(url)
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(BODY)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()) + "\r\n"
    payload = head.encode() + BODY
    _, proto = await asyncio.get_running_loop().create_connection(_Floor, parts.hostname, parts.port)
    proto.need = 1 << 30
    proto.transport.write(payload)  # learn the response length once
    await asyncio.sleep(0.2)
    return proto, (1 << 30) - proto.need, payload


def pool_factory(pool_class: type[Any]) -> Factory:
    async def factory(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
        pool = pool_class(connect_timeout=5, read_timeout=30)

        async def one() -> None:
            resp = await pool.request("POST", url, HEADERS, BODY)
            await resp.read()

        return one, pool.close

    return factory


async def aiohttp_factory(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=512),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )

    async def one() -> None:
        async with session.post(url, data=BODY, headers=HEADERS) as resp:
            await resp.read()

    return one, session.close


async def run_one(factory: Factory, url: str, n: int, warmup: int) -> tuple[float, float]:
    one, close = await factory(url)
    for _ in range(warmup):
        await one()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        await one()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    await close()
    return wall / n * 1e6, cpu / n * 1e6


async def round_trips(args: argparse.Namespace, factories: dict[str, Factory]) -> None:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in factories}
    names = list(factories)
    for i in range(args.rounds):
        for name in names if i % 2 == 0 else names[::-1]:  # no client always runs first or last
            results[name].append(await run_one(factories[name], args.url, args.n, args.warmup))
    print(f"round trip: url={args.url} n={args.n} warmup={args.warmup} rounds={args.rounds} loop={args.loop}")
    floor = statistics.median(w for w, _ in results["floor"])
    for name, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        print(f"  {name:18s} wall {wall:7.1f} µs/req  (over floor {wall - floor:6.1f})  client CPU {cpu:6.1f} µs/req")
    pools = [name for name in results if name.startswith("h1pool")]
    for other in pools[1:]:  # paired by round: the machine's drift cancels out
        print(f"  {pools[0]} − {other}, per round: " + paired(results[pools[0]], results[other]))


def paired(rows: list[tuple[float, float]], other: list[tuple[float, float]]) -> str:
    """Median and quartiles of the per-round differences, wall and CPU."""
    out = []
    for i, what in ((0, "wall"), (1, "CPU")):
        diffs = sorted(a[i] - b[i] for a, b in zip(rows, other, strict=True))
        q1, med, q3 = statistics.quantiles(diffs, n=4) if len(diffs) > 1 else (diffs[0],) * 3
        out.append(f"{what} {med:+.1f} µs/req (quartiles {q1:+.1f} .. {q3:+.1f})")
    return ", ".join(out)


# -- the parser alone -------------------------------------------------------------------------

PROVIDER_HEAD = (
    "HTTP/1.1 200 OK\r\nDate: Tue, 26 Nov 2026 10:00:00 GMT\r\nContent-Type: application/json\r\n"
    "Content-Length: {n}\r\nConnection: keep-alive\r\naccess-control-expose-headers: X-Request-ID\r\n"
    "openai-organization: user-abc123\r\nopenai-processing-ms: 412\r\nopenai-version: 2020-10-01\r\n"
    "x-ratelimit-limit-requests: 10000\r\nx-ratelimit-limit-tokens: 30000000\r\n"
    "x-ratelimit-remaining-requests: 9999\r\nx-ratelimit-remaining-tokens: 29999744\r\n"
    "x-ratelimit-reset-requests: 6ms\r\nx-ratelimit-reset-tokens: 0s\r\nx-request-id: req_0123456789abcdef\r\n"
    "strict-transport-security: max-age=31536000; includeSubDomains; preload\r\n"
    "cf-cache-status: DYNAMIC\r\nServer: cloudflare\r\n\r\n"
)


def parser_cases(mock_answer: bytes) -> dict[str, list[bytes]]:
    """Name → the reads of one response."""
    body = mock_answer.split(b"\r\n\r\n", 1)[1]
    events = [e + b"\n\n" for e in stream_body().split(b"\n\n") if e]
    chunks = [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
    sse_head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    return {
        "mock JSON, 1 read": [mock_answer],
        "18-header JSON, 1 read": [PROVIDER_HEAD.format(n=len(body)).encode() + body],
        f"SSE {len(events)} chunks, 1/read": [sse_head, *chunks, b"0\r\n\r\n"],
    }


def parser_cost(parser_class: type[Any], reads: list[bytes], n: int) -> float:
    """µs per response: start, feed every read, take the body; the connection's parser reused."""
    parser = parser_class()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            parser.start(False)
            for data in reads:
                parser.feed(data)
                parser.take()
            assert parser.complete and not parser.extra
        return (time.perf_counter() - t0) / n * 1e6
    finally:
        gc.enable()


def parser_table(parsers: dict[str, type[Any]], mock_answer: bytes, rounds: int) -> None:
    print(f"parser alone: µs per response, best of {rounds} interleaved repeats")
    width = max(12, *(len(name) + 2 for name in parsers))
    print(f"  {'response':28s}" + "".join(f"{name:>{width}s}" for name in parsers))
    for case, reads in parser_cases(mock_answer).items():
        n = 20_000 if len(reads) == 1 else 2_000
        best = dict.fromkeys(parsers, float("inf"))
        for _ in range(rounds):
            for name, cls in parsers.items():
                best[name] = min(best[name], parser_cost(cls, reads, n))
        print(f"  {case:28s}" + "".join(f"{best[name]:{width}.2f}" for name in parsers))


# -- set-up -----------------------------------------------------------------------------------


def load_reference(rev: str) -> tuple[type[Any], type[Any]]:
    """``H1Pool`` and ``ResponseParser`` as they were at ``rev``, loaded from ``git show`` under
    the module names they had then (names this tree no longer has)."""
    modules = {}
    with tempfile.TemporaryDirectory(prefix="omniroute-ref-") as tmp:
        for name in ("upstream_h1_parser", "upstream_h1"):  # the parser first: the pool imports it
            source = subprocess.run(["git", "show", f"{rev}:omniroute/{name}.py"], cwd=HERE.parent,
                                    check=True, capture_output=True).stdout
            path = Path(tmp) / f"{name}.py"
            path.write_bytes(source)
            spec = importlib.util.spec_from_file_location(f"omniroute.{name}", path)
            assert spec is not None and spec.loader is not None
            module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules[name] = module
    return modules["upstream_h1"].H1Pool, modules["upstream_h1_parser"].ResponseParser


async def main(args: argparse.Namespace) -> None:
    pools: dict[str, type[Any]] = {"h1pool (httptools)": H1Pool}
    parsers: dict[str, type[Any]] = {"httptools": ResponseParser}
    if args.ref:
        ref_pool, ref_parser = load_reference(args.ref)
        pools[f"h1pool@{args.ref}"] = ref_pool
        parsers[f"hand-written@{args.ref}"] = ref_parser
    factories: dict[str, Factory] = {"floor": floor_factory}
    factories |= {name: pool_factory(cls) for name, cls in pools.items()}
    factories["aiohttp"] = aiohttp_factory
    proto, _, _ = await _floor_connect(args.url)
    mock_answer = bytes(proto.seen)
    proto.transport.close()
    parser_table(parsers, mock_answer, args.rounds)
    await round_trips(args, factories)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: argparse.Namespace) -> None:
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running mock (default: start the nginx mock on a free port)")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--ref", help="also measure the client of this git revision (hand-written parser)")
    ns = parser.parse_args()
    if ns.url:
        run(ns)
        sys.exit()
    work = Path(tempfile.mkdtemp(prefix="omniroute-bench-"))
    work.chmod(0o755)  # nginx workers run unprivileged
    port = free_port()
    nginx = start_nginx(work / "nginx", port)
    ns.url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        time.sleep(0.5)
        run(ns)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)
