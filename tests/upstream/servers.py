"""Test upstreams for ``omniroute.upstream``: real servers on 127.0.0.1 port 0.

aiohttp.web servers play well-behaved upstreams; raw ``asyncio.start_server`` handlers play
misbehaving ones (split writes, drops, stalls, malformed heads).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from omniroute.upstream import H1Pool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

#: a chunked response split inside every part of the chunk grammar
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

#: a head and the first 5 of 100 body bytes
PARTIAL = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst"


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


def eof_watcher(answer: bytes) -> tuple[Handler, asyncio.Event]:
    """A server that answers ``answer`` and then sets the event when the client disconnects."""
    gone = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await reader.read()
        gone.set()

    return handler, gone
