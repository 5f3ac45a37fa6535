"""``omniroute.upstream.request``: the bytes a request puts on the wire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from omniroute.upstream.request import encode_request, encode_target
from tests.upstream.servers import make_pool, post, raw_server, read_request


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


def test_encode_target_authority_and_default_ports() -> None:
    assert encode_target("POST", "https://api.example.com/v1/chat") == (
        "https", "api.example.com", 443, b"POST /v1/chat HTTP/1.1\r\nHost: api.example.com\r\n"
    )
    assert encode_target("GET", "http://[::1]:8080?x=1")[1:] == (
        "::1", 8080, b"GET /?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\n"
    )
    with pytest.raises(ValueError):
        encode_target("POST", "http:///nohost")


def test_encode_request_refuses_cr_or_lf_anywhere() -> None:
    prefix = b"POST / HTTP/1.1\r\nHost: h\r\n"
    assert encode_request(prefix, {"a": "1"}, b"xy") == prefix + b"Content-Length: 2\r\na: 1\r\n\r\nxy"
    for headers in ({"x": "a\rb"}, {"x": "a\nb"}, {"x\r\ny": "v"}):
        with pytest.raises(ValueError):
            encode_request(prefix, headers, b"")
