"""Access settings through a real two-worker gateway: the IP filter (403 in each route's
dialect, honoured by both workers), trusted proxies and ``X-Forwarded-For``,
``requireLogin``, and the general settings document.

Every test client is on loopback, so other addresses arrive the way they do in production:
through a trusted proxy (``trustedProxies`` holds 127.0.0.1) that names them in
``X-Forwarded-For``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.client_wire import error_of, post
from tests.support.fleet import UPSTREAMS, connect
from tests.support.gateway import RunningGateway

PASSWORD = "correct horse battery"
OUTSIDE = "203.0.113.7"  # TEST-NET-3: never a real peer here, only named in X-Forwarded-For
OTHER = "198.51.100.20"


def via(ip: str, **extra: str) -> dict[str, str]:
    return {"x-forwarded-for": ip, **extra}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("access-gw"), "--workers", "2",
                             env={"INITIAL_PASSWORD": PASSWORD})
    try:
        assert gateway.api("POST", "/api/auth/login", {"password": PASSWORD}).status_code == 200
        connect(gateway, mocks)
        put = gateway.api("PUT", "/api/settings", {"trustedProxies": ["127.0.0.1"]})
        assert put.status_code == 200 and put.json()["trustedProxies"] == ["127.0.0.1/32"], put.text
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def ip_filter(gw: RunningGateway) -> Iterator[None]:
    yield
    assert gw.api("PUT", "/api/settings/ip-filter", {"mode": "off", "allow": [], "block": [],
                                                     "allowLoopback": True}).status_code == 200


CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def _ask(gw: RunningGateway, client: str, headers: dict[str, str]) -> httpx.Response:
    return post(gw, client, UPSTREAMS["openai"].id(), GEMINI if client == "gemini" else CHAT, headers)


@pytest.mark.parametrize("client", ["openai", "anthropic", "responses", "gemini", "ollama"])
def test_block_mode_refuses_in_the_routes_dialect(gw: RunningGateway, ip_filter: None, client: str) -> None:
    put = gw.api("PUT", "/api/settings/ip-filter", {"mode": "block", "block": ["203.0.113.0/24"]})
    assert put.status_code == 200, put.text
    for _ in range(6):  # both workers answer some of these
        refused = _ask(gw, client, via(OUTSIDE))
        assert refused.status_code == 403, refused.text
        assert OUTSIDE in error_of(client, refused)["message"]
    assert _ask(gw, client, via(OTHER)).status_code == 200
    assert _ask(gw, client, {}).status_code == 200  # loopback itself


def test_allow_mode_and_the_management_api(gw: RunningGateway, ip_filter: None) -> None:
    put = gw.api("PUT", "/api/settings/ip-filter", {"mode": "allow", "allow": [OTHER], "block": []})
    assert put.status_code == 200 and put.json()["allow"] == [f"{OTHER}/32"], put.text
    pids = set()
    for _ in range(30):  # a new connection each time: both workers get some
        refused = httpx.get(gw.url + "/api/providers", headers=via(OUTSIDE))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "ip_blocked", refused.text
        assert httpx.get(gw.url + "/api/monitoring/health", headers=via(OUTSIDE)).status_code == 403
        allowed = httpx.get(gw.url + "/api/monitoring/health", headers=via(OTHER))
        assert allowed.status_code == 200
        pids.add(allowed.json()["pid"])
        if len(pids) == 2:
            break
    assert len(pids) == 2, "both workers should have answered"
    assert gw.http.get("/api/providers", headers=via(OTHER)).status_code == 200  # the cookie still applies
    assert gw.http.post("/v1beta/models/mock/agent:generateContent", json=GEMINI,
                        headers=via(OUTSIDE)).json()["error"]["status"] == "PERMISSION_DENIED"


def test_x_forwarded_for_counts_only_from_a_trusted_peer(gw: RunningGateway, ip_filter: None) -> None:
    gw.api("PUT", "/api/settings/ip-filter", {"mode": "block", "block": [OUTSIDE]})
    # a chain: the rightmost address that is not a trusted proxy is the client
    assert _ask(gw, "openai", via(f"{OTHER}, {OUTSIDE}")).status_code == 403
    assert _ask(gw, "openai", via(f"{OUTSIDE}, {OTHER}")).status_code == 200  # the proxy saw OTHER
    assert gw.api("PUT", "/api/settings", {"trustedProxies": []}).status_code == 200
    try:  # now the header is the client's own claim: the peer (loopback) is the client
        assert _ask(gw, "openai", via(OUTSIDE)).status_code == 200
    finally:
        assert gw.api("PUT", "/api/settings", {"trustedProxies": ["127.0.0.1"]}).status_code == 200


def test_allow_loopback_and_the_lockout_guard(gw: RunningGateway, ip_filter: None) -> None:
    # a filter that would refuse the caller itself is refused, naming the address
    own = gw.api("PUT", "/api/settings/ip-filter", {"mode": "allow", "allow": [OTHER], "allowLoopback": False})
    assert own.status_code == 400 and "127.0.0.1" in own.json()["error"]["message"]
    # from an allowed address behind the proxy, loopback can be shut out entirely
    put = gw.http.put("/api/settings/ip-filter", json={"mode": "allow", "allow": [OTHER], "allowLoopback": False},
                      headers=via(OTHER))
    assert put.status_code == 200, put.text
    assert gw.http.get("/api/monitoring/health").status_code == 403
    assert gw.http.put("/api/settings/ip-filter", json={"mode": "off"}, headers=via(OTHER)).status_code == 200
    assert gw.http.get("/api/monitoring/health").status_code == 200


@pytest.mark.parametrize(("body", "param"), [
    ({"mode": "deny"}, "mode"),
    ({"mode": "allow", "allow": ["10.0.0.0/8", "not-an-ip"]}, "allow[1]"),
    ({"block": "10.0.0.1"}, "block"),
    ({"allowLoopback": "yes"}, "allowLoopback"),
    ({"mode": "block", "extra": 1}, "extra"),
])
def test_bad_ip_filters_name_the_field(gw: RunningGateway, body: dict[str, Any], param: str) -> None:
    resp = gw.api("PUT", "/api/settings/ip-filter", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text
    assert gw.api("GET", "/api/settings/ip-filter").json()["mode"] == "off"


def test_require_login_off_lets_loopback_in_but_no_one_else(gw: RunningGateway) -> None:
    assert gw.api("GET", "/api/settings/require-login").json() == {"requireLogin": True, "hasPassword": True}
    with httpx.Client(base_url=gw.url) as anon:
        assert anon.get("/api/providers").status_code == 401
        assert gw.api("PUT", "/api/settings/require-login", {"requireLogin": False}).status_code == 200
        try:
            for _ in range(6):  # both workers
                assert anon.get("/api/providers").status_code == 200
                assert anon.get("/api/providers", headers=via(OUTSIDE)).status_code == 401
        finally:
            assert gw.api("PUT", "/api/settings/require-login", {"requireLogin": True}).status_code == 200
        assert anon.get("/api/providers").status_code == 401
    bad = gw.api("PUT", "/api/settings/require-login", {"requireLogin": "no"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "requireLogin"


def test_general_settings(gw: RunningGateway) -> None:
    shown = gw.api("GET", "/api/settings").json()
    assert shown["port"] == gw.port and shown["host"] == "127.0.0.1" and shown["workers"] == 2
    assert shown["accountStrategy"] == "fill-first" and shown["trustedProxies"] == ["127.0.0.1/32"]
    for body, param in (({"port": 1}, "port"), ({"trustedProxies": ["10.0.0.0/33"]}, "trustedProxies[0]"),
                        ({"accountStrategy": "random-ish"}, "accountStrategy"), ({"color": "red"}, "color")):
        resp = gw.api("PUT", "/api/settings", body)
        assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text
    changed = gw.api("PUT", "/api/settings", {"accountStrategy": "round-robin"}).json()
    assert changed["accountStrategy"] == "round-robin" and changed["trustedProxies"] == ["127.0.0.1/32"]
    gw.api("PUT", "/api/settings", {"accountStrategy": "fill-first"})
