"""``multipart/form-data`` both ways, never holding a file part in memory.

Reading (``read_form``): the body's pieces are scanned as they arrive; small fields are kept
(each at most ``MAX_FIELD`` bytes), the file part is written to an unnamed temporary file as
it comes (``Upload``: only the spool's descriptor, its size and its first bytes stay), so a
25 MB upload costs a few body-sized buffers, not the file. The spool is deleted when closed.

=====================================  ===============================================
malformed input                        400 naming it
=====================================  ===============================================
no ``boundary`` in the Content-Type    ``Content-Type must be multipart/form-data …``
body ends before the closing boundary  ``multipart body ended before its last part``
part head over 16 KiB, no name         ``a multipart part has …``
field over ``MAX_FIELD`` bytes         ``field '<name>' is longer than …``
more than ``MAX_PARTS`` parts          ``too many multipart parts``
=====================================  ===============================================

Writing (``form_body``): the fields and the spooled file as an ``upstream.StreamBody`` —
head bytes, the file slice, the closing boundary — with its ``Content-Type`` (Whisper-style
upstreams take the same form the client sent).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from omniroute.errors import ErrorKind, GatewayError
from omniroute.media.sniff import HEAD_BYTES
from omniroute.upstream.body import FilePart, StreamBody

MAX_FIELD = 64 * 1024
MAX_HEAD = 16 * 1024
MAX_PARTS = 32


def _bad(message: str, param: str | None = None) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


@dataclass
class Upload:
    """A file part spooled to an unnamed temporary file."""

    name: str  # the form field
    filename: str
    content_type: str
    spool: IO[bytes]
    size: int = 0
    head: bytes = b""

    def part(self) -> FilePart:
        return FilePart(self.spool.fileno(), self.size)

    def write(self, data: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        os.write(self.spool.fileno(), data)  # unbuffered: the bytes go to the page cache, not our heap
        self.size += len(data)

    def close(self) -> None:
        self.spool.close()


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def close(self) -> None:
        for upload in self.files.values():
            upload.close()


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type (400 when it is not one)."""
    kind, _, params = (content_type or "").partition(";")
    if kind.strip().lower() == "multipart/form-data":
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "boundary" and value.strip('"'):
                return value.strip('"').encode("latin-1")
    raise _bad("Content-Type must be multipart/form-data with a boundary (send the file as a form upload)")


def _disposition(head: bytes) -> tuple[str, str | None, str]:
    """(field name, filename or None, content type) from a part's header lines."""
    name, filename, ctype = None, None, "application/octet-stream"
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-type":
            ctype = value.strip()
        elif key == "content-disposition":
            for param in value.split(";")[1:]:
                pname, _, pvalue = param.strip().partition("=")
                pvalue = pvalue.strip().strip('"')
                if pname.lower() == "name":
                    name = pvalue
                elif pname.lower() == "filename":
                    filename = pvalue
    if not name:
        raise _bad("a multipart part has no name in its Content-Disposition")
    return name, filename, ctype


class _Reader:
    """The parser's state over the arriving pieces (``read_form``)."""

    def __init__(self, boundary: bytes, spool_dir: str | None) -> None:
        self.delimiter = b"--" + boundary
        self.separator = b"\r\n" + self.delimiter
        self.form = Form()
        self.spool_dir = spool_dir
        self.buf = b""
        self.state = "preamble"
        self.sink: Upload | bytearray | None = None
        self.sink_name = ""
        self.parts = 0

    def feed(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data
        while self._step():
            pass

    def _step(self) -> bool:
        """One move of the state machine; False when it needs more bytes."""
        buf = self.buf
        if self.state == "preamble":
            at = buf.find(self.delimiter)
            if at < 0:
                self.buf = buf[-len(self.delimiter):]
                return False
            self.buf, self.state = buf[at + len(self.delimiter):], "after"
            return True
        if self.state == "after":
            if len(buf) < 2:
                return False
            if buf[:2] == b"--":
                self.state, self.buf = "done", b""
                return False
            self.buf, self.state = buf[2:] if buf[:2] == b"\r\n" else buf, "head"
            return True
        if self.state == "head":
            return self._head(buf)
        if self.state == "body":
            return self._body(buf)
        return False

    def _head(self, buf: bytes) -> bool:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise _bad("a multipart part has a header block over 16 KiB")
            return False
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise _bad(f"too many multipart parts (at most {MAX_PARTS})")
        name, filename, ctype = _disposition(buf[:end])
        if filename is not None:
            spool = tempfile.TemporaryFile(dir=self.spool_dir)  # noqa: SIM115 - closed by Form.close
            self.sink = self.form.files[name] = Upload(name, filename, ctype, spool)
        else:
            self.sink = bytearray()
        self.sink_name, self.buf, self.state = name, buf[end + 4:], "body"
        return True

    def _body(self, buf: bytes) -> bool:
        at = buf.find(self.separator)
        if at < 0:
            keep = len(self.separator) - 1
            if len(buf) > keep:
                self._emit(buf[: len(buf) - keep])
                self.buf = buf[len(buf) - keep:]
            return False
        self._emit(buf[:at])
        if isinstance(self.sink, bytearray):
            self.form.fields[self.sink_name] = self.sink.decode("utf-8", "replace")
        self.sink, self.buf, self.state = None, buf[at + len(self.separator):], "after"
        return True

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        sink = self.sink
        if isinstance(sink, Upload):
            sink.write(data)
        elif sink is not None:
            if len(sink) + len(data) > MAX_FIELD:
                raise _bad(f"field '{self.sink_name}' is longer than {MAX_FIELD} bytes", self.sink_name)
            sink += data


async def read_form(pieces: AsyncIterator[bytes], boundary: bytes, spool_dir: str | None = None) -> Form:
    """The form in ``pieces`` (see the module doc); files spooled, the caller closes them
    (``Form.close``) — also on error, which closes what was spooled so far."""
    reader = _Reader(boundary, spool_dir)
    try:
        async for piece in pieces:
            reader.feed(piece)
        if reader.state != "done":
            raise _bad("multipart body ended before its last part (closing boundary missing)")
    except BaseException:
        reader.form.close()
        raise
    return reader.form


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def form_body(fields: dict[str, str], upload: Upload, mime: str) -> tuple[StreamBody, str]:
    """The form for an upstream: ``fields`` then the spooled file as ``file``; (body,
    Content-Type)."""
    boundary = "omniroute-" + secrets.token_hex(12)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quote(upload.filename)}"'
             f"\r\nContent-Type: {mime}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return StreamBody(head, upload.part(), tail), f"multipart/form-data; boundary={boundary}"
