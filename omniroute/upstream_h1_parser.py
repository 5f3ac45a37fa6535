"""HTTP/1.1 wire format for ``omniroute.upstream_h1``: request heads out, responses in.

``encode_target`` parses a URL once into the request-line + ``Host`` prefix; ``encode_request``
adds ``Content-Length``, the caller's headers and the body. ``ResponseParser`` is fed the bytes
of one response as they arrive, split anywhere, and yields the head (status, headers, framing)
and the de-chunked body pieces. No I/O, no event loop.

Framing (RFC 9112 §6.3), decided once the head is complete:

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

The connection is reusable (``keep_alive``) only for HTTP/1.1 without ``Connection: close``
and with a self-delimited body. Lines must end in CRLF (bare-LF heads are rejected as
malformed); the head and the trailers are bounded by ``MAX_HEAD`` bytes.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
MAX_CHUNK_LINE = 8 * 1024

_HEAD, _LENGTH, _CHUNKED, _UNTIL_EOF, _DONE = range(5)
_SIZE, _DATA, _DATA_END, _TRAILER = range(4)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_TOKEN_CHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN = re.compile(_TOKEN_CHARS)
_HEADER_LINE = re.compile(r"\r\n(" + _TOKEN_CHARS + r"):[ \t]*((?:[^\r\n]*[^ \t\r\n])?)[ \t]*(?=\r\n|\Z)")
_NO_BODY = frozenset((204, 304))
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ParseError(ValueError):
    """The bytes are not a well-formed HTTP/1.x response."""


def encode_target(method: str, url: str) -> tuple[str, str, int, bytes]:
    """An http(s) URL → (scheme, host, port, ``"METHOD /path?query HTTP/1.1\\r\\nHost: …\\r\\n"``)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme, parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(f"unsupported upstream URL {url!r}")
    port = parts.port or _DEFAULT_PORTS[scheme]
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[scheme]:
        authority = f"{authority}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, f"{method} {path} HTTP/1.1\r\nHost: {authority}\r\n".encode()


def encode_request(prefix: bytes, headers: dict[str, str], body: bytes) -> bytes:
    """The whole request, ready for one write; CR/LF in a header is refused (no injection)."""
    block = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if block.count("\n") != len(headers) or block.count("\r") != len(headers):
        raise ValueError("header names and values must not contain CR or LF")
    return b"".join((prefix, f"Content-Length: {len(body)}\r\n{block}\r\n".encode("latin-1"), body))


class ResponseParser:
    """One reusable parser per connection; ``start()`` before each response.

    After ``feed``: ``head_done`` tells whether ``status``/``headers`` are set, ``pieces`` holds
    body bytes not yet taken (``buffered`` counts them), ``complete`` is set at the end of the
    body, and ``extra`` when the server sent bytes beyond the end (the connection is then not
    reusable).
    """

    __slots__ = (
        "_buf",
        "_cstate",
        "_head_only",
        "_remaining",
        "_scanned",
        "_state",
        "buffered",
        "complete",
        "extra",
        "got_bytes",
        "head_done",
        "headers",
        "keep_alive",
        "pieces",
        "status",
    )

    def __init__(self) -> None:
        self.start(False)

    def start(self, head_only: bool) -> None:
        """Forget the previous response; ``head_only`` for a HEAD request (no body follows)."""
        self._head_only = head_only
        self._state = _HEAD
        self._cstate = _SIZE
        self._buf: bytes | bytearray = b""
        self._scanned = 0
        self._remaining = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = False
        self.head_done = self.complete = self.extra = self.got_bytes = False
        self.pieces: list[bytes] = []
        self.buffered = 0

    def feed(self, data: bytes) -> None:
        """Consume ``data``; raises ``ParseError`` on malformed input."""
        self.got_bytes = True
        if self._state == _HEAD:
            data = self._feed_head(data)
            if not data:
                return
        state = self._state
        if state == _LENGTH:
            self._feed_length(data)
        elif state == _CHUNKED:
            self._feed_chunked(data)
        elif state == _UNTIL_EOF:
            self._add(data)
        elif state == _DONE:
            self.extra = True

    def feed_eof(self) -> bool:
        """The peer closed: True when that ends the body (read-until-close framing)."""
        if self._state == _UNTIL_EOF:
            self._finish()
        return self.complete

    def take(self) -> bytes:
        """All buffered body bytes, removed from the buffer."""
        pieces = self.pieces
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.pieces = []
        self.buffered = 0
        return data

    # -- head ------------------------------------------------------------------------------

    def _feed_head(self, data: bytes) -> bytes:
        """Accumulate until the blank line; returns the bytes after the head (maybe empty)."""
        buf = self._buf
        if buf:
            if isinstance(buf, bytes):
                buf = self._buf = bytearray(buf)
            buf += data
        else:
            buf = data
        while True:
            end = buf.find(b"\r\n\r\n", max(self._scanned - 3, 0))
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise ParseError(f"response head larger than {MAX_HEAD} bytes")
                self._buf, self._scanned = buf, len(buf)
                return b""
            if end > MAX_HEAD:
                raise ParseError(f"response head larger than {MAX_HEAD} bytes")
            interim = self._parse_head(buf[:end].decode("latin-1"))
            buf, self._scanned = bytes(buf[end + 4 :]), 0
            if not interim:
                self._buf = b""
                return buf

    def _parse_head(self, text: str) -> bool:
        """Parse status line and headers; True for an interim (1xx) response."""
        eol = text.find("\r\n")
        if eol < 0:
            eol = len(text)
        status = self.status = _parse_status(text[:eol])
        self.headers = headers = _parse_headers(text, eol)
        if status < 200:
            if status == 101:
                raise ParseError("unexpected 101 Switching Protocols")
            return True
        self.head_done = True
        connection = headers.get("connection")
        self.keep_alive = text[7] == "1" and (connection is None or not _has_close(connection))
        self._set_framing(status, headers)
        return False

    def _set_framing(self, status: int, headers: dict[str, str]) -> None:
        if self._head_only or status in _NO_BODY:
            self._finish()
            return
        te = headers.get("transfer-encoding")
        if te is not None:
            chunked = te.rsplit(",", 1)[-1].strip().lower() == "chunked"
            # Both TE and Content-Length: TE wins, but the message is suspect (RFC 9112 §6.3).
            self.keep_alive = self.keep_alive and chunked and "content-length" not in headers
            self._state = _CHUNKED if chunked else _UNTIL_EOF
            return
        length = headers.get("content-length")
        if length is None:
            self.keep_alive = False
            self._state = _UNTIL_EOF
            return
        self._remaining = _parse_length(length)
        self._state = _LENGTH
        if self._remaining == 0:
            self._finish()

    # -- body ------------------------------------------------------------------------------

    def _add(self, piece: bytes) -> None:
        self.pieces.append(piece)
        self.buffered += len(piece)

    def _finish(self) -> None:
        self._state = _DONE
        self.complete = True

    def _feed_length(self, data: bytes) -> None:
        remaining = self._remaining
        if len(data) > remaining:
            data, self.extra = data[:remaining], True
        self._add(data)
        self._remaining = remaining = remaining - len(data)
        if remaining == 0:
            self._finish()

    def _feed_chunked(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        pos, end = 0, len(buf)
        while pos < end and self._state == _CHUNKED:
            cstate = self._cstate
            if cstate == _DATA:
                take = min(self._remaining, end - pos)
                self._add(buf if take == end else buf[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._cstate = _DATA_END
            elif cstate == _DATA_END:
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ParseError("chunk data not followed by CRLF")
                pos += 2
                self._cstate = _SIZE
            else:
                nxt = self._chunk_line(buf, pos)
                if nxt < 0:
                    break
                pos = nxt
        self._buf = buf[pos:] if pos < end else b""
        if pos < end and self._state == _DONE:
            self.extra = True
            self._buf = b""

    def _chunk_line(self, buf: bytes, pos: int) -> int:
        """Handle one size or trailer line; returns the position after it, -1 if incomplete."""
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            limit = MAX_CHUNK_LINE if self._cstate == _SIZE else MAX_HEAD - self._scanned
            if len(buf) - pos > limit:
                raise ParseError("chunk-size or trailer line too long")
            return -1
        line = buf[pos:eol]
        if self._cstate == _TRAILER:
            self._scanned += len(line) + 2
            if not line:
                self._finish()
            elif self._scanned > MAX_HEAD:
                raise ParseError(f"trailers larger than {MAX_HEAD} bytes")
            return eol + 2
        size = line.split(b";", 1)[0].strip(b" \t")
        if _HEX.fullmatch(size) is None:
            raise ParseError(f"bad chunk size {bytes(line[:40])!r}")
        self._remaining = int(size, 16)
        self._cstate = _DATA if self._remaining else _TRAILER
        return eol + 2


def _parse_status(line: str) -> int:
    parts = line.split(" ", 2)
    code = parts[1] if len(parts) > 1 else ""
    if parts[0] not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise ParseError(f"bad status line {line[:80]!r}")
    return int(code)


def _parse_headers(text: str, start: int) -> dict[str, str]:
    """Header lines (from ``start``, a CRLF) → dict of lower-case names.

    Fast path: one regex pass; every line must match it and names must be unique. Anything
    else (repeated names, obs-fold, malformed lines) takes the line-by-line path.
    """
    pairs = _HEADER_LINE.findall(text, start)
    headers = {name.lower(): value for name, value in pairs}
    if len(headers) == len(pairs) == text.count("\r\n", start):
        return headers
    return _parse_header_lines(text[start + 2 :].split("\r\n"))


def _parse_header_lines(lines: list[str]) -> dict[str, str]:
    """Repeats joined with ", "; obs-fold unfolded with a space; bad lines raise."""
    headers: dict[str, str] = {}
    name = ""
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not name:
                raise ParseError("continuation line before any header")
            headers[name] += " " + line.strip(" \t")
            continue
        name, sep, value = line.partition(":")
        if not sep or _TOKEN.fullmatch(name) is None or "\r" in line or "\n" in line:
            raise ParseError(f"bad header line {line[:80]!r}")
        name = name.lower()
        value = value.strip(" \t")
        old = headers.get(name)
        headers[name] = value if old is None else f"{old}, {value}"
    return headers


def _has_close(connection: str) -> bool:
    connection = connection.lower()
    return "close" in connection and "close" in (t.strip() for t in connection.split(","))


def _parse_length(value: str) -> int:
    """``Content-Length``; a list of identical values is accepted (RFC 9110 §8.6)."""
    if value.isdigit() and value.isascii():
        return int(value)
    values = {v.strip() for v in value.split(",")}
    length = values.pop() if len(values) == 1 else ""
    if not length.isdigit() or not length.isascii():
        raise ParseError(f"bad Content-Length {value[:40]!r}")
    return int(length)
