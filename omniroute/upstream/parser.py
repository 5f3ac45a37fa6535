"""HTTP/1.1 responses in: ``ResponseParser``, on httptools' ``HttpResponseParser`` (llhttp).

Framing is where HTTP/1.1 clients go wrong (response splitting, desync on a reused
connection), so the bytes are parsed by llhttp — the C parser of Node.js, which uvicorn and
aiohttp's C accelerator also use — in its strict default mode (no "dangerous leniencies").
This module keeps the gateway's rules on top: what the pool may reuse, the size bound, which
versions and statuses are accepted. It is fed the bytes of one response as they arrive, split
anywhere, and exposes the head (status, headers) and the de-chunked body pieces. No I/O.

Framing (RFC 9112 §6.3), decided by llhttp once the head is complete (a HEAD request's by this
module: httptools cannot hand llhttp the "no body follows" answer):

===================================================  =========================================
response                                              body ends at
===================================================  =========================================
1xx (100 Continue, 103 Early Hints)                   skipped; the next head is parsed
101 Switching Protocols                               ``ParseError`` (we never ask to upgrade)
request was HEAD, or status 204 / 304                 no body
``Transfer-Encoding`` ending in ``chunked``           the zero-size chunk and its trailers
other ``Transfer-Encoding``                           EOF (connection not reused)
``Content-Length: N``                                 N bytes
none of the above                                     EOF (connection not reused)
===================================================  =========================================

Rejected as malformed (``ParseError``): a bad status line, a status below 100, a version other
than HTTP/1.0 or 1.1, a bad header name or value character, a line not ending in CRLF,
obs-fold (a header continued on an indented line), ``Content-Length`` that is not one decimal
number (also ``5, 5``) or is repeated, ``Transfer-Encoding`` together with ``Content-Length``,
a bad chunk size or chunk data not followed by CRLF, and more than ``MAX_HEAD`` bytes with no
body byte among them (a head, trailers or chunk framing; a head that never ends).

The connection is reusable (``keep_alive``) only for HTTP/1.1 without ``Connection: close``
and with a self-delimited body, and only if nothing follows the response (``extra``; llhttp
skips an empty line between two responses, RFC 9112 §2.2); after a HEAD request the next
response is parsed by a fresh llhttp state. Headers are kept as raw pairs and decoded only
when asked for (``decode_headers``: lower-case names, latin-1 values, repeats joined with
``", "``) — the request path never asks; trailers are dropped.
"""

from __future__ import annotations

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

MAX_HEAD = 64 * 1024


class ParseError(ValueError):
    """The bytes are not a well-formed HTTP/1.x response."""


class _Beyond(Exception):
    """Raised in a callback to stop llhttp at bytes beyond the end of the response."""


class ResponseParser:
    """One reusable parser per connection; ``start()`` before each response.

    After ``feed``: ``head_done`` tells whether ``status``/``headers`` are set, ``pieces`` holds
    body bytes not yet taken (``buffered`` counts them), ``complete`` is set at the end of the
    body, and ``extra`` when the server sent bytes beyond the end (the connection is then not
    reusable). The ``on_*`` methods are llhttp's callbacks, not for callers.
    """

    __slots__ = (
        "_dry",
        "_head_only",
        "_left",
        "_llhttp",
        "_renew",
        "_seen",
        "buffered",
        "complete",
        "extra",
        "got_bytes",
        "head_done",
        "keep_alive",
        "pieces",
        "raw_headers",
        "status",
    )

    def __init__(self) -> None:
        self._renew = True
        self.start(False)

    def start(self, head_only: bool) -> None:
        """Forget the previous response; ``head_only`` for a HEAD request (no body follows)."""
        if self._renew:  # llhttp is not at a message start: after a HEAD response or an error
            self._llhttp = HttpResponseParser(self)
        self._renew = self._head_only = head_only  # llhttp would wait for a HEAD response's body
        self._dry = 0  # bytes of the reads since the last one that carried body bytes
        self._left: int | None = None  # a sized body's bytes still to come (-1: not sized; None: not asked)
        self._seen = 0  # body bytes so far
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.head_done = self.complete = self.extra = self.got_bytes = False
        self.pieces: list[bytes] = []
        self.buffered = 0

    @property
    def headers(self) -> dict[str, str]:
        """The response's headers, decoded (``decode_headers``) at each access."""
        return decode_headers(self.raw_headers)

    def feed(self, data: bytes) -> None:
        """Consume ``data``; raises ``ParseError`` on malformed input."""
        self.got_bytes = True
        if self.complete:
            self.extra = True
            return
        if self.head_done and not self._head_only:
            left = self._left
            if left is None:  # a body over several reads: asked once whether it is sized
                left = self._left = self._sized_rest()
            if left > 0:
                self._sized(data, left)
                return
        buffered = self.buffered
        try:
            self._llhttp.feed_data(data)
        except (HttpParserError, HttpParserUpgrade) as exc:
            self._renew = True
            if self.complete:  # stopped at bytes after the response (``_Beyond``, or data after close)
                self.extra = True
                return
            raise ParseError(_reason(exc)) from None
        if self.buffered != buffered:
            self._dry = 0
        elif not self.complete:
            self._dry += len(data)
            if self._dry > MAX_HEAD:
                self._renew = True
                raise ParseError(f"more than {MAX_HEAD} bytes of head, trailers or chunk framing")

    def feed_eof(self) -> bool:
        """The peer closed: True when that ends the body (read-until-close framing)."""
        if self.head_done and not self.complete and _ends_at_eof(self.headers):
            self.complete = True
        return self.complete

    def _sized(self, data: bytes, left: int) -> None:
        """The rest of a ``Content-Length`` body, past llhttp: a read is kept as it came (no
        copy; llhttp's body callback copies every byte). llhttp validated the length with the
        head; the next response gets a fresh llhttp (this one stopped mid-body)."""
        if type(data) is not bytes:  # a transport's reused buffer must not be kept
            data = bytes(data)
        size = len(data)
        if size > left:  # bytes beyond the response: not ours, and the connection is not reusable
            self.extra = True
            data, size = data[:left], left
        self.pieces.append(data)
        self.buffered += size
        self._seen += size
        self._dry = 0
        self._left = left = left - size
        if not left:
            self.complete = self._renew = True

    def _sized_rest(self) -> int:
        """How many bytes of a ``Content-Length`` body are still to come; -1 for any other
        framing (chunked, or to EOF)."""
        length = None
        for name, value in self.raw_headers:
            lower = name.lower()
            if lower == b"transfer-encoding":
                return -1
            if lower == b"content-length":
                length = value
        return -1 if length is None else int(length) - self._seen

    def take(self) -> bytes:
        """All buffered body bytes, removed from the buffer."""
        pieces = self.take_pieces()
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def take_pieces(self) -> list[bytes]:
        """The buffered body bytes as the pieces they came in, removed from the buffer."""
        pieces = self.pieces
        self.pieces = []
        self.buffered = 0
        return pieces

    # -- llhttp callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second response in the same read: not ours, stop here
            self.extra = True
            raise _Beyond

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:  # else a trailer: not kept (bounded with the chunk framing, see ``feed``)
            self.raw_headers.append((name, value))  # decoded only if asked for: the gateway never is

    def on_headers_complete(self) -> None:
        llhttp = self._llhttp
        status = llhttp.get_status_code()
        if status < 200:
            if status < 100 or status == 101:
                raise ParseError(f"unexpected status {status}")
            self.raw_headers = []  # interim (1xx): its headers are not the response's
            return
        version = llhttp.get_http_version()
        if version != "1.1" and version != "1.0":
            raise ParseError(f"unsupported version HTTP/{version}")
        self.status = status
        self.head_done = True
        if not self._head_only:
            self.keep_alive = version == "1.1" and llhttp.should_keep_alive()
            return
        self.complete = True  # HEAD: llhttp cannot be told that no body follows
        self.keep_alive = version == "1.1" and not _has_close(self.headers.get("connection", ""))

    def on_body(self, body: bytes) -> None:
        if self.complete:  # bytes after the head of a HEAD response
            self.extra = True
            raise _Beyond
        self.pieces.append(body)
        self.buffered += len(body)
        self._seen += len(body)

    def on_message_complete(self) -> None:
        if self.head_done:  # not for an interim (1xx) response
            self.complete = True


def decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-case names, latin-1 values without trailing OWS (llhttp strips only the leading),
    repeated names joined with ``", "``."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1").rstrip(" \t")
        old = headers.get(key)
        headers[key] = text if old is None else f"{old}, {text}"
    return headers


def _reason(exc: Exception) -> str:
    """llhttp's reason, or ours when a callback raised ``ParseError``."""
    cause = exc.__context__
    return str(cause) if isinstance(cause, ParseError) else str(exc) or type(exc).__name__


def _ends_at_eof(headers: dict[str, str]) -> bool:
    """llhttp's read-until-close rule, asked only when the peer closed mid-body."""
    te = headers.get("transfer-encoding")
    if te is not None:
        return te.rsplit(",", 1)[-1].strip(" \t").lower() != "chunked"
    return "content-length" not in headers


def _has_close(connection: str) -> bool:
    return "close" in (token.strip(" \t") for token in connection.lower().split(","))
