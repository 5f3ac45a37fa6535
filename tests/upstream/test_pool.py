"""``omniroute.upstream.pool``: requests against real servers, well-behaved and tricky framing.

Every test runs on both asyncio and uvloop (the ``run`` fixture); servers are in ``servers``.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from omniroute.upstream import H1ConnectError
from omniroute.upstream.connection import HIGH_WATER
from tests.upstream.servers import (
    CHUNKED_PIECES,
    Handler,
    make_pool,
    post,
    raw_server,
    read_request,
    scripted,
    web_server,
)

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


# -- framing edge cases, through the pool (the parser alone: test_parser.py) -------------


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


def test_a_large_sized_body_read_by_reads_then_the_connection_is_reused(run: Any) -> None:
    """``next_reads``: the body as it was read (pieces, not joined), ``[]`` at its end; the
    sized-body path past llhttp leaves the connection reusable for the next response."""
    body = bytes(range(256)) * 4096  # 1 MiB

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:1000])
        await writer.drain()
        await asyncio.sleep(0.02)
        for i in range(1000, len(body), 300_000):
            writer.write(body[i:i + 300_000])
            await writer.drain()
            await asyncio.sleep(0.01)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with raw_server(handler) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/", {}, b"")
            got: list[bytes] = []
            while reads := await resp.next_reads():
                got.extend(reads)
            assert b"".join(got) == body and len(got) >= 4
            assert await resp.next_reads() == []
            # reused: a new connection would have been answered the 1 MiB body again
            assert await post(pool, base + "/") == (200, b"ok")
            await pool.close()

    run(main())


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


def test_head_then_post_on_the_same_connection(run: Any) -> None:
    """After a HEAD answer (a length but no body) the next answer on that connection parses."""
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answers = (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        for answer in answers:
            seen.append(await read_request(reader))
            writer.write(answer)
        await reader.read()

    async def main() -> None:
        async with raw_server(handler) as base:
            pool = make_pool()
            resp = await pool.request("HEAD", base + "/h", {}, b"")
            assert (resp.status, await resp.read()) == (200, b"")
            assert await post(pool, base + "/p") == (200, b"ok")
            assert len(seen) == 2  # one connection for both
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

# -- TLS ---------------------------------------------------------------------------------


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
