"""Client API keys and management-API access, on gateways with auth settings."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    gw = RunningGateway(tmp_path_factory.mktemp("locked"), env={"REQUIRE_API_KEY": "true",
                                                                "INITIAL_PASSWORD": "hunter2-pass"})
    login = gw.api("POST", "/api/auth/login", {"password": "hunter2-pass"})
    assert login.status_code == 200 and "auth_token" in login.cookies
    gw.add_openai_upstream(upstream.base_url)
    yield gw
    gw.stop()


def test_v1_needs_a_valid_key(locked: RunningGateway) -> None:
    anonymous = openai.OpenAI(base_url=locked.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES)
    assert locked.http.post("/v1/chat/completions", json={}, cookies={}).status_code in (400, 401)
    key = locked.api("POST", "/api/keys", {"name": "ci"}).json()
    assert key["key"].startswith("sk-omni-")
    sdk = openai.OpenAI(base_url=locked.url + "/v1", api_key=key["key"], max_retries=0)
    assert sdk.chat.completions.create(model="mock/gpt-4o-mini", messages=MESSAGES).choices


def test_x_api_key_header_is_accepted(locked: RunningGateway) -> None:
    key = locked.api("POST", "/api/keys", {"name": "anthropic-sdk"}).json()["key"]
    resp = locked.http.post("/v1/chat/completions", json={"model": "mock/gpt-4o-mini", "messages": MESSAGES},
                            headers={"x-api-key": key}, cookies={})
    assert resp.status_code == 200
    # the Anthropic SDK sends x-api-key; a wrong key is refused in Anthropic's error shape
    sdk = anthropic.Anthropic(base_url=locked.url, api_key=key, max_retries=0)
    assert sdk.messages.create(model="mock/gpt-4o-mini", max_tokens=10, messages=MESSAGES).content
    wrong = anthropic.Anthropic(base_url=locked.url, api_key="nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as info:
        wrong.messages.create(model="mock/gpt-4o-mini", max_tokens=10, messages=MESSAGES)
    assert info.value.body["type"] == "error"


def test_keys_are_masked_revocable_and_deletable(locked: RunningGateway) -> None:
    created = locked.api("POST", "/api/keys", {"name": "temp"}).json()
    listed = locked.api("GET", "/api/keys").json()["keys"]
    shown = next(k for k in listed if k["id"] == created["id"])
    assert shown["key"] != created["key"] and created["key"].startswith(shown["key"].rstrip("…"))
    headers = {"authorization": f"Bearer {created['key']}"}
    body = {"model": "mock/gpt-4o-mini", "messages": MESSAGES}
    assert locked.http.post("/v1/chat/completions", json=body, headers=headers).status_code == 200
    assert locked.api("POST", f"/api/keys/{created['id']}/revoke").json()["revoked"] is True
    assert locked.http.post("/v1/chat/completions", json=body, headers=headers).status_code == 401
    assert locked.api("DELETE", f"/api/keys/{created['id']}").status_code == 200
    assert locked.api("GET", f"/api/keys/{created['id']}").status_code == 404


def test_keys_are_stored_hashed(locked: RunningGateway) -> None:
    created = locked.api("POST", "/api/keys", {"name": "hashed"}).json()["key"]
    data = (locked.data_dir / "data.mdb").read_bytes()
    assert created.encode() not in data


def test_management_needs_login_once_a_password_exists(locked: RunningGateway) -> None:
    import httpx

    with httpx.Client(base_url=locked.url) as anon:
        assert anon.get("/api/providers").status_code == 401
        assert anon.get("/api/monitoring/health").status_code == 200
        assert anon.post("/api/auth/login", json={"password": "wrong"}).status_code == 401
        assert anon.post("/api/auth/login", json={}).status_code == 400
        token = anon.post("/api/auth/login", json={"password": "hunter2-pass"}).json()["token"]
        assert anon.get("/api/providers", headers={"authorization": f"Bearer {token}"}).status_code == 200
        assert anon.get("/api/providers").status_code == 200  # the cookie jar holds auth_token now
        anon.post("/api/auth/logout")
        anon.cookies.clear()
        assert anon.get("/api/providers", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_open_management_is_loopback_only(gateway: RunningGateway) -> None:
    # no password on the session gateway: loopback clients (the tests) are let in
    assert gateway.api("GET", "/api/keys").status_code == 200
    login = gateway.api("POST", "/api/auth/login", {"password": "x"})
    assert login.status_code == 400 and "loopback" in login.json()["error"]["message"]
