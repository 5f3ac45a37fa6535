"""One upstream connection and the response read from it (``H1Response``).

``Connection`` is the asyncio ``Protocol`` of one keep-alive connection: ``data_received`` feeds
the ``upstream.parser`` straight from the socket and wakes the one task waiting on it;
``exchange`` writes a whole request (head + body, one write) and returns once the final head
is in. A body that arrived with its head is returned by ``H1Response.read`` without another
await.

Timeouts: one lazy timer per connection bounds every wait — ``head_timeout`` until the head is
in, then ``read_timeout`` between two body reads (it re-arms itself when the deadline moved,
cheaper than a ``TimerHandle`` per read). No total timeout: a healthy stream may run for minutes.

Flow control: more than ``HIGH_WATER`` unread body bytes pause reading from the socket until
the consumer takes them.

Failures close the connection at once (``abort``): a malformed response, a timeout, a
cancellation, a response closed or released before its end. A reused connection that the
server closed before any response byte raises ``StaleConnection`` so the pool retries once on
a fresh one (the request was never processed — the rule of aiohttp and urllib3, applied to
POST too).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, NamedTuple

from omniroute.upstream.errors import H1ProtocolError, H1TimeoutError
from omniroute.upstream.parser import ParseError, ResponseParser, decode_headers
from omniroute.upstream.request import encode_chunk

if TYPE_CHECKING:
    from omniroute.upstream.body import StreamBody
    from omniroute.upstream.pool import Host

HIGH_WATER = 1 << 20


class StaleConnection(Exception):
    """A reused connection closed before any response byte: the pool retries on a fresh one."""


class Timeouts(NamedTuple):
    """One request's limits, seconds: TCP/TLS connect, wait for the head, silence between reads."""

    connect: float
    head: float
    read: float


class Connection(asyncio.Protocol):
    """One connection: feeds the parser, wakes the one waiting task, keeps a lazy read timer."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.exc: BaseException | None = None
        self.deadline = 0.0
        self.limit = host.pool.read_timeout  # seconds a wait may last: head_timeout until the head is in
        self.busy = self.closed = self.paused = self.reused = False
        self.tunnel: object | None = None  # a proxied connection's stream (upstream.tunnel), kept referenced
        self.drained: asyncio.Future[None] | None = None  # set while the transport's buffer is full
        self.unsent = False  # a streamed body was cut short: the connection cannot be reused

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

    def pause_writing(self) -> None:
        self.drained = self.host.loop.create_future()

    def resume_writing(self) -> None:
        drained, self.drained = self.drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.resume_writing()
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
            return StaleConnection()
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

    async def exchange(self, payload: bytes, head_only: bool, timeouts: Timeouts | None = None,
                       started: bool = False) -> H1Response:
        """Write the request, wait for the final head; on any failure the connection is closed.
        ``timeouts``: the head and read limits of this request (else the pool's); ``started``:
        the request was written by ``exchange_stream``."""
        parser = self.parser
        if not started:
            parser.start(head_only)
            self.busy, self.exc, self.unsent = True, None, False
        pool = self.host.pool
        self.limit = timeouts.head if timeouts is not None else pool.head_timeout
        try:
            if payload:
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
        self.limit = timeouts.read if timeouts is not None else pool.read_timeout
        return H1Response(self, parser.status, parser.raw_headers)

    async def exchange_stream(self, head: bytes, body: StreamBody, head_only: bool,
                              timeouts: Timeouts | None = None) -> H1Response:
        """``exchange`` for a streamed body: the head, then the body's pieces as the socket
        takes them (a full transport buffer waits, at most ``head_timeout``); an answer
        that comes before the body is all sent stops the sending (the connection is then
        not reused)."""
        parser = self.parser
        parser.start(head_only)
        self.busy, self.exc, self.unsent = True, None, False
        try:
            self.transport.write(head)  # type: ignore[union-attr]
            await self._send_body(body)
        except BaseException:
            self.abort()
            raise
        return await self.exchange(b"", head_only, timeouts, started=True)

    async def _send_body(self, body: StreamBody) -> None:
        chunked, parser, transport = body.chunked, self.parser, self.transport
        async for piece in body.chunks():
            if parser.got_bytes or self.closed:  # answered (or gone) before the body was sent
                self.unsent = True
                return
            transport.write(encode_chunk(piece) if chunked else piece)  # type: ignore[union-attr]
            if self.drained is not None:
                try:
                    async with asyncio.timeout(self.host.pool.head_timeout):
                        await self.drained
                except TimeoutError:
                    raise H1TimeoutError(f"{self.host.label} took no body bytes for "
                                         f"{self.host.pool.head_timeout} s") from None
        if chunked and not self.closed:
            transport.write(encode_chunk(b""))  # type: ignore[union-attr]

    def take(self) -> bytes:
        data = self.parser.take()
        self._resume()
        return data

    def take_reads(self) -> list[bytes]:
        pieces = self.parser.take_pieces()
        self._resume()
        return pieces

    def _resume(self) -> None:
        if self.paused:
            self.paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]

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

    __slots__ = ("_conn", "_headers", "_raw", "status")

    def __init__(self, conn: Connection, status: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self._conn: Connection | None = conn
        self.status = status
        self._raw = raw_headers
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case names, repeats ``", "``-joined; decoded on first access."""
        if self._headers is None:
            self._headers = decode_headers(self._raw)
        return self._headers

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
        conn = await self._arrived()
        if conn is None:
            raise StopAsyncIteration
        return conn.take()

    async def next_reads(self) -> list[bytes]:
        """The body bytes that arrived since the last call, as they were read (not joined:
        for a large body, where a join would copy each byte once more); ``[]`` at the end."""
        conn = await self._arrived()
        return [] if conn is None else conn.take_reads()

    async def _arrived(self) -> Connection | None:
        """The connection once body bytes are buffered; ``None`` at the end of the body (the
        connection released)."""
        conn = self._conn
        if conn is None:
            return None
        parser = conn.parser
        while True:
            if parser.pieces:
                return conn
            if parser.complete:
                self.release()
                return None
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
