"""Who may reach the gateway: the IP filter, trusted proxies and ``requireLogin``, compiled.

``Access`` is built from the ``general``, ``auth`` and ``ip_filter`` documents when the
store's version moves; a request reads it, never the store. With the filter off,
``Access.ip_filter`` is ``None`` and the app's check is one attribute test.

The client's address is the socket peer, unless the peer is a trusted proxy
(``trustedProxies``): then ``X-Forwarded-For`` is read right to left and the first address
that is not itself a trusted proxy is the client (a client cannot forge its way past the
proxy that appended the real peer). ``X-Forwarded-Proto: https`` from a trusted proxy marks
the request as HTTPS (``Secure`` cookies).

IP filter, per mode (``allowLoopback``, on by default, lets loopback clients through in every
mode, so an operator on the machine cannot lock themselves out):

=========  =================================================================================
mode       a client passes when
=========  =================================================================================
``off``    always (no check is made)
``allow``  its address is in ``allow`` and not in ``block``
``block``  its address is not in ``block``
=========  =================================================================================
"""

from __future__ import annotations

import ipaddress
from typing import Any

from omniroute.errors import ErrorKind, GatewayError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE = 4096


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in ``text`` (IPv4-mapped IPv6 as IPv4), or ``None`` when it is none."""
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def networks(cidrs: list[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def within(text: str, nets: tuple[Network, ...]) -> bool:
    addr = address(text)
    return addr is not None and any(addr in net for net in nets)


def is_loopback(text: str) -> bool:
    addr = address(text)
    return addr.is_loopback if addr is not None else text == "localhost"


class IpFilter:
    """The ``allow``/``block`` decision for one address, cached per address."""

    __slots__ = ("allow", "allow_loopback", "block", "decided", "mode")

    def __init__(self, doc: dict[str, Any]) -> None:
        self.mode = doc["mode"]
        self.allow = networks(doc["allow"])
        self.block = networks(doc["block"])
        self.allow_loopback = bool(doc["allowLoopback"])
        self.decided: dict[str, bool] = {}

    def allows(self, ip: str) -> bool:
        known = self.decided.get(ip)
        if known is None:
            known = self._decide(ip)
            if len(self.decided) >= _CACHE:
                self.decided.clear()
            self.decided[ip] = known
        return known

    def _decide(self, ip: str) -> bool:
        addr = address(ip)
        if addr is None:
            return False
        if self.allow_loopback and addr.is_loopback:
            return True
        if any(addr in net for net in self.block):
            return False
        return self.mode == "block" or any(addr in net for net in self.allow)


class Access:
    """The compiled access settings of one snapshot (module docstring)."""

    __slots__ = ("ip_filter", "require_login", "trusted")

    def __init__(self, general: dict[str, Any], auth: dict[str, Any], ip_filter: dict[str, Any]) -> None:
        self.trusted = networks(general.get("trustedProxies", []))
        #: ``None``: the default, on once a password exists (decided when asked: server.auth)
        self.require_login: bool | None = auth.get("requireLogin")
        self.ip_filter = IpFilter(ip_filter) if ip_filter.get("mode", "off") != "off" else None

    def client_ip(self, scope: dict[str, Any]) -> str:
        client = scope.get("client")
        peer = client[0] if client else ""
        if not self.trusted or not within(peer, self.trusted):
            return peer
        hops = [h.strip() for h in _header(scope, b"x-forwarded-for").split(",") if h.strip()]
        for hop in reversed(hops):
            if not within(hop, self.trusted):
                return hop
        return hops[0] if hops else peer

    def is_https(self, scope: dict[str, Any]) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        trusted = bool(self.trusted) and client is not None and within(client[0], self.trusted)
        return trusted and _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower() == "https"

    def check(self, scope: dict[str, Any]) -> None:
        """403 unless the IP filter lets the request's client through (call only when on)."""
        ip = self.client_ip(scope)
        if not self.ip_filter.allows(ip):  # type: ignore[union-attr]
            raise GatewayError(ErrorKind.PERMISSION, f"the gateway's IP filter does not allow address {ip or '?'}",
                               code="ip_blocked")


def _header(scope: dict[str, Any], name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == name]
    return ",".join(values)
