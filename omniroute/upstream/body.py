"""Request bodies sent in pieces (``StreamBody``): audio uploads, never held whole in memory.

A body is a sequence of parts — bytes, and slices of open files (``FilePart``: a file
descriptor, an offset and a size, read with ``os.pread``, so no file position is shared and
the body can be sent again from its start: the pool's retry on a stale connection, and the
pipeline's fallback to another account). ``chunks()`` yields pieces of at most
``CHUNK`` bytes.

Framing (``H1Pool.request`` with a ``StreamBody``): ``Content-Length`` with the parts' total
size, or ``Transfer-Encoding: chunked`` when the body says ``chunked=True`` (a length the
sender does not want to promise).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class FilePart:
    """``size`` bytes of the open file ``fd`` from ``offset``."""

    fd: int
    size: int
    offset: int = 0


class StreamBody:
    """A replayable body of bytes and file slices (see the module doc)."""

    __slots__ = ("chunked", "parts")

    def __init__(self, *parts: bytes | FilePart, chunked: bool = False) -> None:
        self.parts = parts
        self.chunked = chunked

    @property
    def length(self) -> int | None:
        """The ``Content-Length`` to send (``None``: chunked)."""
        if self.chunked:
            return None
        return sum(len(p) if isinstance(p, bytes) else p.size for p in self.parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body from its start, in pieces of at most ``CHUNK`` bytes."""
        for part in self.parts:
            if isinstance(part, bytes):
                if part:
                    yield part
                continue
            done = 0
            while done < part.size:
                piece = os.pread(part.fd, min(CHUNK, part.size - done), part.offset + done)
                if not piece:
                    raise OSError(f"file ended {part.size - done} bytes early")
                done += len(piece)
                yield piece
