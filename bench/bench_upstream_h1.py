"""Upstream client cost: ``H1Pool`` vs aiohttp ``ClientSession`` vs a raw-socket floor.

Sequential POSTs to a local mock (default: the nginx mock on 127.0.0.1:18080), after a
warm-up, several interleaved rounds; prints wall µs and client-process CPU µs per request.
The floor writes pre-built request bytes on a bare ``asyncio.Protocol`` and waits for the
known response length: it is the server + kernel + loop cost no client can go below, so
``client − floor`` is the client's own overhead.

    python bench/bench_upstream_h1.py [--url URL] [-n 3000] [--rounds 5] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from omniroute.upstream_h1 import H1Pool

BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false}'
HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-test"}


class _Floor(asyncio.Protocol):
    """Bare protocol: counts bytes until the expected response length arrived."""

    def __init__(self) -> None:
        self.need = 0
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.need -= len(data)
        if self.need <= 0 and self.waiter is not None:
            self.waiter.set_result(None)
            self.waiter = None


async def floor_factory(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    parts = urlsplit(url)
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(BODY)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()) + "\r\n"
    payload = head.encode() + BODY
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(_Floor, parts.hostname, parts.port)
    proto.need = 1 << 30
    proto.transport.write(payload)  # learn the response length once
    await asyncio.sleep(0.2)
    size = (1 << 30) - proto.need

    async def one() -> None:
        proto.need = size
        proto.waiter = loop.create_future()
        proto.transport.write(payload)
        await proto.waiter

    async def close() -> None:
        proto.transport.close()

    return one, close


async def h1_factory(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    pool = H1Pool(connect_timeout=5, read_timeout=30)

    async def one() -> None:
        resp = await pool.request("POST", url, HEADERS, BODY)
        await resp.read()

    return one, pool.close


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


FACTORIES = {"floor": floor_factory, "h1pool": h1_factory, "aiohttp": aiohttp_factory}


async def run_one(name: str, url: str, n: int, warmup: int) -> tuple[float, float]:
    one, close = await FACTORIES[name](url)
    for _ in range(warmup):
        await one()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        await one()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    await close()
    return wall / n * 1e6, cpu / n * 1e6


async def main(args: argparse.Namespace) -> None:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in FACTORIES}
    for _ in range(args.rounds):
        for name in FACTORIES:
            results[name].append(await run_one(name, args.url, args.n, args.warmup))
    print(f"url={args.url} n={args.n} warmup={args.warmup} rounds={args.rounds} loop={args.loop}")
    floor = statistics.median(w for w, _ in results["floor"])
    for name, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        print(f"{name:8s} wall {wall:7.1f} µs/req  (over floor {wall - floor:6.1f})  client CPU {cpu:6.1f} µs/req")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:18080/v1/chat/completions")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    ns = parser.parse_args()
    if ns.loop == "uvloop":
        import uvloop

        uvloop.run(main(ns))
    else:
        asyncio.run(main(ns))
