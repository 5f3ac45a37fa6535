"""Upstream HTTP clients and the one exception table.

Two clients, each where it fits:

=========================  ===============================================================
``H1Pool`` (upstream_h1)   the request path: every chat/messages/responses/generate call.
                           A lean HTTP/1.1 keep-alive client on asyncio protocols; measured
                           ~14 µs of client work per request where aiohttp's
                           ``ClientSession`` spends ~100 µs (docs/benchmarks.md)
aiohttp ``ClientSession``  management calls (``/api/providers/{id}/test`` and ``/models``,
                           ``validate``): redirects, proxies and decompression matter more
                           there than microseconds
=========================  ===============================================================

Timeouts (``Settings``): ``connect_timeout`` bounds the TCP/TLS connect,
``first_byte_timeout`` the wait for the response head, ``stream_idle_timeout`` the longest
silence between two body reads. There is no total timeout: a healthy stream may run for
minutes.

Exception → ``ErrorKind`` (first match wins):

==============================================  =====================
``H1ConnectError``, aiohttp connector errors    UPSTREAM_UNREACHABLE
``H1TimeoutError``, ``TimeoutError``,           UPSTREAM_TIMEOUT
aiohttp ``ServerTimeoutError``
``H1ProtocolError``, aiohttp payload /          UPSTREAM_PROTOCOL
disconnect / other client errors
other ``OSError``                               UPSTREAM_UNREACHABLE
==============================================  =====================
"""

from __future__ import annotations

import aiohttp

from omniroute.config import Settings
from omniroute.errors import ErrorKind, GatewayError
from omniroute.upstream_h1 import H1ConnectError, H1Pool, H1ProtocolError, H1TimeoutError

EXCEPTION_KINDS: tuple[tuple[type[BaseException], ErrorKind, str], ...] = (
    (H1ConnectError, ErrorKind.UPSTREAM_UNREACHABLE, "cannot connect to upstream"),
    (aiohttp.ClientConnectorError, ErrorKind.UPSTREAM_UNREACHABLE, "cannot connect to upstream"),
    (H1TimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (aiohttp.ServerTimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (TimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (H1ProtocolError, ErrorKind.UPSTREAM_PROTOCOL, "upstream broke the protocol"),
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


def open_pool(settings: Settings) -> H1Pool:
    """The worker's request-path client."""
    return H1Pool(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.stream_idle_timeout,
        head_timeout=settings.first_byte_timeout,
        max_per_host=settings.upstream_connections,
    )


def open_session(settings: Settings) -> aiohttp.ClientSession:
    """The worker's management-call client: no cookie jar, default decompression."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=16, ttl_dns_cache=300, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.connect_timeout, sock_read=settings.stream_idle_timeout
    )
    return aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar())
