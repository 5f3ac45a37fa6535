"""``omniroute.upstream.errors``: the exception → error-kind table."""

from __future__ import annotations

import aiohttp

from omniroute.errors import ErrorKind
from omniroute.upstream import H1ConnectError, H1ProtocolError, H1TimeoutError, map_exception


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


def test_foreign_exceptions_and_order() -> None:
    """aiohttp's (management session) and the stdlib's land in the same kinds; subclasses first."""
    cases = [
        (aiohttp.ServerDisconnectedError(), ErrorKind.UPSTREAM_PROTOCOL),
        (aiohttp.ClientPayloadError("cut"), ErrorKind.UPSTREAM_PROTOCOL),
        (aiohttp.ServerTimeoutError("slow"), ErrorKind.UPSTREAM_TIMEOUT),
        (TimeoutError(), ErrorKind.UPSTREAM_TIMEOUT),
        (ConnectionResetError("reset"), ErrorKind.UPSTREAM_UNREACHABLE),
    ]
    for exc, kind in cases:
        assert map_exception(exc).kind == kind, exc
    assert "(upstream)" in map_exception(TimeoutError()).message
