"""The one framer: SSE and NDJSON, both directions, incremental.

Decoders take whatever bytes a network read produced — an event may arrive split across
reads, a multi-byte UTF-8 character may be cut in two — and return only *complete* frames.
They work on bytes and split only at ASCII line breaks, so a cut character is always whole
again by the time its frame is returned.

SSE (https://html.spec.whatwg.org/multipage/server-sent-events.html): lines end in ``\\n``,
``\\r\\n`` or ``\\r``; ``event:`` names the event, ``data:`` lines are joined with ``\\n``,
``:`` starts a comment, a blank line dispatches, a UTF-8 byte-order mark at the very start
is skipped. A frame is ``SSEFrame(event, data)``; frames with no data line are dropped
(comments, keep-alives), as browsers do.
"""

from __future__ import annotations

from typing import NamedTuple


class SSEFrame(NamedTuple):
    event: str | None
    data: bytes


_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Incremental SSE parser: ``feed(chunk) -> [SSEFrame]``, ``close() -> [SSEFrame]``."""

    __slots__ = ("_buf", "_cr", "_head")

    def __init__(self) -> None:
        self._buf = b""
        self._cr = False  # last chunk ended in "\r": a "\n" at the start of the next is its pair
        self._head: bytes | None = b""  # bytes seen before the BOM check; None once it is done

    def feed(self, chunk: bytes) -> list[SSEFrame]:
        if not chunk:
            return []
        if self._head is not None:
            chunk = self._skip_bom(chunk)
            if not chunk:
                return []
        if b"\r" in chunk or self._cr:
            chunk = self._normalise(chunk)
        buf = self._buf + chunk if self._buf else chunk
        end = buf.rfind(b"\n\n")
        if end < 0:
            self._buf = buf
            return []
        self._buf = buf[end + 2 :]
        return [f for block in buf[:end].split(b"\n\n") if (f := _parse_block(block))]

    def close(self) -> list[SSEFrame]:
        """Dispatch a final event that was not followed by a blank line."""
        buf, self._buf = self._buf, b""
        frame = _parse_block(buf.strip(b"\n")) if buf.strip() else None
        return [frame] if frame else []

    def _skip_bom(self, chunk: bytes) -> bytes:
        head = self._head + chunk  # type: ignore[operator]
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head  # could still be a BOM split across reads
            return b""
        self._head = None
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    @property
    def pending(self) -> bytes:
        return self._buf

    def _normalise(self, chunk: bytes) -> bytes:
        if self._cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._cr = chunk.endswith(b"\r")
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _parse_block(block: bytes) -> SSEFrame | None:
    if block.startswith(b"data: ") and b"\n" not in block:  # fast path: one data line
        return SSEFrame(None, block[6:])
    event: str | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line[0] == 0x3A:  # ":" comment
            continue
        name, sep, value = line.partition(b":")
        if sep and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value.decode("utf-8", "replace")
    if not data:
        return None
    return SSEFrame(event, b"\n".join(data))


def encode_sse(data: bytes, event: str | None = None) -> bytes:
    """One SSE event. ``data`` must not contain a newline (compact JSON never does)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


class NDJSONDecoder:
    """Incremental newline-delimited JSON splitter: ``feed(chunk) -> [line bytes]``."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = self._buf + chunk if self._buf else chunk
        end = buf.rfind(b"\n")
        if end < 0:
            self._buf = buf
            return []
        self._buf = buf[end + 1 :]
        return [line for raw in buf[:end].split(b"\n") if (line := raw.strip())]

    def close(self) -> list[bytes]:
        buf, self._buf = self._buf.strip(), b""
        return [buf] if buf else []


def encode_ndjson(data: bytes) -> bytes:
    return data + b"\n"


class JSONArrayEncoder:
    """Gemini's default (non-``alt=sse``) stream: one JSON array written element by element."""

    __slots__ = ("_first",)

    def __init__(self) -> None:
        self._first = True

    def item(self, data: bytes) -> bytes:
        if self._first:
            self._first = False
            return b"[" + data
        return b",\r\n" + data

    def close(self) -> bytes:
        return b"[]" if self._first else b"]"
