"""``/api/usage/*`` on a real two-worker gateway: paged and filtered logs, one record, bad
query parameters, body logging (off, global, per key, capped, redacted), retention pruning
to its bound with history and per-account totals kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream
from tests.support.usage_api import records, wait_records

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("usage-api"), "--workers", "2")
    gateway.add_openai_upstream(upstream.base_url)
    yield gateway
    gateway.stop()


def chat(gw: RunningGateway, model: str = "mock/a", key: str | None = None, **extra: Any) -> httpx.Response:
    headers = {"connection": "close", **({"authorization": f"Bearer {key}"} if key else {})}
    return httpx.post(gw.url + "/v1/chat/completions", headers=headers, timeout=10,
                      json={"model": model, "messages": MESSAGES, **extra})


def new_key(gw: RunningGateway, name: str) -> dict[str, Any]:
    made = gw.api("POST", "/api/keys", {"name": name})
    assert made.status_code == 201, made.text
    return made.json()


def test_logs_are_paged_newest_first_and_filtered(gw: RunningGateway) -> None:
    since = time.time()
    key = new_key(gw, "filtered")
    for model in ("mock/a", "mock/b", "mock/a", "mock/a", "mock/error-429"):  # the 429 cools the account: last
        chat(gw, model, key["key"] if model == "mock/b" else None)
    everything = wait_records(gw, 5, **{"from": since})
    stamps = [r["timestamp"] for r in everything]
    assert stamps == sorted(stamps, reverse=True)
    first = gw.api("GET", "/api/usage/logs", params={"limit": 2, "from": since}).json()
    assert [r["id"] for r in first["data"]] == [r["id"] for r in everything[:2]] and first["nextCursor"]
    second = gw.api("GET", "/api/usage/logs", params={"limit": 2, "from": since, "cursor": first["nextCursor"]})
    assert [r["id"] for r in second.json()["data"]] == [r["id"] for r in everything[2:4]]
    assert len(records(gw, model="mock/a", **{"from": since})) == 3
    assert len(records(gw, model="a", **{"from": since})) == 3, "the served model without its provider"
    assert [r["status"] for r in records(gw, status="4xx", **{"from": since})] == [429]
    assert [r["status"] for r in records(gw, status="error", **{"from": since})] == [429]
    assert len(records(gw, status="200", **{"from": since})) == 4
    assert [r["model"] for r in records(gw, keyId=key["id"])] == ["mock/b"]
    provider = everything[0]["provider"]
    assert len(records(gw, provider=provider, **{"from": since})) == 5
    earlier = {r["id"] for r in records(gw, to=since)}
    assert earlier.isdisjoint(r["id"] for r in everything)


def test_one_record_in_full(gw: RunningGateway) -> None:
    since = time.time()
    chat(gw)
    (made,) = wait_records(gw, 1, **{"from": since})
    got = gw.api("GET", f"/api/usage/logs/{made['id']}")
    assert got.status_code == 200 and got.json() == made
    for bad in ("00" * 16, "nothex", "abc"):
        missing = gw.api("GET", f"/api/usage/logs/{bad}")
        assert missing.status_code == 404 and missing.json()["error"]["param"] == "id"


@pytest.mark.parametrize(("path", "params", "param"), [
    ("/api/usage/logs", {"limit": "abc"}, "limit"),
    ("/api/usage/logs", {"limit": "0"}, "limit"),
    ("/api/usage/logs", {"limit": "1001"}, "limit"),
    ("/api/usage/logs", {"status": "7xx"}, "status"),
    ("/api/usage/logs", {"from": "yesterday"}, "from"),
    ("/api/usage/logs", {"from": "2026-02-01", "to": "2026-01-01"}, "from"),
    ("/api/usage/logs", {"cursor": "zz"}, "cursor"),
    ("/api/usage/logs", {"modle": "x"}, "modle"),
    ("/api/usage/request-logs", {"limit": "-1"}, "limit"),
    ("/api/usage/history", {"bucket": "week"}, "bucket"),
    ("/api/usage/history", {"to": "never"}, "to"),
    ("/api/usage/history", {"status": "200"}, "status"),
    ("/api/sessions", {"limit": "x"}, "limit"),
    ("/api/compliance/audit-log", {"limit": "0"}, "limit"),
])
def test_bad_query_parameters_are_named(gw: RunningGateway, path: str, params: dict[str, str], param: str) -> None:
    got = gw.api("GET", path, params=params)
    assert got.status_code == 400, got.text
    assert got.json()["error"]["param"] == param
    assert param in got.json()["error"]["message"]


def test_history_buckets_and_filters(gw: RunningGateway) -> None:
    key = new_key(gw, "history")
    since = time.time()
    for _ in range(3):
        chat(gw, "mock/hist", key["key"])
    wait_records(gw, 3, keyId=key["id"])
    for bucket in ("hour", "day"):
        got = gw.api("GET", "/api/usage/history", params={"bucket": bucket, "keyId": key["id"]}).json()
        assert got["bucket"] == bucket
        assert sum(b["requests"] for b in got["buckets"]) == 3
        assert sum(b["inputTokens"] for b in got["buckets"]) == 36
        assert sum(b["outputTokens"] for b in got["buckets"]) == 18
    by_model = gw.api("GET", "/api/usage/history", params={"model": "hist", "from": since - 3600}).json()
    assert sum(b["requests"] for b in by_model["buckets"]) == 3
    assert gw.api("GET", "/api/usage/history", params={"provider": "nobody"}).json()["buckets"] == []


def test_unknown_connection_usage_is_404(gw: RunningGateway) -> None:
    got = gw.api("GET", "/api/usage/conn-nope")
    assert got.status_code == 404 and got.json()["error"]["param"] == "connectionId"
    connection = gw.api("GET", "/api/providers").json()["connections"][0]["id"]
    assert gw.api("GET", f"/api/usage/{connection}").json()["requests"] > 0


def set_retention(gw: RunningGateway, **fields: Any) -> dict[str, Any]:
    got = gw.api("PUT", "/api/usage/retention", fields)
    assert got.status_code == 200, got.text
    time.sleep(1.5)  # every worker reloads it within a second
    return got.json()


def test_bodies_are_logged_only_when_enabled_and_redacted(gw: RunningGateway) -> None:
    assert gw.api("GET", "/api/usage/retention").json() == {
        "maxAgeDays": 30.0, "maxRecords": 1000000, "logBodies": False, "logBodiesKeyIds": [], "maxBodyBytes": 65536}
    a, b = new_key(gw, "logged"), new_key(gw, "not-logged")
    since = time.time()
    chat(gw, key=a["key"])
    (plain,) = wait_records(gw, 1, **{"from": since})
    assert plain["hasBody"] is False
    assert gw.api("GET", "/api/usage/request-logs", params={"from": since}).json()["data"] == []

    set_retention(gw, logBodies=True)
    since = time.time()
    secret = "sk-upstream-leak-0123456789"
    chat(gw, key=a["key"], user=a["key"], metadata={"api_key": secret, "note": "keep me"})
    (logged,) = wait_records(gw, 1, **{"from": since})
    assert logged["hasBody"] is True
    full = gw.api("GET", f"/api/usage/request-logs/{logged['id']}").json()
    bodies = full["bodies"]
    assert bodies["requestHeaders"]["authorization"] == "[redacted]"
    assert a["key"] not in str(full) and secret not in str(full)
    assert "keep me" in bodies["requestBody"] and "[redacted]" in bodies["requestBody"]
    assert "Hello from the mock upstream." in bodies["responseBody"]
    listed = gw.api("GET", "/api/usage/request-logs", params={"from": since}).json()["data"]
    assert [r["id"] for r in listed] == [logged["id"]]

    set_retention(gw, logBodies=False, logBodiesKeyIds=[a["id"]], maxBodyBytes=32)
    since = time.time()
    chat(gw, key=a["key"])
    chat(gw, key=b["key"])
    found = wait_records(gw, 2, **{"from": since})
    assert {r["keyId"]: r["hasBody"] for r in found} == {a["id"]: True, b["id"]: False}
    capped = gw.api("GET", f"/api/usage/request-logs/{found[0]['id'] if found[0]['hasBody'] else found[1]['id']}")
    bodies = capped.json()["bodies"]
    assert bodies["requestTruncated"] is True and len(bodies["requestBody"].encode()) <= 32
    set_retention(gw, logBodiesKeyIds=[], maxBodyBytes=65536)


def test_retention_is_validated(gw: RunningGateway) -> None:
    for body, param in (({"maxRecords": 0}, "maxRecords"), ({"maxAgeDays": -1}, "maxAgeDays"),
                        ({"maxBodyBytes": "big"}, "maxBodyBytes"), ({"keepForever": True}, None)):
        got = gw.api("PUT", "/api/usage/retention", body)
        assert got.status_code == 400, got.text
        if param:
            assert got.json()["error"]["param"] == param
    assert gw.api("PUT", "/api/usage/retention", [1]).status_code == 400


def test_retention_prunes_to_the_bound_and_keeps_totals(gw: RunningGateway) -> None:
    """Records beyond ``maxRecords`` go within seconds; history and the account's totals keep
    them."""
    connection = gw.api("GET", "/api/providers").json()["connections"][0]["id"]
    before = gw.api("GET", f"/api/usage/{connection}").json()["requests"]
    history_before = sum(b["requests"] for b in gw.api("GET", "/api/usage/history").json()["buckets"])
    set_retention(gw, maxRecords=10)
    for _ in range(25):
        chat(gw, "mock/pruned")
    deadline = time.time() + 8
    while time.time() < deadline and (len(records(gw)) != 10 or gw.api(
            "GET", f"/api/usage/{connection}").json()["requests"] != before + 25):
        time.sleep(0.2)
    kept = records(gw)
    assert len(kept) == 10
    assert [r["model"] for r in kept] == ["mock/pruned"] * 10, "the newest are kept"
    assert gw.api("GET", f"/api/usage/{connection}").json()["requests"] == before + 25
    history = sum(b["requests"] for b in gw.api("GET", "/api/usage/history").json()["buckets"])
    assert history == history_before + 25
    set_retention(gw, maxRecords=1000000)
