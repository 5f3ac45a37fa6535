"""Tokens on the request path (``omniroute.oauth.tokens``), through a real gateway with two
workers: refreshed ahead of expiry exactly once however many requests on however many workers
see it, an unrecoverable refresh marks the account ``expired`` for every worker, an upstream
401 refreshes early, Copilot tokens are bought again, and tokens are encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.oauth.conftest import chat, device_login, login, states
from tests.support.gateway import RunningGateway
from tests.support.oauth_server import MockOAuth


@pytest.fixture(autouse=True)
def reset_mock(oauth: MockOAuth) -> Iterator[None]:
    yield
    oauth.expires_in = oauth.refresh_expires_in = 3600
    oauth.refresh_delay, oauth.refuse_refresh, oauth.copilot_ttl = 0.0, False, 1800


def _chat_many(gw: RunningGateway, model: str, conn: str, count: int) -> list[httpx.Response]:
    def one(_i: int) -> httpx.Response:
        with httpx.Client(base_url=gw.url, timeout=30) as client:  # own connection: either worker
            return client.post("/v1/chat/completions", headers={"x-omniroute-connection": conn},
                               json={"model": model, "messages": [{"role": "user", "content": "hi"}]})

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_refresh_happens_once_across_workers(gw: RunningGateway, oauth: MockOAuth) -> None:
    oauth.expires_in = 200  # inside the 5-minute margin: due at once
    oauth.refresh_delay = 0.6  # every request arrives while the refresh is in flight
    conn = login(gw, oauth, "claude")
    before, seen = oauth.refreshes, len(oauth.bearers)
    answers = _chat_many(gw, "cc/claude-sonnet-4-5", conn["id"], 12)
    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers if a.status_code != 200]
    assert oauth.refreshes - before == 1
    used = set(oauth.bearers[seen:])
    assert len(used) == 1 and used <= oauth.access  # every request waited for the one new token
    assert len({a.headers.get("x-omniroute-connection") for a in answers}) == 1
    again = _chat_many(gw, "cc/claude-sonnet-4-5", conn["id"], 4)  # fresh now: no refresh
    assert all(a.status_code == 200 for a in again) and oauth.refreshes - before == 1


def test_refused_refresh_expires_the_account_everywhere(gw: RunningGateway, oauth: MockOAuth) -> None:
    oauth.expires_in = 200
    conn = login(gw, oauth, "codex")
    oauth.refuse_refresh = True
    first = chat(gw, "cx/gpt-5", conn["id"])
    assert first.status_code == 401 and "has expired" in first.text and "/api/oauth/codex" in first.text
    for _ in range(4):  # whichever worker answers
        account = states(gw)[conn["id"]]
        assert account["state"] == "expired", account
    assert gw.api("GET", f"/api/providers/{conn['id']}").json()["expired"] is True
    later = chat(gw, "cx/gpt-5", conn["id"])
    assert later.status_code == 503 and "expired" in later.text
    oauth.refuse_refresh, oauth.expires_in = False, 3600
    login(gw, oauth, "codex", connectionId=conn["id"])  # logging in again clears it
    assert states(gw)[conn["id"]]["state"] == "ok"
    assert chat(gw, "cx/gpt-5", conn["id"]).status_code == 200


def test_upstream_401_refreshes_before_the_next_use(gw: RunningGateway, oauth: MockOAuth) -> None:
    conn = login(gw, oauth, "claude")
    assert chat(gw, "cc/claude-haiku-4-5", conn["id"]).status_code == 200
    revoked = oauth.bearers[-1]
    oauth.access.discard(revoked)  # revoked early by the provider
    before = oauth.refreshes
    results = [chat(gw, "cc/claude-haiku-4-5", conn["id"]).status_code for _ in range(4)]
    assert results[-1] == 200 and oauth.bearers[-1] != revoked
    assert 1 <= oauth.refreshes - before <= 2  # at most once per worker that saw the 401


def test_copilot_token_is_bought_again_when_it_expires(gw: RunningGateway, oauth: MockOAuth) -> None:
    conn = device_login(gw, oauth)
    calls = oauth.copilot_calls
    assert chat(gw, "gh/gpt-4.1", conn["id"]).status_code == 200
    assert oauth.copilot_calls == calls  # the login's token is fresh
    oauth.copilot_ttl = 200
    assert device_login(gw, oauth, connectionId=conn["id"])["id"] == conn["id"]
    calls = oauth.copilot_calls
    assert chat(gw, "gh/gpt-4.1", conn["id"]).status_code == 200
    assert oauth.copilot_calls == calls + 1 and oauth.bearers[-1].startswith("cop-")


def test_tokens_are_encrypted_at_rest(tmp_path_factory: pytest.TempPathFactory, oauth: MockOAuth) -> None:
    data = tmp_path_factory.mktemp("gw-encrypted")
    env = {**oauth.env(), "OMNIROUTE_ENCRYPTION_KEY": "correct horse battery staple"}
    gw = RunningGateway(data, env=env)
    try:
        conn = login(gw, oauth, "claude")
        assert chat(gw, "cc/claude-sonnet-4-5", conn["id"]).status_code == 200
        token = oauth.bearers[-1].encode()
    finally:
        gw.stop()
    raw = (data / "data.mdb").read_bytes()
    assert b"enc:v1:" in raw and token not in raw and token.replace(b"at-", b"rt-") not in raw
    wrong = RunningGateway(data, env={**oauth.env(), "OMNIROUTE_ENCRYPTION_KEY": "another key"})
    try:
        refused = chat(wrong, "cc/claude-sonnet-4-5", conn["id"])
        assert refused.status_code == 500 and "rt-" not in refused.text
    finally:
        wrong.stop()
