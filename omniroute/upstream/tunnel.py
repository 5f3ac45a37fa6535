"""Upstream connections through a proxy: a tunnel, then the pool's own HTTP/1.1 over it.

An ``H1Pool`` made with a ``ProxyTunnel`` opens each new connection through that proxy and
then speaks to the upstream exactly as an unproxied pool does (same parser, keep-alive,
timeouts); a pool without one never reaches this module. The tunnel is made by
``python-socks`` (the library behind ``aiohttp-socks``):

==============  ===================================================================
proxy URL       tunnel
==============  ===================================================================
``http://``     HTTP ``CONNECT host:port`` (also for ``http://`` upstreams)
``https://``    the same over TLS to the proxy
``socks5://``   SOCKS5, the upstream's name resolved here
``socks5h://``  SOCKS5, the name resolved by the proxy
==============  ===================================================================

Credentials in the URL (``scheme://user:password@host:port``) are sent to the proxy
(``Proxy-Authorization: Basic`` or SOCKS5 username/password). TLS to an ``https``
upstream is started on the tunnel with the pool's context (``loop.start_tls``).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any
from urllib.parse import unquote, urlsplit

from python_socks import ProxyError, ProxyTimeoutError, ProxyType
from python_socks.async_.asyncio.v2 import Proxy

from omniroute.upstream.errors import H1ConnectError, H1TimeoutError

_TYPES = {"http": ProxyType.HTTP, "https": ProxyType.HTTP, "socks5": ProxyType.SOCKS5, "socks5h": ProxyType.SOCKS5}


class ProxyTunnel:
    """One proxy URL, parsed once; ``open`` connects a protocol to an upstream through it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _TYPES or not parts.hostname or parts.port is None:
            raise ValueError(f"unsupported proxy URL (scheme://host:port with http, https, socks5, socks5h): "
                             f"{parts.scheme}://{parts.hostname}")
        self.scheme = parts.scheme
        self.host, self.port = parts.hostname, parts.port
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.label = f"{parts.scheme}://{parts.hostname}:{parts.port}"  # no credentials: for messages
        self._proxy_ssl = ssl.create_default_context() if parts.scheme == "https" else None

    def _proxy(self, loop: asyncio.AbstractEventLoop) -> Proxy:
        return Proxy(_TYPES[self.scheme], self.host, self.port, self.username, self.password,
                     rdns=self.scheme != "socks5", proxy_ssl=self._proxy_ssl, loop=loop)

    async def open(self, loop: asyncio.AbstractEventLoop, protocol: Any, host: str, port: int,
                   tls: ssl.SSLContext | None, timeout: float) -> None:
        """Tunnel to ``host:port`` and hand the connection to ``protocol`` (TLS started first
        for an https upstream). Raises ``H1ConnectError`` or ``H1TimeoutError``."""
        try:
            stream = await self._proxy(loop).connect(host, port, timeout=timeout)
        except ProxyTimeoutError as exc:
            raise H1TimeoutError(f"proxy {self.label}: connect to {host}:{port} timed out") from exc
        except (ProxyError, OSError) as exc:
            raise H1ConnectError(f"proxy {self.label} could not reach {host}:{port}: {exc}") from exc
        transport = stream.writer.transport
        protocol.tunnel = stream  # type: ignore[attr-defined]  # a StreamWriter closes its transport when collected
        if tls is None:
            transport.set_protocol(protocol)
            protocol.connection_made(transport)
            return
        try:
            async with asyncio.timeout(timeout):
                secured = await loop.start_tls(transport, protocol, tls, server_hostname=host)
        except BaseException:
            transport.abort()
            raise
        assert secured is not None
        protocol.connection_made(secured)
