"""The worker's management-call client: an aiohttp ``ClientSession``.

Management calls (``/api/providers/{id}/test`` and ``/models``, ``validate``) are rare and
want what the request-path pool leaves out — redirects, proxies, decompression — more than
microseconds. Its exceptions map through the same table as the pool's
(``upstream.errors.map_exception``).

Timeouts (``Settings``): ``connect_timeout`` bounds the TCP/TLS connect,
``stream_idle_timeout`` the longest silence between two reads; no total timeout (callers
wrap probes in their own ``asyncio.timeout``).
"""

from __future__ import annotations

import aiohttp

from omniroute.config import Settings


def open_session(settings: Settings) -> aiohttp.ClientSession:
    """The worker's management-call client: no cookie jar, default decompression."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=16, ttl_dns_cache=300, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.connect_timeout, sock_read=settings.stream_idle_timeout
    )
    return aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar())
