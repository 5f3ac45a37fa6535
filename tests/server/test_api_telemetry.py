"""The audit log of management writes, ``/metrics`` (parsed by prometheus_client, its own
bearer token) and ``/api/sessions`` on a two-worker gateway with a management password."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream
from tests.support.usage_api import records, wait_records

PASSWORD = "audit-password-1"
METRICS_TOKEN = "metrics-token-abcdef"
UPSTREAM_SECRET = "sk-upstream-secret-for-audit"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("telemetry-api"), "--workers", "2", "--metrics-token",
                             METRICS_TOKEN, env={"INITIAL_PASSWORD": PASSWORD})
    token = gateway.api("POST", "/api/auth/login", {"password": PASSWORD}).json()["token"]
    gateway.http.headers["authorization"] = f"Bearer {token}"
    gateway.add_openai_upstream(upstream.base_url)
    yield gateway
    gateway.stop()


def entries(gw: RunningGateway, limit: int = 1000) -> list[dict[str, Any]]:
    got = gw.api("GET", "/api/compliance/audit-log", params={"limit": limit})
    assert got.status_code == 200, got.text
    return got.json()["entries"]


def test_every_management_write_is_audited_without_secrets(gw: RunningGateway) -> None:
    before = len(entries(gw))
    key = gw.api("POST", "/api/keys", {"name": "audited"}).json()
    node = gw.api("GET", "/api/provider-nodes").json()["nodes"][0]["id"]
    conn = gw.api("POST", "/api/providers", {"provider": node, "apiKey": UPSTREAM_SECRET, "name": "second"}).json()
    writes = [
        ("PUT", f"/api/keys/{key['id']}", {"name": "renamed"}, "PUT /api/keys/{id}", key["id"]),
        ("PUT", f"/api/providers/{conn['id']}", {"apiKey": UPSTREAM_SECRET + "2"}, "PUT /api/providers/{id}",
         conn["id"]),
        ("POST", "/api/combos", {"name": "audited-combo", "models": ["mock/x"]}, "POST /api/combos", None),
        ("POST", "/api/policies", {"name": "audited-policy"}, "POST /api/policies", None),
        ("POST", "/api/usage/budget", {"keyId": key["id"], "limit": 5}, "POST /api/usage/budget", None),
        ("PUT", "/api/pricing", {"pricing": {"x": {"input": 1, "output": 1}}}, "PUT /api/pricing", None),
        ("PUT", "/api/settings", {"accountStrategy": "fill-first"}, "PUT /api/settings", None),
        ("POST", "/api/resilience/reset", None, "POST /api/resilience/reset", None),
        ("PUT", "/api/usage/retention", {"maxAgeDays": 40}, "PUT /api/usage/retention", None),
        ("POST", "/api/models/alias", {"alias": "audited", "model": "mock/x"}, "POST /api/models/alias", None),
        ("POST", f"/api/keys/{key['id']}/revoke", None, "POST /api/keys/{id}/revoke", key["id"]),
        ("DELETE", "/api/usage/budget", None, "DELETE /api/usage/budget", None),
        ("DELETE", f"/api/providers/{conn['id']}", None, "DELETE /api/providers/{id}", conn["id"]),
        ("DELETE", f"/api/keys/{key['id']}", None, "DELETE /api/keys/{id}", key["id"]),
    ]
    statuses = [gw.api(method, path, body, params={"keyId": key["id"]} if "budget" in path and method == "DELETE"
                       else None).status_code for method, path, body, _action, _target in writes]
    got = entries(gw)[: len(writes) + 2][::-1]  # oldest first, the writes of this test only
    assert len(entries(gw)) == before + len(writes) + 2
    assert got[0]["action"] == "POST /api/keys" and got[0]["target"] == key["id"], "the created id"
    assert got[1]["action"] == "POST /api/providers" and got[1]["target"] == conn["id"]
    mine = got[2:]
    for entry, (_method, _path, _body, action, target), status in zip(mine, writes, statuses, strict=True):
        assert (entry["action"], entry["status"]) == (action, status)
        assert entry["outcome"] == ("ok" if status < 400 else "failed")
        if target:
            assert entry["target"] == target
        assert entry["actor"].startswith("session:") and entry["ip"] == "127.0.0.1"
    text = json.dumps(entries(gw))
    for secret in (PASSWORD, UPSTREAM_SECRET, key["key"], gw.http.headers["authorization"][7:]):
        assert secret not in text


def test_denied_and_failed_writes_are_audited(gw: RunningGateway) -> None:
    wrong = httpx.post(gw.url + "/api/auth/login", json={"password": "nope"})
    anonymous = httpx.post(gw.url + "/api/keys", json={"name": "x"})
    assert (wrong.status_code, anonymous.status_code) == (401, 401)
    newest = entries(gw, 2)
    assert [(e["action"], e["outcome"], e["actor"]) for e in newest] == [
        ("POST /api/keys", "denied", "anonymous"), ("POST /api/auth/login", "denied", "anonymous")]
    assert "nope" not in json.dumps(newest)


def test_reads_and_model_requests_are_not_audited(gw: RunningGateway) -> None:
    before = entries(gw, 1)
    gw.api("GET", "/api/keys")
    httpx.post(gw.url + "/v1/chat/completions", json={"model": "mock/x", "messages": [{"role": "user",
                                                                                         "content": "hi"}]})
    assert entries(gw, 1) == before


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_parse_and_add_up_to_the_records(gw: RunningGateway) -> None:
    for stream in (False, True, False):
        got = httpx.post(gw.url + "/v1/chat/completions", headers={"connection": "close"},
                         json={"model": "mock/metered", "messages": [{"role": "user", "content": "hi"}],
                               "stream": stream})
        assert got.status_code == 200
    httpx.post(gw.url + "/v1/chat/completions", json={"model": "nowhere/x", "messages": [{"role": "user",
                                                                                            "content": "hi"}]})
    found = wait_records(gw, 5)
    time.sleep(0.3)
    text = httpx.get(gw.url + "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}).text
    f = families(text)
    assert all(name.startswith("omniroute_") for name in f)
    requests = f["omniroute_requests"]
    assert requests.type == "counter"
    assert sum(s.value for s in requests.samples if s.name.endswith("_total")) == len(records(gw))
    labels = {tuple(sorted(s.labels)) for s in requests.samples if s.name.endswith("_total")}
    assert labels == {("client_format", "model", "provider", "status")}
    assert any(s.labels["status"] == "404" and s.labels["model"] == "" for s in requests.samples)
    tokens = {(s.labels["model"], s.labels["direction"]): s.value for s in f["omniroute_tokens"].samples
              if s.name.endswith("_total")}
    assert tokens[("metered", "input")] == 36 and tokens[("metered", "output")] == 18
    assert sum(s.value for s in f["omniroute_errors"].samples if s.name.endswith("_total")) >= 1
    duration = f["omniroute_request_duration_seconds"]
    assert duration.type == "histogram"
    count = sum(s.value for s in duration.samples if s.name.endswith("_count"))
    assert count == len(records(gw))
    assert f["omniroute_inflight_requests"].samples[0].value == 0
    breakers = {s.labels["provider"]: s.value for s in f["omniroute_circuit_breaker_open"].samples}
    assert set(breakers.values()) == {0}
    assert found


def test_metrics_token_is_required_when_set(gw: RunningGateway) -> None:
    assert httpx.get(gw.url + "/metrics").status_code == 401
    assert httpx.get(gw.url + "/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(gw.url + "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
    assert httpx.get(gw.url + "/api/telemetry/summary").status_code == 401, "the rest of /api/* still needs login"


def test_sessions_count_requests_and_open_streams(gw: RunningGateway) -> None:
    agent = f"session-test/{time.time()}"
    headers = {"user-agent": agent}
    for _ in range(2):
        httpx.post(gw.url + "/v1/chat/completions", headers=headers,
                   json={"model": "mock/s", "messages": [{"role": "user", "content": "hi"}]})
    started = threading.Event()

    def stream() -> None:
        body = {"model": "mock/paced", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        with httpx.Client(timeout=10) as c, c.stream("POST", gw.url + "/v1/chat/completions", json=body,
                                                     headers=headers) as r:
            for _ in r.iter_raw():
                started.set()

    t = threading.Thread(target=stream)
    t.start()
    assert started.wait(5)

    def mine() -> dict[str, Any] | None:
        return next((s for s in gw.api("GET", "/api/sessions").json()["sessions"] if s["userAgent"] == agent), None)

    deadline = time.time() + 3
    while time.time() < deadline and not (mine() or {}).get("activeStreams"):
        time.sleep(0.1)
    assert mine()["activeStreams"] == 1
    t.join(10)
    deadline = time.time() + 3
    while time.time() < deadline and (mine() or {}).get("requests") != 3:
        time.sleep(0.1)
    session = mine()
    assert session["requests"] == 3 and session["keyId"] is None and session["clientIp"] == "127.0.0.1"
    assert session["firstSeen"] <= session["lastSeen"]
