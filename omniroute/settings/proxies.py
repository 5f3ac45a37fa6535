"""Which proxy an upstream call goes through: the ``proxy`` document and the environment.

The most specific entry wins:

======  ========================================  =========================================
order   entry                                     applies to
======  ========================================  =========================================
1       ``connections.<id>``                      that account's calls
2       ``providers.<provider id>``               every account of the provider
3       ``global``                                every upstream call
4       ``HTTPS_PROXY`` / ``HTTP_PROXY`` (or      calls to https / http base URLs
        lower-case) in the gateway's environment
======  ========================================  =========================================

``noProxy`` (and the environment's ``NO_PROXY``) lists hosts that levels 3 and 4 leave
alone: a name (``api.example.com``), a suffix (``.example.com``: the domain and its
subdomains), an IP or CIDR (``10.0.0.0/8``), or ``*`` (no host). An entry for a connection
or a provider is explicit and always applies. With no entry and no environment proxy,
``ProxyTable.configured`` is false and requests never look here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from omniroute.settings.access import address, networks

_ENV = {"https": ("HTTPS_PROXY", "https_proxy"), "http": ("HTTP_PROXY", "http_proxy")}


class ProxyTable:
    """The resolved ``proxy`` document (module docstring)."""

    def __init__(self, doc: dict[str, Any], environ: Mapping[str, str] = os.environ) -> None:
        self.connections = {k: v["url"] for k, v in (doc.get("connections") or {}).items()}
        self.providers = {k: v["url"] for k, v in (doc.get("providers") or {}).items()}
        self.global_url: str | None = (doc.get("global") or {}).get("url")
        self.env = {scheme: next((environ[n] for n in names if environ.get(n)), None) for scheme, names in _ENV.items()}
        env_no = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
        patterns = [*(doc.get("noProxy") or []), *(p.strip().lower() for p in env_no.split(",") if p.strip())]
        self.no_proxy_all = "*" in patterns
        self.no_proxy_names = tuple(p for p in patterns if p != "*" and not _is_network(p))
        self.no_proxy_nets = networks([p for p in patterns if _is_network(p)])

    @property
    def configured(self) -> bool:
        return bool(self.connections or self.providers or self.global_url or any(self.env.values()))

    def for_target(self, connection_id: str, provider: str, base_url: str) -> str | None:
        """The proxy URL for calls of this account to ``base_url``, or ``None`` (direct)."""
        url = self.connections.get(connection_id) or self.providers.get(provider)
        if url:
            return url
        parts = urlsplit(base_url)
        fallback = self.global_url or self.env.get(parts.scheme)
        if fallback is None or self.bypassed(parts.hostname or ""):
            return None
        return fallback

    def bypassed(self, host: str) -> bool:
        host = host.lower().strip("[]")
        if self.no_proxy_all:
            return True
        for name in self.no_proxy_names:
            bare = name.lstrip(".")
            if host == bare or host.endswith("." + bare):
                return True
        addr = address(host) if self.no_proxy_nets else None
        return addr is not None and any(addr in net for net in self.no_proxy_nets)


def _is_network(pattern: str) -> bool:
    try:
        networks([pattern])
    except ValueError:
        return False
    return True
