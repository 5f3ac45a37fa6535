"""Cloud sync between two real gateways on loopback: the sync token, push and pull of the
config bundle with ETags (``If-None-Match`` → 303/304, ``If-Match`` → 412), no secret moved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory,
         upstream: OpenAIUpstream) -> Iterator[tuple[RunningGateway, RunningGateway]]:
    a = RunningGateway(tmp_path_factory.mktemp("gw-sync-a"))
    b = RunningGateway(tmp_path_factory.mktemp("gw-sync-b"), "--workers", "2")
    a.add_openai_upstream(upstream.base_url, prefix="sy")
    ok(a.api("POST", "/api/providers", {"provider": "openai", "apiKey": "sk-upstream", "baseUrl": upstream.base_url}),
       201)
    yield a, b
    a.stop()
    b.stop()


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def token_of(gw: RunningGateway) -> str:
    return ok(gw.api("POST", "/api/sync/initialize"), 201)["token"]


def sync(gw: RunningGateway, peer: RunningGateway, token: str, direction: str) -> Any:
    return gw.api("POST", "/api/sync/cloud", {"peerUrl": peer.url, "token": token, "direction": direction})


def test_push_then_pull(pair: tuple[RunningGateway, RunningGateway]) -> None:
    a, b = pair
    token = token_of(b)
    ok(a.api("POST", "/api/combos", {"name": "synced", "models": ["sy/gpt-4o-mini"]}), 201)
    ok(a.api("POST", "/api/models/alias", {"alias": "quick", "model": "sy/gpt-4o-mini"}), 201)
    ok(a.api("PUT", "/api/pricing", {"sy/gpt-4o-mini": {"input": 1.5, "output": 2.5}}))
    pushed = ok(sync(a, b, token, "push"))
    assert pushed["changed"] and pushed["changes"]["combos"]["added"] and "connections" in pushed["changes"]
    assert [c["name"] for c in ok(b.api("GET", "/api/combos"))["combos"]] == ["synced"]
    assert ok(b.api("GET", "/api/models/alias"))["aliases"]["quick"] == "sy/gpt-4o-mini"
    conns = {c["provider"]: c for c in ok(b.api("GET", "/api/providers"))["connections"]}
    assert all(c["apiKey"] == "" for c in conns.values())  # no key left A
    waiting = b.api("GET", "/api/rate-limits").json()["accounts"]
    assert {a["provider"]: a["state"] for a in waiting}["openai"] == "disabled"  # not routed until it has one
    again = ok(sync(a, b, token, "push"))
    assert again["changed"] is False and again["changes"] == {}
    ok(b.api("POST", "/api/models/alias", {"alias": "from-b", "model": "sy/gpt-4o"}), 201)
    pulled = ok(sync(a, b, token, "pull"))
    assert pulled["changes"]["aliases"]["added"] == ["from-b"]
    assert ok(a.api("GET", "/api/models/alias"))["aliases"]["from-b"] == "sy/gpt-4o"
    assert ok(sync(a, b, token, "pull"))["changed"] is False  # 304: the same bundle
    a_conn = next(c for c in ok(a.api("GET", "/api/providers"))["connections"] if c["provider"] == "openai")
    assert a_conn["enabled"] and ok(a.api("POST", f"/api/providers/{a_conn['id']}/test"))["ok"]  # key kept


def test_tokens_and_preconditions(pair: tuple[RunningGateway, RunningGateway]) -> None:
    a, b = pair
    token = token_of(b)
    assert b.api("GET", "/api/cloud/bundle").status_code == 401
    assert b.api("GET", "/api/cloud/bundle", headers={"Authorization": "Bearer wrong"}).status_code == 401
    wrong = sync(a, b, "omr-sync-wrong", "push")
    assert wrong.status_code == 401 and "sync token" in wrong.text
    auth = {"Authorization": f"Bearer {token}"}
    got = b.api("GET", "/api/cloud/bundle", headers=auth)
    assert got.status_code == 200 and got.headers["etag"].startswith('"') and got.json()["schemaVersion"] == 1
    tag = got.headers["etag"]
    assert b.api("GET", "/api/cloud/bundle", headers={**auth, "If-None-Match": tag}).status_code == 304
    same = b.http.put("/api/cloud/bundle", json=got.json(), headers={**auth, "If-None-Match": tag},
                      follow_redirects=False)
    assert same.status_code == 303 and same.headers["location"] == "/api/cloud/bundle"
    stale = b.http.put("/api/cloud/bundle", json=got.json(), headers={**auth, "If-Match": '"0000"'})
    assert stale.status_code == 412
    bad = b.http.put("/api/cloud/bundle", json={"schemaVersion": 7}, headers=auth)
    assert bad.status_code == 400 and "schemaVersion" in bad.text
    assert b.api("GET", "/api/providers", headers=auth).status_code == 200  # loopback: no password set
    newer = token_of(b)
    assert newer != token and b.api("GET", "/api/cloud/bundle", headers=auth).status_code == 401
    assert sync(a, b, newer, "sideways").status_code == 400
