"""Upstream proxies through a real two-worker gateway and real proxies (CONNECT and SOCKS5,
``tests/support/proxies.py``): the most specific entry wins (connection → provider → global →
environment), ``noProxy`` and ``NO_PROXY``, credentials masked, the proxy test endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY
from tests.support.openai_upstream import OpenAIUpstream
from tests.support.proxies import ConnectProxy, Socks5Proxy

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def proxies() -> Iterator[dict[str, Any]]:
    servers = {"socks": Socks5Proxy(("omni", "socks-pass")).start(), "connect": ConnectProxy().start(),
               "connect-auth": ConnectProxy(("omni", "http-pass")).start()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="module")
def second() -> Iterator[OpenAIUpstream]:
    server = OpenAIUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream,
       second: OpenAIUpstream) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("proxy-gw"), "--workers", "2")
    try:
        gateway.add_openai_upstream(upstream.base_url, prefix="one", api_key=API_KEY)
        gateway.add_openai_upstream(second.base_url, prefix="two", api_key=API_KEY)
        yield gateway
    finally:
        gateway.stop()


def ids(gw: RunningGateway) -> dict[str, str]:
    """prefix → (connection id, provider id)."""
    out = {}
    for conn in gw.api("GET", "/api/providers").json()["connections"]:
        out[conn["name"].removesuffix("-conn")] = (conn["id"], conn["provider"])
    return out


def chat(gw: RunningGateway, model: str, n: int = 4) -> None:
    sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0)
    for _ in range(n):  # new connections: both workers take some
        assert sdk.chat.completions.create(model=model, messages=MESSAGES).choices
        sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0)


@pytest.fixture
def reset(gw: RunningGateway) -> Iterator[None]:
    yield
    empty = {"global": None, "providers": {}, "connections": {}, "noProxy": []}
    assert gw.api("PUT", "/api/settings/proxy", empty).status_code == 200


def test_global_then_provider_then_connection(gw: RunningGateway, proxies: dict[str, Any], upstream: OpenAIUpstream,
                                              second: OpenAIUpstream, reset: None) -> None:
    socks, connect, authed = proxies["socks"], proxies["connect"], proxies["connect-auth"]
    one, two = upstream.base_url.split("/")[2], second.base_url.split("/")[2]
    put = gw.api("PUT", "/api/settings/proxy", {"global": {"url": socks.url}})
    assert put.status_code == 200, put.text
    assert put.json()["global"]["url"] == socks.url.replace("socks-pass", "****")
    chat(gw, "one/gpt-4o-mini")
    chat(gw, "two/gpt-4o-mini")
    assert {one, two} <= set(socks.tunnels) and socks.credentials[-1] == ("omni", "socks-pass")

    conns = ids(gw)
    assert gw.api("PUT", "/api/settings/proxy", {"providers": {conns["two"][1]: {"url": connect.url}}}).status_code \
        == 200
    before = len(socks.tunnels)
    chat(gw, "two/gpt-4o-mini")
    assert two in connect.tunnels and two not in socks.tunnels[before:]
    assert gw.api("PUT", "/api/settings/proxy", {"connections": {conns["two"][0]: {"url": authed.url}}}).status_code \
        == 200
    chat(gw, "two/gpt-4o-mini")
    assert authed.tunnels[-1] == two and authed.credentials[-1] == ("omni", "http-pass")
    carried = socks.carried[one]
    chat(gw, "one/gpt-4o-mini")  # the global entry still serves the other connection
    assert socks.carried[one] > carried and one not in connect.tunnels and one not in authed.tunnels


def test_no_proxy_and_unproxied_connections(gw: RunningGateway, proxies: dict[str, Any], upstream: OpenAIUpstream,
                                            reset: None) -> None:
    socks = proxies["socks"]
    one = upstream.base_url.split("/")[2]
    gw.api("PUT", "/api/settings/proxy", {"global": {"url": socks.url}, "noProxy": ["127.0.0.0/8"]})
    before = socks.carried.get(one, 0)
    chat(gw, "one/gpt-4o-mini")
    assert socks.carried.get(one, 0) == before
    conns = ids(gw)  # an explicit entry applies whatever noProxy says
    gw.api("PUT", "/api/settings/proxy", {"connections": {conns["one"][0]: {"url": socks.url}}})
    chat(gw, "one/gpt-4o-mini", 1)
    assert socks.carried[one] > before


def test_a_masked_url_sent_back_keeps_its_password(gw: RunningGateway, proxies: dict[str, Any], reset: None) -> None:
    socks = proxies["socks"]
    gw.api("PUT", "/api/settings/proxy", {"global": {"url": socks.url}})
    shown = gw.api("GET", "/api/settings/proxy").json()
    assert "socks-pass" not in str(shown)
    assert gw.api("PUT", "/api/settings/proxy", shown).status_code == 200  # GET, edit nothing, PUT back
    chat(gw, "one/gpt-4o-mini", 1)
    assert socks.credentials[-1] == ("omni", "socks-pass")


def test_a_dead_proxy_is_an_upstream_error(gw: RunningGateway, reset: None) -> None:
    gw.api("PUT", "/api/settings/proxy", {"global": {"url": "socks5://127.0.0.1:9"}})
    resp = gw.http.post("/v1/chat/completions", json={"model": "one/gpt-4o-mini", "messages": MESSAGES})
    assert resp.status_code == 502 and "proxy socks5://127.0.0.1:9" in resp.json()["error"]["message"], resp.text


@pytest.mark.parametrize(("body", "param"), [
    ({"global": {"url": "ftp://127.0.0.1:21"}}, "global.url"),
    ({"global": {"url": "socks5://proxy-without-port"}}, "global.url"),
    ({"global": "socks5://127.0.0.1:1080"}, "global"),
    ({"providers": {"no-such-provider": {"url": "http://127.0.0.1:3128"}}}, "providers.no-such-provider"),
    ({"connections": {"conn-missing": {"url": "http://127.0.0.1:3128"}}}, "connections.conn-missing"),
    ({"noProxy": "localhost"}, "noProxy"),
    ({"pac": "x"}, "pac"),
])
def test_bad_proxy_settings_name_the_field(gw: RunningGateway, body: dict[str, Any], param: str) -> None:
    resp = gw.api("PUT", "/api/settings/proxy", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text


def test_the_proxy_test_endpoint(gw: RunningGateway, proxies: dict[str, Any], upstream: OpenAIUpstream) -> None:
    target = upstream.base_url + "/models"
    for name in ("socks", "connect", "connect-auth"):
        got = gw.api("POST", "/api/settings/proxy/test", {"url": proxies[name].url, "target": target}).json()
        assert got["ok"] is True and got["error"] is None and got["latencyMs"] > 0, got
        assert proxies[name].tunnels[-1] == target.split("/")[2]
    wrong = proxies["connect-auth"].url.replace("http-pass", "nope")
    got = gw.api("POST", "/api/settings/proxy/test", {"url": wrong, "target": target}).json()
    assert got["ok"] is False and "nope" not in got["error"] and "407" in got["error"], got
    dead = gw.api("POST", "/api/settings/proxy/test", {"url": "http://127.0.0.1:9", "target": target}).json()
    assert dead["ok"] is False and dead["error"], dead
    bad = gw.api("POST", "/api/settings/proxy/test", {"url": "gopher://x:70"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "url"


def test_environment_proxies(tmp_path_factory: pytest.TempPathFactory, proxies: dict[str, Any],
                             upstream: OpenAIUpstream, second: OpenAIUpstream) -> None:
    """``HTTP_PROXY`` serves http upstreams not in ``NO_PROXY``; the setting's ``noProxy`` adds to it."""
    connect = proxies["connect"]
    one = upstream.base_url.split("/")[2]
    gateway = RunningGateway(tmp_path_factory.mktemp("env-proxy-gw"), "--workers", "2",
                             env={"HTTP_PROXY": connect.url, "NO_PROXY": "localhost"})
    try:
        gateway.add_openai_upstream(upstream.base_url, prefix="one", api_key=API_KEY)
        gateway.add_openai_upstream(second.base_url.replace("127.0.0.1", "localhost"), prefix="two",
                                    api_key=API_KEY)
        before = len(connect.tunnels)
        chat(gateway, "two/gpt-4o-mini", 2)  # localhost: in NO_PROXY
        assert len(connect.tunnels) == before
        chat(gateway, "one/gpt-4o-mini", 2)
        assert connect.tunnels[before:] and set(connect.tunnels[before:]) == {one}
        assert gateway.api("PUT", "/api/settings/proxy", {"noProxy": ["127.0.0.1"]}).status_code == 200
        after = len(connect.tunnels)
        for _ in range(4):  # new client connections: both workers, each with its own pools
            httpx.post(gateway.url + "/v1/chat/completions", json={"model": "one/gpt-4o-mini", "messages": MESSAGES})
        assert len(connect.tunnels) == after
    finally:
        gateway.stop()
