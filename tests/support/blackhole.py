"""A loopback port whose connects hang: a listener that never accepts, its queue filled.

Linux drops SYNs to a listener whose accept queue is full, so a new connect waits until the
client's timeout — a connect timeout without leaving 127.0.0.1.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def hanging_port() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        with suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.1)
    try:
        yield port
    finally:
        for s in [*fillers, listener]:
            s.close()
