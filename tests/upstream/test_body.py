"""``upstream.body.StreamBody`` through ``H1Pool``: bytes and file slices sent in pieces with
``Content-Length`` or chunked framing, replayed from the start, and cut short when the server
answers first (that connection is then not reused)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any

from aiohttp import web

from omniroute.upstream import FilePart, StreamBody
from omniroute.upstream.body import CHUNK
from tests.upstream.servers import make_pool, web_server

DATA = os.urandom(3 * CHUNK + 123)


def _spooled() -> Any:
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller's with-block closes it
    spool.write(DATA)
    spool.flush()
    return spool


async def _digest(request: web.Request) -> web.Response:
    body = await request.read()
    framing = "chunked" if request.headers.get("Transfer-Encoding") == "chunked" else request.headers["Content-Length"]
    return web.json_response({"size": len(body), "sha": hashlib.sha256(body).hexdigest(), "framing": framing})


def test_content_length_and_chunked(run: Any) -> None:
    async def main() -> None:
        with _spooled() as spool:
            part = FilePart(spool.fileno(), len(DATA))
            async with web_server([web.post("/up", _digest)]) as base:
                pool = make_pool()
                for chunked in (False, True):
                    body = StreamBody(b"head:", part, b":tail", chunked=chunked)
                    resp = await pool.request("POST", base + "/up", {}, body)
                    answer = await resp.read()
                    seen = json.loads(answer)
                    whole = b"head:" + DATA + b":tail"
                    assert seen["size"] == len(whole) and seen["sha"] == hashlib.sha256(whole).hexdigest()
                    assert seen["framing"] == ("chunked" if chunked else str(len(whole)))
                await pool.close()

    run(main())


def test_replayable_and_offsets(run: Any) -> None:
    async def main() -> None:
        with _spooled() as spool:
            body = StreamBody(FilePart(spool.fileno(), 1000, offset=10))
            first = b"".join([piece async for piece in body.chunks()])
            again = b"".join([piece async for piece in body.chunks()])
            assert first == again == DATA[10:1010]
            assert body.length == 1000

    run(main())


def test_an_early_answer_stops_the_upload(run: Any) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "too large"}, status=413)  # without reading the body

    async def main() -> None:
        big = os.urandom(8 * 1024 * 1024)
        async with web_server([web.post("/up", refuse), web.post("/ok", _digest)]) as base:
            pool = make_pool()
            resp = await pool.request("POST", base + "/up", {}, StreamBody(big))
            assert resp.status == 413
            await resp.read()
            resp = await pool.request("POST", base + "/ok", {}, StreamBody(b"small"))
            assert (await resp.read()).startswith(b'{"size": 5')
            await pool.close()

    run(main())
