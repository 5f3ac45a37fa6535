"""``omniroute.server.http.HttpRequest``'s body reading as a unit, against scripted ASGI
``receive`` calls shaped as Granian sends them (the last piece is followed by an empty
``http.request``): a body with ``Content-Length`` ends at that many bytes without waiting for
the empty message, one without keeps reading to ``more_body: false``, the limit is enforced
before and while reading. Every request through the real gateway in the other tests reads its
body this way."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from omniroute.context import RequestContext
from omniroute.errors import GatewayError
from omniroute.server.http import HttpRequest


class Script:
    """``receive`` answering the given messages in order; one call more fails the test."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self.messages = list(messages)
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        assert self.messages, "receive() called after the body was complete"
        return self.messages.pop(0)


def piece(body: bytes, more: bool = True) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def request(receive: Script, length: int | None) -> HttpRequest:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return HttpRequest({"type": "http", "headers": headers}, receive, RequestContext(time.perf_counter(), None))


def read(receive: Script, length: int | None, limit: int = 1 << 20) -> bytes:
    return asyncio.run(request(receive, length).read_body(limit))


def test_a_sized_body_ends_at_its_length_without_the_empty_message() -> None:
    receive = Script(piece(b'{"a": 1}'))
    assert read(receive, 8) == b'{"a": 1}'
    assert receive.calls == 1


def test_a_sized_body_in_pieces_ends_at_its_length() -> None:
    receive = Script(piece(b"x" * 8192), piece(b"y" * 16384), piece(b"z" * 100))
    assert read(receive, 8192 + 16384 + 100) == b"x" * 8192 + b"y" * 16384 + b"z" * 100
    assert receive.calls == 3


def test_a_body_without_a_length_is_read_to_the_last_message() -> None:
    receive = Script(piece(b"ab"), piece(b"cd"), piece(b"", more=False))
    assert read(receive, None) == b"abcd"
    assert receive.calls == 3


def test_an_empty_body() -> None:
    assert read(Script(piece(b"", more=False)), None) == b""
    assert read(Script(piece(b"")), 0) == b""


@pytest.mark.parametrize("length", [None, 10])
def test_a_body_over_the_limit_is_a_413(length: int | None) -> None:
    receive = Script(piece(b"x" * 6), piece(b"y" * 4))
    with pytest.raises(GatewayError) as caught:
        read(receive, length, limit=5)
    assert caught.value.status == 413
    if length is not None:  # refused from the declared length, before reading
        assert receive.calls == 0


def test_a_client_that_leaves_mid_body() -> None:
    receive = Script(piece(b"ab"), {"type": "http.disconnect"})
    with pytest.raises(GatewayError) as caught:
        read(receive, 10)
    assert caught.value.status == 400 and "disconnected" in caught.value.message


def test_a_streamed_upload_ends_at_its_length_too() -> None:
    async def pieces(receive: Script, length: int | None) -> list[bytes]:
        return [chunk async for chunk in request(receive, length).stream_body(1 << 20)]

    receive = Script(piece(b"abc"), piece(b"de"))
    assert asyncio.run(pieces(receive, 5)) == [b"abc", b"de"]
    assert receive.calls == 2
    receive = Script(piece(b"abc"), piece(b"de"), piece(b"", more=False))
    assert asyncio.run(pieces(receive, None)) == [b"abc", b"de"]
    assert receive.calls == 3
