"""The request-path client's exceptions, and the one exception → ``ErrorKind`` table.

The pool raises only these (and ``ValueError`` for a URL or header it refuses to send)::

    OSError
     └── H1ConnectError         refused, unreachable, DNS, TLS handshake, pool closed
    TimeoutError
     └── H1TimeoutError         no connection within connect_timeout, no head within
                                head_timeout, or a body gap longer than read_timeout
    Exception
     └── H1ProtocolError        malformed response (``upstream.parser`` rejected it); closed
                                before any response or before the body was complete

``UPSTREAM_ERRORS`` is what a caller catches around ``request``, ``read`` and iteration.

Exception → ``ErrorKind`` (first match wins), for the pool and the management aiohttp session:

==============================================  =====================
``H1ConnectError``, aiohttp connector errors    UPSTREAM_UNREACHABLE
``H1TimeoutError``, ``TimeoutError``,           UPSTREAM_TIMEOUT
aiohttp ``ServerTimeoutError``
``H1ProtocolError``, aiohttp payload /          UPSTREAM_PROTOCOL
disconnect / other client errors
other ``OSError``                               UPSTREAM_UNREACHABLE
anything else                                   INTERNAL
==============================================  =====================
"""

from __future__ import annotations

import aiohttp

from omniroute.errors import ErrorKind, GatewayError


class H1ConnectError(OSError):
    """The TCP/TLS connection could not be opened (refused, unreachable, DNS, TLS)."""


class H1TimeoutError(TimeoutError):
    """No connection within ``connect_timeout``, no head within ``head_timeout``, or no body
    bytes within ``read_timeout``."""


class H1ProtocolError(Exception):
    """A malformed response, or the connection closed before the response was complete."""


#: what a caller must catch around ``request``, ``read`` and iteration
UPSTREAM_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, H1ProtocolError)

EXCEPTION_KINDS: tuple[tuple[type[BaseException], ErrorKind, str], ...] = (
    (H1ConnectError, ErrorKind.UPSTREAM_UNREACHABLE, "cannot connect to upstream"),
    (aiohttp.ClientConnectorError, ErrorKind.UPSTREAM_UNREACHABLE, "cannot connect to upstream"),
    (H1TimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (aiohttp.ServerTimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (TimeoutError, ErrorKind.UPSTREAM_TIMEOUT, "upstream timed out"),
    (H1ProtocolError, ErrorKind.UPSTREAM_PROTOCOL, "upstream broke the protocol"),
    (aiohttp.ServerDisconnectedError, ErrorKind.UPSTREAM_PROTOCOL, "upstream closed the connection"),
    (aiohttp.ClientPayloadError, ErrorKind.UPSTREAM_PROTOCOL, "upstream sent a broken body"),
    (aiohttp.ClientError, ErrorKind.UPSTREAM_PROTOCOL, "upstream request failed"),
    (OSError, ErrorKind.UPSTREAM_UNREACHABLE, "upstream connection failed"),
)


def map_exception(exc: BaseException, provider: str | None = None) -> GatewayError:
    """An exception raised while talking to an upstream → ``GatewayError``."""
    for cls, kind, what in EXCEPTION_KINDS:
        if isinstance(exc, cls):
            detail = str(exc) or type(exc).__name__
            return GatewayError(kind, f"{what} ({provider or 'upstream'}): {detail}", provider=provider)
    return GatewayError(ErrorKind.INTERNAL, f"unexpected upstream failure: {type(exc).__name__}", provider=provider)
