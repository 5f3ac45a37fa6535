"""``omniroute.upstream.connection``: failures, timeouts, aborts and cancellation, against
misbehaving servers (drops, stalls, malformed heads) on both asyncio and uvloop."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from omniroute.upstream import H1ConnectError, H1ProtocolError, H1TimeoutError
from tests.support.blackhole import hanging_port
from tests.upstream.servers import PARTIAL, eof_watcher, make_pool, post, raw_server, read_request, scripted

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
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["no-status", "not-http", "huge-head", "endless-head", "length-and-chunked"],
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
