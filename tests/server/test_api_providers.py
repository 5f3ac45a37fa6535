"""/api/providers and /api/provider-nodes against the real gateway."""

from __future__ import annotations

import pytest

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream


def test_create_masks_key_and_survives_listing(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    resp = gateway.api(
        "POST",
        "/api/providers",
        {"provider": "openai", "name": "main", "apiKey": "sk-secret-1234567890", "baseUrl": upstream.base_url},
    )
    assert resp.status_code == 201
    conn = resp.json()
    assert conn["apiKey"] == "sk-s…7890" and conn["provider"] == "openai" and conn["id"].startswith("conn-")
    listed = gateway.api("GET", "/api/providers").json()["connections"]
    assert any(c["id"] == conn["id"] and "secret" not in c["apiKey"] for c in listed)
    assert gateway.api("GET", f"/api/providers/{conn['id']}").json()["name"] == "main"


def test_default_base_url_comes_from_the_row(gateway: RunningGateway) -> None:
    conn = gateway.api("POST", "/api/providers", {"provider": "groq", "apiKey": "gsk-1"}).json()
    assert conn["baseUrl"] is None and conn["name"] == "Groq"
    gateway.api("DELETE", f"/api/providers/{conn['id']}")


def test_update_and_delete(gateway: RunningGateway) -> None:
    conn = gateway.api("POST", "/api/providers", {"provider": "mistral", "apiKey": "k-1"}).json()
    updated = gateway.api("PUT", f"/api/providers/{conn['id']}", {"name": "renamed", "enabled": False})
    assert updated.status_code == 200 and updated.json()["name"] == "renamed" and not updated.json()["enabled"]
    assert gateway.api("DELETE", f"/api/providers/{conn['id']}").status_code == 200
    assert gateway.api("GET", f"/api/providers/{conn['id']}").status_code == 404
    assert gateway.api("DELETE", f"/api/providers/{conn['id']}").status_code == 404


def test_test_endpoint_makes_a_real_call(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    good = gateway.api(
        "POST",
        "/api/providers",
        {"provider": "openai-compatible", "apiKey": "sk-upstream", "baseUrl": upstream.base_url},
    ).json()
    bad = gateway.api(
        "POST", "/api/providers", {"provider": "openai-compatible", "apiKey": "wrong", "baseUrl": upstream.base_url}
    ).json()
    ok = gateway.api("POST", f"/api/providers/{good['id']}/test").json()
    assert ok["ok"] is True and ok["latencyMs"] >= 0
    failed = gateway.api("POST", f"/api/providers/{bad['id']}/test").json()
    assert failed["ok"] is False and failed["status"] == 401 and "bad upstream key" in failed["error"]
    models = gateway.api("GET", f"/api/providers/{good['id']}/models")
    assert models.status_code == 200 and models.json()["models"] == ["gpt-4o-mini", "gpt-4o"]
    assert gateway.api("GET", f"/api/providers/{bad['id']}/models").status_code == 401
    for c in (good, bad):
        gateway.api("DELETE", f"/api/providers/{c['id']}")


def test_validate_checks_without_saving(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    before = len(gateway.api("GET", "/api/providers").json()["connections"])
    resp = gateway.api(
        "POST",
        "/api/providers/validate",
        {"provider": "openai-compatible", "apiKey": "sk-upstream", "baseUrl": upstream.base_url},
    )
    assert resp.status_code == 200 and resp.json()["valid"] is True
    dead = gateway.api(
        "POST",
        "/api/providers/validate",
        {"provider": "openai-compatible", "apiKey": "x", "baseUrl": "http://127.0.0.1:9/v1"},
    ).json()
    assert dead["valid"] is False and dead["error"]
    assert len(gateway.api("GET", "/api/providers").json()["connections"]) == before


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "x"}, "provider"),
        ({"provider": "nope", "apiKey": "k"}, "provider"),
        ({"provider": "openai"}, "apiKey"),
        ({"provider": "openai", "apiKey": 5}, "apiKey"),
        ({"provider": "openai", "apiKey": "k", "baseUrl": "not a url"}, "baseUrl"),
        ({"provider": "openai", "apiKey": "k", "priority": "high"}, "priority"),
        ({"provider": "openai", "apiKey": "k", "models": ["ok", 3]}, "models[1]"),
        ({"provider": "openai", "apiKey": "k", "colour": "red"}, "colour"),
    ],
)
def test_invalid_connection_input_names_the_field(gateway: RunningGateway, body: dict, param: str) -> None:
    for path in ("/api/providers", "/api/providers/validate"):
        resp = gateway.api("POST", path, body)
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["param"] == param


def test_malformed_management_json_is_400(gateway: RunningGateway) -> None:
    resp = gateway.http.post("/api/providers", content=b"{nope", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]["message"]


def test_nodes_route_custom_prefix(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    node = gateway.api("POST", "/api/provider-nodes", {"prefix": "myvllm", "baseUrl": upstream.base_url}).json()["node"]
    assert any(n["id"] == node["id"] for n in gateway.api("GET", "/api/provider-nodes").json()["nodes"])
    gateway.api("POST", "/api/providers", {"provider": node["id"], "apiKey": "sk-upstream"})
    answer = gateway.http.post(
        "/v1/chat/completions", json={"model": "myvllm/llama-3-8b", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert answer.status_code == 200
    assert upstream.requests[-1]["model"] == "llama-3-8b"
    dup = gateway.api("POST", "/api/provider-nodes", {"prefix": "myvllm", "baseUrl": upstream.base_url})
    assert dup.status_code == 400 and dup.json()["error"]["param"] == "prefix"
    clash = gateway.api("POST", "/api/provider-nodes", {"prefix": "openai", "baseUrl": upstream.base_url})
    assert clash.status_code == 400
    busy = gateway.api("DELETE", f"/api/provider-nodes/{node['id']}")
    assert busy.status_code == 400 and "connections" in busy.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"baseUrl": "http://x"}, "prefix"),
        ({"prefix": "Bad Prefix!", "baseUrl": "http://x"}, "prefix"),
        ({"prefix": "ok"}, "baseUrl"),
        ({"prefix": "ok2", "baseUrl": "x"}, "baseUrl"),
        ({"prefix": "ok3", "baseUrl": "http://x", "type": "grpc"}, "type"),
    ],
)
def test_invalid_node_input(gateway: RunningGateway, body: dict, param: str) -> None:
    resp = gateway.api("POST", "/api/provider-nodes", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param


def test_models_list_includes_connected_providers_and_aliases(gateway: RunningGateway) -> None:
    conn = gateway.api("POST", "/api/providers", {"provider": "deepseek", "apiKey": "k"}).json()
    assert gateway.api("POST", "/api/models/alias", {"alias": "fast", "model": "mock/gpt-4o-mini"}).status_code == 201
    ids = {m["id"]: m["owned_by"] for m in gateway.http.get("/v1/models").json()["data"]}
    assert ids["deepseek/deepseek-chat"] == "deepseek" and ids["fast"] == "alias"
    answer = gateway.http.post(
        "/v1/chat/completions", json={"model": "fast", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert answer.status_code == 200
    gateway.api("DELETE", f"/api/providers/{conn['id']}")
    assert "deepseek/deepseek-chat" not in {m["id"] for m in gateway.http.get("/v1/models").json()["data"]}


def test_unknown_route_and_wrong_method(gateway: RunningGateway) -> None:
    assert gateway.http.get("/v1/nothing").status_code == 404
    wrong = gateway.http.get("/v1/chat/completions")
    assert wrong.status_code == 405 and wrong.json()["error"]["message"]
