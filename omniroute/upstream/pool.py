"""``H1Pool``: keep-alive HTTP/1.1 connections per (scheme, host, port), for one event loop.

aiohttp's ``ClientSession`` spends ~100 µs of Python per request on objects the request path
does not need; this pool spent ~14 with a hand-written parser, ~4 less since llhttp parses
(docs/benchmarks.md): the request head is built from a prefix cached per method and URL
(``upstream.request``), responses are parsed by llhttp (``upstream.parser``) straight from
``data_received`` (``upstream.connection``).

Contract::

    pool = H1Pool(connect_timeout=5, read_timeout=60, head_timeout=120)  # one per worker
    resp = await pool.request("POST", url, headers, body)   # returns once the head is in
    resp.status, resp.headers                                # lower-case names, repeats ", "-joined
    body = await resp.read()          # or: async for piece in resp.iter_chunks(): ...
    resp.release()                    # idempotent; read() and the end of iteration release
    resp.close()                      # abort: the connection is closed at once
    await pool.close()

Every response must end in ``read()``, a full iteration, ``release()`` or ``close()``;
otherwise its connection stays busy and counts against ``max_per_host``. Callers must not
pass ``Host``, ``Content-Length`` or ``Transfer-Encoding`` headers: the client writes them.
Exceptions: ``upstream.errors`` (``H1ConnectError``, ``H1TimeoutError``, ``H1ProtocolError``).

Connections: idle keep-alive connections are reused LIFO per (scheme, host, port); one the
server closes while idle leaves the pool at once. A reused connection that is closed before
any response byte is retried once on a fresh connection. A connection is reused only after a
complete, self-delimited HTTP/1.1 keep-alive response with nothing after it; a cancelled,
timed-out, failed, or half-read exchange closes it.

Timeouts (``Settings`` → ``open_pool``): ``connect_timeout`` bounds the TCP/TLS connect,
``first_byte_timeout`` (``head_timeout``) the wait for the response head,
``stream_idle_timeout`` (``read_timeout``) the longest silence between two body reads. A
request may bring its own (``Timeouts(connect, head, read)``: a provider's resilience
profile); without, the pool's apply.

Proxies: a pool made with a ``ProxyTunnel`` (``open_pool(settings, proxy_url)``) opens every
connection through it; the gateway keeps one such pool per proxy URL beside the direct one.

A body may be bytes (one write with the head) or a ``StreamBody`` (``upstream.body``: bytes
and file slices, sent piece by piece as the socket takes them, with ``Content-Length`` or
chunked framing; audio uploads).

Not supported (not needed for LLM upstreams): pipelining, upgrades, ``Expect: 100-continue``
waiting, response decompression.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

from omniroute.config import Settings
from omniroute.upstream.body import StreamBody
from omniroute.upstream.connection import Connection, H1Response, StaleConnection, Timeouts
from omniroute.upstream.errors import H1ConnectError, H1TimeoutError
from omniroute.upstream.request import encode_head, encode_request, encode_target
from omniroute.upstream.tunnel import ProxyTunnel

_MAX_TARGETS = 4096


class Host:
    """Connections to one (scheme, host, port): idle LIFO stack, count, waiters for a slot."""

    __slots__ = ("conns", "host", "idle", "label", "loop", "pool", "port", "ssl", "waiters")

    def __init__(self, pool: H1Pool, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.pool, self.host, self.port, self.ssl = pool, host, port, ssl_context
        self.label = f"{host}:{port}"
        self.loop = asyncio.get_running_loop()
        self.idle: list[Connection] = []
        self.conns: set[Connection] = set()
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, fresh: bool, connect_timeout: float | None = None) -> Connection:
        """An idle connection (unless ``fresh``), else a new one within ``max_per_host``."""
        while True:
            while self.idle and not fresh:
                conn = self.idle.pop()
                if not conn.closed:
                    return conn
            if len(self.conns) < self.pool.max_per_host:
                return await self._connect(connect_timeout or self.pool.connect_timeout)
            waiter = self.loop.create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self.waiters:
                    self.waiters.remove(waiter)
                else:
                    self.wake_one()  # woken, but leaving: pass the turn on
                raise

    async def _connect(self, timeout: float) -> Connection:
        if self.pool.closed:
            raise H1ConnectError(f"pool closed, cannot connect to {self.label}")
        conn = Connection(self)
        self.conns.add(conn)
        tunnel = self.pool.proxy
        try:
            async with asyncio.timeout(timeout):
                if tunnel is not None:
                    await tunnel.open(self.loop, conn, self.host, self.port, self.ssl, timeout)
                else:
                    await self.loop.create_connection(
                        lambda: conn, self.host, self.port, ssl=self.ssl,
                        server_hostname=self.host if self.ssl else None,
                    )
        except BaseException as exc:
            self.conns.discard(conn)
            self.wake_one()
            if isinstance(exc, H1ConnectError | H1TimeoutError):  # the tunnel's, already named
                raise
            if isinstance(exc, TimeoutError):  # a timeout, not a refusal: 504, like the other timeouts
                raise H1TimeoutError(f"connect to {self.label} timed out after {timeout} s") from exc
            if isinstance(exc, OSError):
                raise H1ConnectError(f"cannot connect to {self.label}: {exc}") from exc
            raise
        return conn

    def release(self, conn: Connection) -> None:
        parser = conn.parser
        if not (parser.complete and parser.keep_alive and not parser.extra and not conn.closed) or conn.unsent \
                or self.pool.closed:
            conn.abort()
            return
        conn.busy, conn.reused = False, True
        if conn.paused:  # a complete body left unread: the socket has nothing more for it
            conn.paused = False
            conn.transport.resume_reading()  # type: ignore[union-attr]
        self.idle.append(conn)
        self.wake_one()

    def lost(self, conn: Connection) -> None:
        """``connection_lost``: forget the connection and give its slot to a waiter."""
        if conn in self.conns:
            self.conns.discard(conn)
            if conn in self.idle:
                self.idle.remove(conn)
            self.wake_one()

    def wake_one(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class H1Pool:
    """Keep-alive HTTP/1.1 connections per (scheme, host, port), for one event loop."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        head_timeout: float | None = None,
        max_per_host: int = 512,
        ssl_context: ssl.SSLContext | None = None,
        proxy: ProxyTunnel | None = None,
    ) -> None:
        self.proxy = proxy  # every new connection is tunnelled through it (upstream.tunnel)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.head_timeout = read_timeout if head_timeout is None else head_timeout
        self.max_per_host = max_per_host
        self.closed = False
        self._ssl_context = ssl_context
        self._hosts: dict[tuple[str, str, int], Host] = {}
        self._targets: dict[tuple[str, str], tuple[bytes, Host, bool]] = {}

    async def request(self, method: str, url: str, headers: dict[str, str], body: bytes | StreamBody,
                      timeouts: Timeouts | None = None) -> H1Response:
        """Send one request; returns once the final response head is in (see module doc).
        ``timeouts``: this request's own (connect, head, read) limits instead of the pool's."""
        prefix, host, head_only = self._targets.get((method, url)) or self._add_target(method, url)
        if not isinstance(body, bytes):
            return await self._request_stream(host, encode_head(prefix, headers, body.length), body, head_only,
                                              timeouts)
        payload = encode_request(prefix, headers, body)
        idle = host.idle
        connect = timeouts.connect if timeouts is not None else None
        conn = idle.pop() if idle and not idle[-1].closed else await host.acquire(False, connect)
        try:
            return await conn.exchange(payload, head_only, timeouts)
        except StaleConnection:
            pass
        conn = await host.acquire(True, connect)
        return await conn.exchange(payload, head_only, timeouts)

    async def _request_stream(self, host: Host, head: bytes, body: StreamBody, head_only: bool,
                              timeouts: Timeouts | None) -> H1Response:
        """A streamed body (``upstream.body``): the same connection rules, sent again from its
        start on the one retry after a stale connection."""
        connect = timeouts.connect if timeouts is not None else None
        conn = await host.acquire(False, connect)
        try:
            return await conn.exchange_stream(head, body, head_only, timeouts)
        except StaleConnection:
            pass
        conn = await host.acquire(True, connect)
        return await conn.exchange_stream(head, body, head_only, timeouts)

    def _add_target(self, method: str, url: str) -> tuple[bytes, Host, bool]:
        scheme, hostname, port, prefix = encode_target(method, url)
        host = self._hosts.get((scheme, hostname, port))
        if host is None:
            if scheme == "https" and self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            tls = self._ssl_context if scheme == "https" else None
            host = self._hosts[(scheme, hostname, port)] = Host(self, hostname, port, tls)
        if len(self._targets) >= _MAX_TARGETS:
            self._targets.clear()
        target = self._targets[(method, url)] = (prefix, host, method == "HEAD")
        return target

    async def close(self) -> None:
        """Close every connection, idle or busy; later requests raise ``H1ConnectError``."""
        self.closed = True
        for host in self._hosts.values():
            for conn in list(host.conns):
                conn.abort()
            while host.waiters:
                host.wake_one()  # the woken task finds the pool closed
        await asyncio.sleep(0)


def open_pool(settings: Settings, proxy: str | None = None) -> H1Pool:
    """The worker's request-path client; with ``proxy`` (a URL), one whose connections are
    tunnelled through it (``upstream.tunnel``)."""
    return H1Pool(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.stream_idle_timeout,
        head_timeout=settings.first_byte_timeout,
        max_per_host=settings.upstream_connections,
        proxy=ProxyTunnel(proxy) if proxy else None,
    )
