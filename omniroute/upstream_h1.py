"""A lean HTTP/1.1 client for upstream calls, on raw asyncio Protocols (uvloop or stdlib).

aiohttp's ``ClientSession`` spends ~120 µs of Python per request on objects we do not need;
this client spends a few tens: the request head is one f-string after a prefix cached per
URL, the response is parsed by ``upstream_h1_parser`` (the wire format, both directions)
straight from ``data_received``, and a body that arrived with its head is returned without
another await.

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

Exceptions (``omniroute.transport.map_exception`` gives their ``ErrorKind``)::

    H1ConnectError(OSError)        refused, unreachable, DNS, TLS handshake   UPSTREAM_UNREACHABLE
    H1TimeoutError(TimeoutError)   no connection within connect_timeout, no   UPSTREAM_TIMEOUT
                                   head within head_timeout, or a body gap
                                   longer than read_timeout
    H1ProtocolError(Exception)     malformed response; closed before any      UPSTREAM_PROTOCOL
                                   response or before the body was complete

Connections: idle keep-alive connections are reused LIFO per (scheme, host, port); one the
server closes while idle leaves the pool at once. A reused connection that is closed before
any response byte is retried once on a fresh connection (the request was never processed —
the same rule as aiohttp and urllib3, applied to POST too). A connection is reused only
after a complete, self-delimited HTTP/1.1 keep-alive response; a cancelled, timed-out,
failed, or half-read exchange closes it. More than ``HIGH_WATER`` unread body bytes pause
reading until the consumer catches up.

Not supported (not needed for LLM upstreams): pipelining, upgrades, proxies, request
bodies streamed from an iterator, ``Expect: 100-continue`` waiting, response decompression.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

from omniroute.upstream_h1_parser import ParseError, ResponseParser, encode_request, encode_target

HIGH_WATER = 1 << 20
_MAX_TARGETS = 4096


class H1ConnectError(OSError):
    """The TCP/TLS connection could not be opened (refused, unreachable, DNS, TLS)."""


class H1TimeoutError(TimeoutError):
    """No connection within ``connect_timeout``, no head within ``head_timeout``, or no body
    bytes within ``read_timeout``."""


class H1ProtocolError(Exception):
    """A malformed response, or the connection closed before the response was complete."""


class _StaleConnection(Exception):
    """A reused connection closed before any response byte: retry on a fresh one."""


#: what a caller must catch around ``request``, ``read`` and iteration
UPSTREAM_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, H1ProtocolError)


class _Conn(asyncio.Protocol):
    """One connection: feeds the parser, wakes the one waiting task, keeps a lazy read timer."""

    def __init__(self, host: _Host) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.exc: BaseException | None = None
        self.deadline = 0.0
        self.limit = host.pool.read_timeout  # seconds a wait may last: head_timeout until the head is in
        self.busy = self.closed = self.paused = self.reused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # TCP_NODELAY: set by asyncio and uvloop

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # bytes on an idle connection: the stream is out of sync
            self.abort()
            return
        parser = self.parser
        try:
            parser.feed(data)
        except ParseError as exc:
            self.exc = H1ProtocolError(f"malformed response from {self.host.label}: {exc}")
            self.abort()
            return
        if parser.buffered > HIGH_WATER and not self.paused:
            self.paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        if self.waiter is not None:
            self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.busy and self.exc is None and not self.parser.feed_eof():
            self.exc = self._lost_error(exc)
        self._wake()
        if self.timer is not None:
            self.timer.cancel()
        self.host.lost(self)

    def _lost_error(self, exc: Exception | None) -> BaseException:
        why = f": {exc}" if exc else ""
        if self.parser.got_bytes:
            return H1ProtocolError(f"{self.host.label} closed the connection before the response was complete{why}")
        if self.reused:
            return _StaleConnection()
        return H1ProtocolError(f"{self.host.label} closed the connection before any response{why}")

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self) -> None:
        """Until the next read, EOF or error; ``H1TimeoutError`` after ``self.limit`` idle."""
        loop = self.host.loop
        self.waiter = waiter = loop.create_future()
        # One timer per read_timeout period, not one per wait: it re-arms itself when the
        # deadline moved (cheaper than create+cancel of a TimerHandle on every read).
        self.deadline = loop.time() + self.limit
        timer = self.timer
        if timer is None or timer.when() > self.deadline:  # none yet, or set for a longer limit
            if timer is not None:
                timer.cancel()
            self.timer = loop.call_at(self.deadline, self._on_timer)
        await waiter

    def _on_timer(self) -> None:
        self.timer = None
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        loop = self.host.loop
        if loop.time() < self.deadline:
            self.timer = loop.call_at(self.deadline, self._on_timer)
            return
        self.waiter = None
        waiter.set_exception(H1TimeoutError(f"{self.host.label} sent nothing for {self.limit} s"))

    async def exchange(self, payload: bytes, head_only: bool) -> H1Response:
        """Write the request, wait for the final head; on any failure the connection is closed."""
        parser = self.parser
        parser.start(head_only)
        self.busy, self.exc = True, None
        pool = self.host.pool
        self.limit = pool.head_timeout
        try:
            self.transport.write(payload)  # type: ignore[union-attr]
            while not parser.head_done:
                if self.exc is not None:
                    raise self.exc
                if self.closed:
                    raise self._lost_error(None)
                await self.wait()
        except BaseException:
            self.abort()
            raise
        self.limit = pool.read_timeout
        return H1Response(self, parser.status, parser.headers)

    def take(self) -> bytes:
        data = self.parser.take()
        if self.paused:
            self.paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]
        return data

    def abort(self) -> None:
        """Close now; a task still reading this connection's body wakes with ``H1ProtocolError``."""
        self.busy = False
        if self.transport is not None and not self.closed:
            self.closed = True
            self.exc = self.exc or H1ProtocolError(f"connection to {self.host.label} was aborted")
            self.transport.abort()
            self._wake()


class H1Response:
    """The status and headers of one response, and its body to read or iterate once."""

    __slots__ = ("_conn", "headers", "status")

    def __init__(self, conn: _Conn, status: int, headers: dict[str, str]) -> None:
        self._conn: _Conn | None = conn
        self.status = status
        self.headers = headers

    async def read(self) -> bytes:
        """The whole body; the connection goes back to the pool."""
        conn = self._conn
        if conn is not None and conn.parser.complete:  # fast path: the body came with the head
            data = conn.take()
            self.release()
            return data
        return b"".join([piece async for piece in self])

    def iter_chunks(self) -> H1Response:
        """Body pieces (de-chunked) as they arrive; what arrived together comes as one piece."""
        return self

    def __aiter__(self) -> H1Response:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        parser = conn.parser
        while True:
            if parser.pieces:
                return conn.take()
            if parser.complete:
                self.release()
                raise StopAsyncIteration
            if conn.exc is not None:
                self.close()
                raise conn.exc
            try:
                await conn.wait()
            except BaseException:
                self.close()
                raise

    def release(self) -> None:
        """Done with the body: reuse the connection if it is complete and keep-alive, else close."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.host.release(conn)

    def close(self) -> None:
        """Abort: close the connection now; the server sees the disconnect."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()


class _Host:
    """Connections to one (scheme, host, port): idle LIFO stack, count, waiters for a slot."""

    __slots__ = ("conns", "host", "idle", "label", "loop", "pool", "port", "ssl", "waiters")

    def __init__(self, pool: H1Pool, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.pool, self.host, self.port, self.ssl = pool, host, port, ssl_context
        self.label = f"{host}:{port}"
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Conn] = []
        self.conns: set[_Conn] = set()
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, fresh: bool) -> _Conn:
        """An idle connection (unless ``fresh``), else a new one within ``max_per_host``."""
        while True:
            while self.idle and not fresh:
                conn = self.idle.pop()
                if not conn.closed:
                    return conn
            if len(self.conns) < self.pool.max_per_host:
                return await self._connect()
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

    async def _connect(self) -> _Conn:
        if self.pool.closed:
            raise H1ConnectError(f"pool closed, cannot connect to {self.label}")
        conn = _Conn(self)
        self.conns.add(conn)
        try:
            async with asyncio.timeout(self.pool.connect_timeout):
                await self.loop.create_connection(
                    lambda: conn, self.host, self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None
                )
        except BaseException as exc:
            self.conns.discard(conn)
            self.wake_one()
            if isinstance(exc, TimeoutError):  # a timeout, not a refusal: 504, like the other timeouts
                raise H1TimeoutError(f"connect to {self.label} timed out after {self.pool.connect_timeout} s") from exc
            if isinstance(exc, OSError):
                raise H1ConnectError(f"cannot connect to {self.label}: {exc}") from exc
            raise
        return conn

    def release(self, conn: _Conn) -> None:
        parser = conn.parser
        if not (parser.complete and parser.keep_alive and not parser.extra and not conn.closed) or self.pool.closed:
            conn.abort()
            return
        conn.busy, conn.reused = False, True
        if conn.paused:  # a complete body left unread: the socket has nothing more for it
            conn.paused = False
            conn.transport.resume_reading()  # type: ignore[union-attr]
        self.idle.append(conn)
        self.wake_one()

    def lost(self, conn: _Conn) -> None:
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
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.head_timeout = read_timeout if head_timeout is None else head_timeout
        self.max_per_host = max_per_host
        self.closed = False
        self._ssl_context = ssl_context
        self._hosts: dict[tuple[str, str, int], _Host] = {}
        self._targets: dict[tuple[str, str], tuple[bytes, _Host, bool]] = {}

    async def request(self, method: str, url: str, headers: dict[str, str], body: bytes) -> H1Response:
        """Send one request; returns once the final response head is in (see module doc)."""
        prefix, host, head_only = self._targets.get((method, url)) or self._add_target(method, url)
        payload = encode_request(prefix, headers, body)
        idle = host.idle
        conn = idle.pop() if idle and not idle[-1].closed else await host.acquire(False)
        try:
            return await conn.exchange(payload, head_only)
        except _StaleConnection:
            pass
        conn = await host.acquire(True)
        return await conn.exchange(payload, head_only)

    def _add_target(self, method: str, url: str) -> tuple[bytes, _Host, bool]:
        scheme, hostname, port, prefix = encode_target(method, url)
        host = self._hosts.get((scheme, hostname, port))
        if host is None:
            if scheme == "https" and self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            tls = self._ssl_context if scheme == "https" else None
            host = self._hosts[(scheme, hostname, port)] = _Host(self, hostname, port, tls)
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
