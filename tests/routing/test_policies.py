"""Routing policies through the real gateway: ``/api/policies`` (create, list, delete,
validation); deny and allow globs over a target's ``provider/model`` (by provider id or by
its prefix), combo targets left out, 403 ``policy_denied`` naming the policy when nothing is
left, rewrites; policies scoped to their keys.
"""

from __future__ import annotations

import anthropic
import pytest

from tests.support.accounts import chat, omni, provider_with, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


def make_key(gw: RunningGateway) -> tuple[str, dict[str, str]]:
    key = gw.api("POST", "/api/keys", {"name": unique("pol")}).json()
    return key["id"], {"Authorization": f"Bearer {key['key']}"}


def policy(gw: RunningGateway, **body: object) -> dict:
    resp = gw.api("POST", "/api/policies", {"name": unique("policy"), **body})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_deny_by_provider_id_and_by_prefix(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky, unique("ok~"))
    key_id, auth = make_key(gw)
    by_id = policy(gw, keyIds=[key_id], deny=[f"{node}/m1"])
    refused = chat(gw, f"{prefix}/m1", headers=auth)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "policy_denied" and by_id["name"] in error["message"]
    assert chat(gw, f"{prefix}/m2", headers=auth).status_code == 200
    assert chat(gw, f"{prefix}/m1").status_code == 200  # the policy is the key's only
    by_prefix = policy(gw, keyIds=[key_id], deny=[f"{prefix}/m2"])
    refused = chat(gw, f"{prefix}/m2", headers=auth)
    assert refused.status_code == 403 and by_prefix["name"] in refused.json()["error"]["message"]
    for made in (by_id, by_prefix):
        assert gw.api("DELETE", f"/api/policies/{made['id']}").status_code == 200
    assert chat(gw, f"{prefix}/m1", headers=auth).status_code == 200


def test_allow_list_leaves_combo_targets_out(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    k1, k2 = unique("ok~"), unique("ok~")
    p1, _n1, _ = provider_with(gw, flaky, k1)
    p2, n2, _ = provider_with(gw, flaky, k2)
    name = unique("pol-combo")
    assert gw.api("POST", "/api/combos", {"name": name, "models": [f"{p1}/m1", f"{p2}/m1"]}).status_code == 201
    key_id, auth = make_key(gw)
    made = policy(gw, keyIds=[key_id], allow=[f"{n2}/*"])
    for _ in range(3):
        resp = chat(gw, name, headers=auth)
        assert omni(resp)["provider"] == n2 and omni(resp)["attempts"] == "1"
    assert flaky.count(k1) == 0
    assert omni(chat(gw, name))["model"].endswith("/m1") and flaky.count(k1) == 1  # others: as listed
    refused = chat(gw, f"{p1}/m1", headers=auth)
    assert refused.status_code == 403 and made["name"] in refused.json()["error"]["message"]
    client = anthropic.Anthropic(base_url=gw.url, api_key=auth["Authorization"][7:], max_retries=0, timeout=10)
    with pytest.raises(anthropic.PermissionDeniedError):
        client.messages.create(model=f"{p1}/m1", max_tokens=32, messages=[{"role": "user", "content": "hi"}])
    gw.api("DELETE", f"/api/policies/{made['id']}")


def test_rewrite_then_check(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky, unique("ok~"))
    key_id, auth = make_key(gw)
    wanted = unique("legacy-model-")
    made = policy(gw, keyIds=[key_id], rewrite={wanted: f"{prefix}/m2"})
    assert omni(chat(gw, wanted, headers=auth))["model"] == f"{node}/m2"
    assert chat(gw, wanted).status_code == 404  # only for the key
    gw.api("DELETE", f"/api/policies/{made['id']}")


def test_policy_without_keys_applies_to_everyone(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky, unique("ok~"))
    _key_id, auth = make_key(gw)
    made = policy(gw, deny=[f"{node}/*"])
    try:
        assert chat(gw, f"{prefix}/m1").status_code == 403
        assert chat(gw, f"{prefix}/m1", headers=auth).status_code == 403
    finally:
        gw.api("DELETE", f"/api/policies/{made['id']}")
    assert chat(gw, f"{prefix}/m1").status_code == 200


def test_policy_api_lists_and_validates(gw: RunningGateway) -> None:
    key_id, _auth = make_key(gw)
    made = policy(gw, keyIds=[key_id], allow=["openai/*"], deny=["openai/o3*"], rewrite={"a": "b"})
    assert made["id"].startswith("pol-")
    assert {k: made[k] for k in ("keyIds", "allow", "deny", "rewrite")} == {
        "keyIds": [key_id], "allow": ["openai/*"], "deny": ["openai/o3*"], "rewrite": {"a": "b"}}
    assert made in gw.api("GET", "/api/policies").json()["policies"]
    assert gw.api("POST", "/api/policies", {"name": "x", "keyIds": ["key-none"]}).status_code == 400
    assert gw.api("POST", "/api/policies", {"name": " "}).status_code == 400
    assert gw.api("POST", "/api/policies", {"name": "x", "deny": [""]}).status_code == 400
    assert gw.api("DELETE", f"/api/policies/{made['id']}").status_code == 200
    assert gw.api("DELETE", f"/api/policies/{made['id']}").status_code == 404


def test_count_tokens_honours_policies(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    """``/v1/messages/count_tokens`` resolves through the same policies as the model routes."""
    prefix, _node, _ = provider_with(gw, flaky, unique("ok~"))
    body = {"model": f"{prefix}/m1", "messages": [{"role": "user", "content": "hi"}]}
    assert gw.http.post("/v1/messages/count_tokens", json=body).status_code == 200
    policy = gw.api("POST", "/api/policies", {"name": "no-counting", "deny": [f"{prefix}/*"]})
    assert policy.status_code == 201
    try:
        resp = gw.http.post("/v1/messages/count_tokens", json=body)
        assert resp.status_code == 403 and "no-counting" in resp.json()["error"]["message"]
        assert resp.json()["type"] == "error"  # Anthropic's dialect
    finally:
        gw.api("DELETE", f"/api/policies/{policy.json()['id']}")
