"""Subscription-account tests: a mock OAuth server (``tests.support.oauth_server``) and a real
gateway with two workers whose every OAuth URL points at it (``OMNIROUTE_OAUTH_*``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.gateway import RunningGateway
from tests.support.oauth_server import MockOAuth

#: OAuth provider → the path of its mock upstream (the connection's baseUrl)
BASES = {"claude": "/anthropic/v1", "codex": "/codex", "gemini-cli": "/v1internal", "github": "/copilot"}


@pytest.fixture(scope="module")
def oauth() -> Iterator[MockOAuth]:
    server = MockOAuth().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, oauth: MockOAuth) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("gw-oauth"), "--workers", "2", env=oauth.env())
    yield gateway
    gateway.stop()


def login(gw: RunningGateway, oauth: MockOAuth, provider: str, **fields: Any) -> dict[str, Any]:
    """The code flow as a user does it: open the authorization URL (the mock redirects at
    once), paste the callback URL into the exchange. Answers the connection."""
    auth = gw.api("GET", f"/api/oauth/{provider}/authorize")
    assert auth.status_code == 200, auth.text
    callback = httpx.get(auth.json()["authUrl"], follow_redirects=False)
    assert callback.status_code == 302, callback.text
    body = {"code": callback.headers["location"], "baseUrl": oauth.origin + BASES[provider], **fields}
    conn = gw.api("POST", f"/api/oauth/{provider}/exchange", body)
    assert conn.status_code == 201, conn.text
    return conn.json()


def device_login(gw: RunningGateway, oauth: MockOAuth, **fields: Any) -> dict[str, Any]:
    started = gw.api("POST", "/api/oauth/github/device")
    assert started.status_code == 200, started.text
    code = started.json()["deviceCode"]
    oauth.approve(code)
    done = gw.api("POST", "/api/oauth/github/poll", {"deviceCode": code, "baseUrl": oauth.origin + BASES["github"],
                                                     **fields})
    assert done.json()["status"] == "complete", done.text
    return done.json()["connection"]


def chat(gw: RunningGateway, model: str, connection: str, **kw: Any) -> httpx.Response:
    """A chat request pinned to one account (``X-OmniRoute-Connection``)."""
    return gw.http.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}],
                                                      **kw}, headers={"x-omniroute-connection": connection})


def states(gw: RunningGateway) -> dict[str, dict[str, Any]]:
    resp = gw.api("GET", "/api/rate-limits")
    assert resp.status_code == 200, resp.text
    return {a["connectionId"]: a for a in resp.json()["accounts"]}
