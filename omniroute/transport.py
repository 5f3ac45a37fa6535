"""Upstream HTTP: one aiohttp ``ClientSession`` per worker, and the exception table.

Timeouts (``Settings``): ``connect_timeout`` bounds the TCP connect, ``first_byte_timeout``
bounds the wait for the response headers (the pipeline wraps it around the request), and
``stream_idle_timeout`` is aiohttp's ``sock_read``: the longest silence between two reads of
the body. There is no total timeout: a healthy stream may run for minutes.

aiohttp exception → ``ErrorKind``:

==================================  =====================
``ClientConnectorError`` and kin    UPSTREAM_UNREACHABLE
``ServerTimeoutError``              UPSTREAM_TIMEOUT
``asyncio.TimeoutError``            UPSTREAM_TIMEOUT
``ServerDisconnectedError``         UPSTREAM_PROTOCOL
``ClientPayloadError``              UPSTREAM_PROTOCOL
any other ``ClientError``           UPSTREAM_PROTOCOL
==================================  =====================
"""

from __future__ import annotations

import asyncio

import aiohttp

from omniroute.config import Settings
from omniroute.errors import ErrorKind, GatewayError

EXCEPTION_KINDS: tuple[tuple[type[BaseException], ErrorKind, str], ...] = (
    (aiohttp.ClientConnectorError, ErrorKind.UPSTREAM_UNREACHABLE, "cannot connect to upstream"),
    (aiohttp.ServerTimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (asyncio.TimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (aiohttp.ServerDisconnectedError, ErrorKind.UPSTREAM_PROTOCOL, "upstream closed the connection"),
    (aiohttp.ClientPayloadError, ErrorKind.UPSTREAM_PROTOCOL, "upstream sent a broken body"),
    (aiohttp.ClientError, ErrorKind.UPSTREAM_PROTOCOL, "upstream request failed"),
    (OSError, ErrorKind.UPSTREAM_UNREACHABLE, "upstream connection failed"),
)


def map_exception(exc: BaseException, provider: str | None = None) -> GatewayError:
    """An exception raised while talking to an upstream → ``GatewayError``."""
    for cls, kind, what in EXCEPTION_KINDS:
        if isinstance(exc, cls):
            detail = str(exc) or type(exc).__name__
            return GatewayError(kind, f"{what} ({provider or 'upstream'}): {detail}", provider=provider)
    return GatewayError(ErrorKind.INTERNAL, f"unexpected upstream failure: {type(exc).__name__}", provider=provider)


def open_session(settings: Settings) -> aiohttp.ClientSession:
    """The worker's session: pooled keep-alive connections, no cookie jar, no decompression."""
    connector = aiohttp.TCPConnector(
        limit=0,
        limit_per_host=settings.upstream_connections,
        ttl_dns_cache=300,
        keepalive_timeout=60,
    )
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.connect_timeout, sock_read=settings.stream_idle_timeout
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )
