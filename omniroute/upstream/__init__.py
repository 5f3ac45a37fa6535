"""The upstream clients: what the pipeline calls to reach a provider.

=========================  ===============================================================
module                     holds
=========================  ===============================================================
``pool``                   ``H1Pool`` (the request path: every chat/messages/responses/
                           generate call) and ``open_pool(settings)``
``connection``             one keep-alive connection (asyncio ``Protocol``), ``H1Response``,
                           timeouts, flow control
``parser``                 responses in, parsed by httptools (llhttp); framing and reuse rules
``request``                request heads out (hand-written: one f-string per request)
``body``                   ``StreamBody``: a body of bytes and file slices, sent in pieces
``errors``                 the client's exceptions, ``UPSTREAM_ERRORS``, the one exception →
                           ``ErrorKind`` table (``map_exception``)
``session``                ``open_session(settings)``: the aiohttp ``ClientSession`` for
                           management calls (redirects, proxies, decompression)
=========================  ===============================================================

The pipeline's whole interface::

    resp = await gw.upstream.request("POST", url, headers, body[, Timeouts(connect, head, read)])
    except UPSTREAM_ERRORS as exc: raise map_exception(exc, provider)

The pool's client work per request over a bare-socket floor measured ~14 µs with a
hand-written parser and ~4 µs less with llhttp, where aiohttp's ``ClientSession`` costs ~100 µs
(``bench/bench_upstream_h1.py``, docs/benchmarks.md).
"""

from omniroute.upstream.body import FilePart, StreamBody
from omniroute.upstream.connection import H1Response, Timeouts
from omniroute.upstream.errors import (
    UPSTREAM_ERRORS,
    H1ConnectError,
    H1ProtocolError,
    H1TimeoutError,
    map_exception,
)
from omniroute.upstream.pool import H1Pool, open_pool
from omniroute.upstream.session import open_session

__all__ = [
    "UPSTREAM_ERRORS",
    "FilePart",
    "H1ConnectError",
    "H1Pool",
    "H1ProtocolError",
    "H1Response",
    "H1TimeoutError",
    "StreamBody",
    "Timeouts",
    "map_exception",
    "open_pool",
    "open_session",
]
