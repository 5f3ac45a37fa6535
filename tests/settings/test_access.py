"""``settings.access`` and ``settings.proxies``: client addresses, the IP filter, proxy choice."""

from __future__ import annotations

from omniroute.settings.access import Access, IpFilter
from omniroute.settings.proxies import ProxyTable


def scope(peer: str, **headers: str) -> dict:
    return {"client": (peer, 1234), "scheme": "http",
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def test_client_address_from_trusted_proxies_only() -> None:
    access = Access({"trustedProxies": ["10.0.0.0/8"]}, {}, {})
    assert access.client_ip(scope("10.1.1.1", x_forwarded_for="198.51.100.1, 10.2.2.2")) == "198.51.100.1"
    assert access.client_ip(scope("203.0.113.9", x_forwarded_for="198.51.100.1")) == "203.0.113.9"
    assert access.client_ip(scope("10.1.1.1")) == "10.1.1.1"
    assert access.is_https(scope("10.1.1.1", x_forwarded_proto="https"))
    assert not access.is_https(scope("203.0.113.9", x_forwarded_proto="https"))
    assert access.ip_filter is None and access.require_login is None


def test_ip_filter_modes() -> None:
    allow = IpFilter({"mode": "allow", "allow": ["192.0.2.0/24"], "block": ["192.0.2.66/32"], "allowLoopback": True})
    assert allow.allows("192.0.2.1") and not allow.allows("192.0.2.66") and not allow.allows("198.51.100.1")
    assert allow.allows("127.0.0.1") and allow.allows("::1") and allow.allows("::ffff:127.0.0.1")
    assert not allow.allows("not an address")
    block = IpFilter({"mode": "block", "allow": [], "block": ["2001:db8::/32", "127.0.0.1/32"],
                      "allowLoopback": False})
    assert not block.allows("2001:db8::5") and block.allows("2001:db9::5") and not block.allows("127.0.0.1")


def test_proxy_choice() -> None:
    table = ProxyTable({"global": {"url": "socks5://g:1"}, "providers": {"openai": {"url": "http://p:2"}},
                        "connections": {"c1": {"url": "http://c:3"}}, "noProxy": [".internal", "10.0.0.0/8"]},
                       {"HTTPS_PROXY": "http://env:4"})
    assert table.for_target("c1", "openai", "https://api.openai.com") == "http://c:3"
    assert table.for_target("c2", "openai", "https://api.openai.com") == "http://p:2"
    assert table.for_target("c3", "anthropic", "https://api.anthropic.com") == "socks5://g:1"
    assert table.for_target("c3", "vllm", "http://gpu.internal:8000/v1") is None
    assert table.for_target("c3", "vllm", "http://10.1.2.3:8000/v1") is None
    assert table.for_target("c1", "vllm", "http://10.1.2.3:8000/v1") == "http://c:3"  # explicit wins
    env = ProxyTable({}, {"HTTPS_PROXY": "http://env:4", "NO_PROXY": "*"})
    assert env.configured and env.for_target("c", "openai", "https://api.openai.com") is None
    env = ProxyTable({}, {"https_proxy": "http://env:4"})
    assert env.for_target("c", "openai", "https://api.openai.com") == "http://env:4"
    assert env.for_target("c", "ollama", "http://localhost:11434") is None  # no HTTP_PROXY
    assert not ProxyTable({}, {}).configured
