"""``omniroute.upstream_h1``: real servers on 127.0.0.1 port 0, on both asyncio and uvloop.

aiohttp.web servers play well-behaved upstreams; raw ``asyncio.start_server`` handlers play
misbehaving ones (split writes, drops, stalls, malformed heads).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvloop
from aiohttp import web

from omniroute.errors import ErrorKind
from omniroute.transport import map_exception
from omniroute.upstream_h1 import (
    HIGH_WATER,
    H1ConnectError,
    H1Pool,
    H1ProtocolError,
    H1TimeoutError,
)
from omniroute.upstream_h1_parser import ParseError, ResponseParser
from tests.support.blackhole import hanging_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Awaitable[Any]], Any]:
    """Run a coroutine to completion on the chosen loop, failing after 10 s."""

    def _run(coro: Awaitable[Any]) -> Any:
        async def bounded() -> Any:
            async with asyncio.timeout(10):
                return await coro

        return uvloop.run(bounded()) if request.param == "uvloop" else asyncio.run(bounded())

    return _run


def make_pool(**kw: Any) -> H1Pool:
    return H1Pool(connect_timeout=kw.pop("connect_timeout", 2), read_timeout=kw.pop("read_timeout", 2), **kw)


@asynccontextmanager
async def web_server(routes: list[web.RouteDef]) -> AsyncIterator[str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    writers: set[asyncio.StreamWriter] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await asyncio.sleep(0.01)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request (head + Content-Length body); b"" at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


async def send_slowly(writer: asyncio.StreamWriter, pieces: list[bytes], gap: float = 0.02) -> None:
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(gap)


def scripted(*pieces: bytes, close: bool = True, gap: float = 0.02) -> Handler:
    """A server answering each connection's first request with ``pieces``, written apart."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await send_slowly(writer, list(pieces), gap)
        if close:
            writer.close()
        else:
            await reader.read()

    return handler


async def post(pool: H1Pool, url: str, body: bytes = b"{}") -> tuple[int, bytes]:
    resp = await pool.request("POST", url, {"content-type": "application/json"}, body)
    return resp.status, await resp.read()


# -- well-behaved servers -------------------------------------------------------------------


def test_content_length_body_and_headers(run: Any) -> None:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        resp = web.Response(body=body[::-1], status=201, headers={"X-Auth": request.headers["Authorization"]})
        resp.headers.add("X-Multi", "a")
        resp.headers.add("X-Multi", "b")
        return resp

    async def main() -> None:
        async with web_server([web.post("/v1/echo", echo)]) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/v1/echo?x=1", {"Authorization": "Bearer k"}, b"hello")
            assert resp.status == 201
            assert resp.headers["x-auth"] == "Bearer k"
            assert resp.headers["x-multi"] == "a, b"
            assert resp.headers["content-length"] == "5"
            assert await resp.read() == b"olleh"
            await pool.close()

    run(main())


def test_keep_alive_reuses_one_server_connection(run: Any) -> None:
    async def port(request: web.Request) -> web.Response:
        return web.Response(text=str(request.transport.get_extra_info("peername")[1]))  # type: ignore[union-attr]

    async def main() -> None:
        async with web_server([web.post("/p", port)]) as base:
            pool = make_pool()
            ports = {(await post(pool, base + "/p"))[1] for _ in range(5)}
            assert len(ports) == 1
            await pool.close()

    run(main())


def test_streaming_pieces_arrive_as_sent(run: Any) -> None:
    """The server sends piece i+1 only after the client has received piece i."""
    received = [asyncio.Event() for _ in range(3)]

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(3):
            await resp.write(f"data: {i}\n\n".encode())
            await asyncio.wait_for(received[i].wait(), 2)
        await resp.write_eof()
        return resp

    async def main() -> None:
        async with web_server([web.post("/s", stream)]) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/s", {}, b"")
            assert resp.headers["transfer-encoding"] == "chunked"
            pieces = []
            async for piece in resp.iter_chunks():
                pieces.append(piece)
                received[len(pieces) - 1].set()
            assert pieces == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]
            await pool.close()

    run(main())


def test_concurrent_requests_within_max_per_host(run: Any) -> None:
    active = peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return web.Response(body=await request.read())

    async def main() -> None:
        async with web_server([web.post("/c", slow)]) as base:
            for limit in (512, 8):
                pool = make_pool(max_per_host=limit)
                bodies = [str(i).encode() for i in range(50)]
                results = await asyncio.gather(*(post(pool, base + "/c", b) for b in bodies))
                assert results == [(200, b) for b in bodies]
                await pool.close()
            assert peak <= 50
        assert peak > 8  # the unlimited round really ran concurrently

    run(main())


def test_max_per_host_is_respected(run: Any) -> None:
    connections: set[int] = set()

    async def count(request: web.Request) -> web.Response:
        connections.add(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        await asyncio.sleep(0.01)
        return web.Response(text="ok")

    async def main() -> None:
        async with web_server([web.post("/c", count)]) as base:
            pool = make_pool(max_per_host=4)
            results = await asyncio.gather(*(post(pool, base + "/c") for _ in range(40)))
            assert results == [(200, b"ok")] * 40
            assert len(connections) == 4
            await pool.close()

    run(main())


def test_flow_control_pauses_and_resumes(run: Any) -> None:
    big = bytes(range(256)) * (4 * 4096)  # 4 MiB

    async def large(request: web.Request) -> web.Response:
        return web.Response(body=big)

    async def main() -> None:
        async with web_server([web.post("/big", large)]) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/big", {}, b"")
            await asyncio.sleep(0.3)
            conn = resp._conn
            assert conn is not None and conn.paused
            assert HIGH_WATER < conn.parser.buffered < 2 * HIGH_WATER
            assert await resp.read() == big
            assert (await post(pool, base + "/big"))[1] == big  # the connection was reusable
            await pool.close()

    run(main())


# -- framing edge cases ---------------------------------------------------------------------

CHUNKED_PIECES = [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"5;ext=",  # split inside the chunk-size line (inside an extension)
    b'"v"\r',  # split inside the CRLF after the size
    b"\nhel",
    b"lo\r",  # split inside the CRLF after the data
    b"\n",
    b"6\r\n caf\xc3",  # split inside a two-byte UTF-8 character
    b"\xa9\r\n1",
    b"0\r\n0123456789ABCDEF\r\n0\r\nX-Trailer: t\r",
    b"\n\r\n",
]


def test_chunked_split_everywhere(run: Any) -> None:
    async def main() -> None:
        async with raw_server(scripted(*CHUNKED_PIECES)) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/", {}, b"")
            pieces = [piece async for piece in resp]
            assert b"".join(pieces) == "hello café0123456789ABCDEF".encode()
            assert pieces[0] == b"hel" and b" caf\xc3" in pieces  # delivered as they came
            await pool.close()

    run(main())


def test_parser_every_two_way_split() -> None:
    raw = b"".join(CHUNKED_PIECES)
    for i in range(1, len(raw)):
        for j in range(i, len(raw)):
            parser = ResponseParser()
            for part in (raw[:i], raw[i:j], raw[j:]):
                parser.feed(part)
            assert parser.complete and not parser.extra, (i, j)
            assert parser.take() == "hello café0123456789ABCDEF".encode(), (i, j)


def test_parser_byte_by_byte_content_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nX-Fold: a\r\n  b\r\n\r\nhello"
    parser = ResponseParser()
    for i in range(len(raw)):
        parser.feed(raw[i : i + 1])
    assert parser.complete and parser.keep_alive
    assert parser.headers == {"content-length": "5", "x-a": "1, 2", "x-fold": "a b"}
    assert parser.take() == b"hello"


def test_bytes_beyond_the_body_are_not_body_and_spoil_reuse(run: Any) -> None:
    handler = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", close=False)

    async def main() -> None:
        async with raw_server(handler) as base:
            pool = make_pool()
            assert await post(pool, base + "/") == (200, b"ok")
            await asyncio.sleep(0.02)
            assert all(not host.conns and not host.idle for host in pool._hosts.values())
            await pool.close()

    run(main())


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 OK\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
)
def test_parser_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        ResponseParser().feed(raw)


def test_interim_1xx_skipped_and_no_body_statuses(run: Any) -> None:
    answers = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",  # answer to HEAD: no body follows
    ]
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            seen.append(await read_request(reader))
            writer.write(answer)
        await reader.read()

    async def main() -> None:
        async with raw_server(handler) as base:
            pool = make_pool()
            assert await post(pool, base + "/a") == (200, b"ok")
            assert await post(pool, base + "/b") == (204, b"")
            assert await post(pool, base + "/c") == (304, b"")
            resp = await pool.request("HEAD", base + "/d", {}, b"")
            assert (resp.status, resp.headers["content-length"], await resp.read()) == (200, "99", b"")
            assert len(seen) == 4 and seen[3].startswith(b"HEAD /d HTTP/1.1\r\n")  # one connection for all
            await pool.close()

    run(main())


def test_read_until_close_is_not_reused(run: Any) -> None:
    handlers = {
        "/10": scripted(b"HTTP/1.0 200 OK\r\n\r\nhel", b"lo"),
        "/close": scripted(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", close=False),
        "/nolen": scripted(b"HTTP/1.1 200 OK\r\n\r\nhel", b"lo"),
    }
    for path, handler in handlers.items():

        async def main(handler: Handler = handler, path: str = path) -> None:
            async with raw_server(handler) as base:
                pool = make_pool()
                assert await post(pool, base + path) == (200, b"hello")
                await asyncio.sleep(0.05)
                assert all(not host.conns and not host.idle for host in pool._hosts.values())
                await pool.close()

        run(main())


# -- connection failures --------------------------------------------------------------------


def test_connection_refused(run: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    async def main() -> None:
        pool = make_pool()
        with pytest.raises(H1ConnectError):
            await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"")
        assert not pool._hosts[("http", "127.0.0.1", port)].conns
        await pool.close()

    run(main())


def test_idle_connection_closed_by_server_then_next_request_succeeds(run: Any) -> None:
    connections = 0

    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()

    async def main() -> None:
        async with raw_server(one_then_close) as base:
            pool = make_pool()
            assert await post(pool, base + "/") == (200, b"ok")
            host = next(iter(pool._hosts.values()))
            assert len(host.idle) == 1
            await asyncio.sleep(0.2)
            assert not host.idle and not host.conns  # noticed while idle
            assert await post(pool, base + "/") == (200, b"ok")
            assert connections == 2
            await pool.close()

    run(main())


def test_stale_connection_retried_once(run: Any) -> None:
    """The server drops a kept-alive connection just as the next request arrives."""
    requests = 0

    async def one_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await read_request(reader)
        requests += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await read_request(reader)
        requests += 1
        writer.transport.abort()

    async def main() -> None:
        async with raw_server(one_per_connection) as base:
            pool = make_pool()
            for _ in range(3):
                assert await post(pool, base + "/") == (200, b"ok")
            assert requests == 5  # 1, then (on the stale connection + on a fresh one) twice
            await pool.close()

    run(main())


def test_fresh_connection_closed_before_response(run: Any) -> None:
    async def main() -> None:
        async with raw_server(scripted()) as base:
            pool = make_pool()
            with pytest.raises(H1ProtocolError, match="before any response"):
                await post(pool, base + "/")
            await pool.close()

    run(main())


def test_no_headers_within_read_timeout(run: Any) -> None:
    async def main() -> None:
        async with raw_server(scripted(b"", close=False)) as base:
            pool = make_pool(read_timeout=0.2)
            start = time.monotonic()
            with pytest.raises(H1TimeoutError):
                await post(pool, base + "/")
            assert 0.15 < time.monotonic() - start < 1.5
            await pool.close()

    run(main())


def test_body_stall_times_out_per_read(run: Any) -> None:
    """Gaps shorter than read_timeout pass, however long the whole body takes; a longer gap fails."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    pieces = [head, b"a", b"b", b"c", b"d", b"e"]

    async def main() -> None:
        async with raw_server(scripted(*pieces, b"fghij", gap=0.1)) as base:
            pool = make_pool(read_timeout=0.3)
            assert await post(pool, base + "/") == (200, b"abcdefghij")
        async with raw_server(scripted(*pieces, close=False, gap=0.05)) as base:
            with pytest.raises(H1TimeoutError):
                await post(pool, base + "/")
            await pool.close()

    run(main())


def test_connect_timeout_is_a_timeout(run: Any) -> None:
    async def main() -> None:
        with hanging_port() as port:
            pool = make_pool(connect_timeout=0.3)
            start = time.monotonic()
            with pytest.raises(H1TimeoutError, match="connect"):
                await post(pool, f"http://127.0.0.1:{port}/")
            assert time.monotonic() - start < 2
            await pool.close()

    run(main())


def test_head_timeout_and_read_timeout_are_separate(run: Any) -> None:
    """A long head_timeout does not stretch the body's idle limit, nor a long read_timeout the head's."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"

    async def main() -> None:
        async with raw_server(scripted(b"", close=False)) as base:
            pool = make_pool(read_timeout=5, head_timeout=0.2)
            start = time.monotonic()
            with pytest.raises(H1TimeoutError):
                await post(pool, base + "/")
            assert time.monotonic() - start < 1.5
            await pool.close()
        async with raw_server(scripted(head, b"abc", close=False)) as base:
            pool = make_pool(read_timeout=0.2, head_timeout=5)
            start = time.monotonic()
            with pytest.raises(H1TimeoutError):
                await post(pool, base + "/")
            assert time.monotonic() - start < 1.5
            await pool.close()

    run(main())


@pytest.mark.parametrize(
    "pieces",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"only ten b"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"5\r\nhello\r\n"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"5\r\nhello\r\n0\r\n"),
        (b"HTTP/1.1 200 OK\r\nContent-Len",),
    ],
)
def test_connection_dropped_mid_response(run: Any, pieces: tuple[bytes, ...]) -> None:
    async def main() -> None:
        async with raw_server(scripted(*pieces)) as base:
            pool = make_pool()
            with pytest.raises(H1ProtocolError, match="before the response was complete"):
                await post(pool, base + "/")
            await pool.close()

    run(main())


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000,  # a head that never ends
    ],
    ids=["no-status", "not-http", "huge-head", "endless-head"],
)
def test_malformed_response(run: Any, answer: bytes) -> None:
    async def main() -> None:
        async with raw_server(scripted(answer, close=False)) as base:
            pool = make_pool()
            with pytest.raises(H1ProtocolError, match="malformed"):
                await post(pool, base + "/")
            await asyncio.sleep(0.02)
            assert not next(iter(pool._hosts.values())).conns
            await pool.close()

    run(main())


# -- aborts and cancellation ----------------------------------------------------------------


def eof_watcher(answer: bytes) -> tuple[Handler, asyncio.Event]:
    """A server that answers ``answer`` and then sets the event when the client disconnects."""
    gone = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await reader.read()
        gone.set()

    return handler, gone


PARTIAL = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst"


def test_response_close_disconnects_at_once(run: Any) -> None:
    async def main() -> None:
        handler, gone = eof_watcher(PARTIAL)
        async with raw_server(handler) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/", {}, b"")
            assert await resp.__anext__() == b"first"
            resp.close()
            await asyncio.wait_for(gone.wait(), 1)
            await pool.close()

    run(main())


def test_close_from_another_task_wakes_the_reader(run: Any) -> None:
    """The pipeline's disconnect watcher closes the response while the relay task iterates it."""

    async def main() -> None:
        handler, gone = eof_watcher(PARTIAL)
        async with raw_server(handler) as base:
            pool = make_pool(read_timeout=5)
            resp = await pool.request("POST", base + "/", {}, b"")

            async def relay() -> list[bytes]:
                return [piece async for piece in resp]

            task = asyncio.ensure_future(relay())
            await asyncio.sleep(0.05)
            start = time.monotonic()
            resp.close()
            with pytest.raises(H1ProtocolError, match="aborted"):
                await task
            assert time.monotonic() - start < 0.5
            await asyncio.wait_for(gone.wait(), 1)
            await pool.close()

    run(main())


def test_release_before_body_end_closes(run: Any) -> None:
    async def main() -> None:
        handler, gone = eof_watcher(PARTIAL)
        async with raw_server(handler) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/", {}, b"")
            resp.release()
            await asyncio.wait_for(gone.wait(), 1)
            assert not next(iter(pool._hosts.values())).idle
            await pool.close()

    run(main())


@pytest.mark.parametrize("stage", ["head", "body"])
def test_cancellation_closes_the_connection(run: Any, stage: str) -> None:
    async def main() -> None:
        handler, gone = eof_watcher(PARTIAL if stage == "body" else b"")
        async with raw_server(handler) as base:
            pool = make_pool()
            if stage == "head":
                task = asyncio.ensure_future(pool.request("POST", base + "/", {}, b""))
            else:
                resp = await pool.request("POST", base + "/", {}, b"")
                task = asyncio.ensure_future(resp.read())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.wait_for(gone.wait(), 1)
            await asyncio.sleep(0.02)
            host = next(iter(pool._hosts.values()))
            assert not host.conns and not host.idle
            await pool.close()

    run(main())


def test_pool_close_closes_busy_connections_and_refuses_new_requests(run: Any) -> None:
    async def main() -> None:
        handler, gone = eof_watcher(PARTIAL)
        async with raw_server(handler) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/", {}, b"")
            await pool.close()
            await asyncio.wait_for(gone.wait(), 1)
            with pytest.raises(H1ProtocolError):
                await resp.read()
            with pytest.raises(H1ConnectError, match="pool closed"):
                await pool.request("POST", base + "/", {}, b"")

    run(main())


# -- request encoding, TLS, error table -----------------------------------------------------


def test_request_bytes_and_header_injection(run: Any) -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await reader.read()

    async def main() -> None:
        async with raw_server(handler) as base:
            pool = make_pool()
            assert await post(pool, base + "/v1/x?a=b&c=d", b"BODY") == (200, b"")
            port = base.rsplit(":", 1)[1]
            assert seen == [
                f"POST /v1/x?a=b&c=d HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 4\r\n"
                "content-type: application/json\r\n\r\nBODY".encode()
            ]
            with pytest.raises(ValueError):
                await pool.request("POST", base + "/", {"x": "a\r\nHost: evil"}, b"")
            with pytest.raises(ValueError):
                await pool.request("POST", "ftp://example.com/", {}, b"")
            await pool.close()

    run(main())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI to make a certificate")
def test_https(run: Any, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="secure")

    async def main() -> None:
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert, key)
        app = web.Application()
        app.add_routes([web.post("/", hello)])
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "localhost", 0, ssl_context=server_ctx)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            pool = make_pool(ssl_context=ssl.create_default_context(cafile=str(cert)))
            assert await post(pool, f"https://localhost:{port}/") == (200, b"secure")
            assert await post(pool, f"https://localhost:{port}/") == (200, b"secure")
            await pool.close()
            untrusting = make_pool()  # default trust store: self-signed certificate rejected
            with pytest.raises(H1ConnectError):
                await post(untrusting, f"https://localhost:{port}/")
            await untrusting.close()
        finally:
            await runner.cleanup()

    run(main())


def test_exception_table() -> None:
    cases = [
        (H1ConnectError("refused"), ErrorKind.UPSTREAM_UNREACHABLE, 502),
        (H1TimeoutError("slow"), ErrorKind.UPSTREAM_TIMEOUT, 504),
        (H1ProtocolError("bad"), ErrorKind.UPSTREAM_PROTOCOL, 502),
        (RuntimeError("?"), ErrorKind.INTERNAL, 500),
    ]
    for exc, kind, status in cases:
        err = map_exception(exc, "openai")
        assert (err.kind, err.status, err.provider) == (kind, status, "openai")
        assert kind == ErrorKind.INTERNAL or str(exc) in err.message
