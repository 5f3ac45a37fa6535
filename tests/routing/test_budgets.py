"""Budgets through the real gateway with two workers: ``/api/usage/budget`` (set, read, its
shape, validation), 402 ``budget_exceeded`` once the period's spend reached the limit (the
request that crosses it completes), spend counted once per answer whichever worker served.

Spend lands after each answer (a post-hook), so tests poll ``GET /api/usage/budget``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import anthropic
import httpx
import pytest

from tests.support.accounts import chat, provider_with, unique
from tests.support.flaky_upstream import ANSWER_TOKENS, PROMPT_TOKENS, FlakyUpstream
from tests.support.gateway import RunningGateway

PRICE = {"input": 100_000, "output": 200_000}  # USD per 1M tokens: $1 + $1 per answer
PER_ANSWER = (PROMPT_TOKENS * PRICE["input"] + ANSWER_TOKENS * PRICE["output"]) / 1_000_000


@pytest.fixture(scope="module")
def gw(gw2: RunningGateway) -> RunningGateway:
    return gw2


def priced_provider(gw: RunningGateway, flaky: FlakyUpstream) -> tuple[str, str]:
    prefix, node, _ = provider_with(gw, flaky, unique("ok~"))
    assert gw.api("PUT", "/api/pricing", {"pricing": {f"{node}/m1": PRICE}}).status_code == 200
    return prefix, node


def key_with_budget(gw: RunningGateway, limit: float, period: str = "monthly") -> tuple[str, str, dict]:
    key = gw.api("POST", "/api/keys", {"name": unique("budget")}).json()
    made = gw.api("POST", "/api/usage/budget", {"keyId": key["id"], "limit": limit, "period": period})
    assert made.status_code == 201, made.text
    return key["id"], key["key"], made.json()


def spent(gw: RunningGateway, key_id: str, expected: float) -> float:
    deadline = time.time() + 3
    while True:
        value = gw.api("GET", f"/api/usage/budget?keyId={key_id}").json()["spent"]
        if value >= expected - 1e-9 or time.time() > deadline:
            return value
        time.sleep(0.05)


def test_budget_shape_and_periods(gw: RunningGateway) -> None:
    key_id, _secret, made = key_with_budget(gw, 12.5, "daily")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert made == {"keyId": key_id, "limit": 12.5, "period": "daily", "spent": 0.0, "remaining": 12.5,
                    "resetsAt": (today + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert gw.api("GET", f"/api/usage/budget?keyId={key_id}").json() == made
    monthly = gw.api("POST", "/api/usage/budget", {"keyId": key_id, "limit": 3, "period": "monthly"}).json()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert monthly["resetsAt"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
    weekly = gw.api("POST", "/api/usage/budget", {"keyId": key_id, "limit": 3, "period": "weekly"}).json()
    assert datetime.strptime(weekly["resetsAt"], "%Y-%m-%dT%H:%M:%SZ").weekday() == 0
    listed = gw.api("GET", "/api/usage/budget").json()["budgets"]
    assert any(b["keyId"] == key_id and b["period"] == "weekly" for b in listed)
    assert gw.api("GET", "/api/usage/budget?keyId=key-none").status_code == 404


@pytest.mark.parametrize(("body", "param"), [
    ({"keyId": "key-none", "limit": 1}, "keyId"),
    ({"limit": -1}, "limit"),
    ({"limit": "1"}, "limit"),
    ({"limit": 1, "period": "hourly"}, "period"),
])
def test_budget_validation(gw: RunningGateway, body: dict, param: str) -> None:
    key = gw.api("POST", "/api/keys", {"name": unique("v")}).json()
    resp = gw.api("POST", "/api/usage/budget", {"keyId": key["id"], **body})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param


def test_402_after_the_crossing_request_completes(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node = priced_provider(gw, flaky)
    key_id, secret, _ = key_with_budget(gw, 2.5 * PER_ANSWER)
    headers = {"Authorization": f"Bearer {secret}"}
    for i in range(3):  # spent 0, 1, 2 answers' worth: under the limit, so admitted
        assert chat(gw, f"{prefix}/m1", headers=headers).status_code == 200
        assert spent(gw, key_id, (i + 1) * PER_ANSWER) == pytest.approx((i + 1) * PER_ANSWER)
    for _ in range(3):
        refused = chat(gw, f"{prefix}/m1", headers=headers)
        assert refused.status_code == 402
        error = refused.json()["error"]
        assert error["code"] == "budget_exceeded" and "resets at" in error["message"]
    state = gw.api("GET", f"/api/usage/budget?keyId={key_id}").json()
    assert state["spent"] == pytest.approx(3 * PER_ANSWER) and state["remaining"] == 0
    assert chat(gw, f"{prefix}/m1").status_code == 200  # other clients go on
    client = anthropic.Anthropic(base_url=gw.url, api_key=secret, max_retries=0, timeout=10)
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(model=f"{prefix}/m1", max_tokens=32, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 402


def test_spend_counted_once_across_two_workers(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node = priced_provider(gw, flaky)
    key_id, secret, _ = key_with_budget(gw, 1000)

    def one(_: int) -> int:
        body = {"model": f"{prefix}/m1", "messages": [{"role": "user", "content": "hi"}]}
        return httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10,
                          headers={"Authorization": f"Bearer {secret}"}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, range(12))) == [200] * 12
    assert spent(gw, key_id, 12 * PER_ANSWER) == pytest.approx(12 * PER_ANSWER)
    time.sleep(0.3)
    assert gw.api("GET", f"/api/usage/budget?keyId={key_id}").json()["spent"] == pytest.approx(12 * PER_ANSWER)


def test_streams_and_failed_requests(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node = priced_provider(gw, flaky)
    bad, _bad_node, _ = provider_with(gw, flaky, unique("500~"))
    key_id, secret, _ = key_with_budget(gw, 1000)
    headers = {"Authorization": f"Bearer {secret}"}
    resp = chat(gw, f"{prefix}/m1", stream=True, headers=headers, stream_options={"include_usage": True})
    assert resp.status_code == 200
    assert spent(gw, key_id, PER_ANSWER) == pytest.approx(PER_ANSWER)
    assert chat(gw, f"{bad}/m1", headers=headers).status_code == 500  # nothing answered: nothing spent
    time.sleep(0.3)
    assert spent(gw, key_id, PER_ANSWER) == pytest.approx(PER_ANSWER)
    assert node


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_after_a_broken_one_is_charged(gw: RunningGateway, flaky: FlakyUpstream, stream: bool) -> None:
    prefix, node, _ = provider_with(gw, flaky, unique("notjson~"), unique("ok~"))
    assert gw.api("PUT", "/api/pricing", {"pricing": {f"{node}/m1": PRICE}}).status_code == 200
    key_id, secret, _ = key_with_budget(gw, 1000)
    extra = {"stream_options": {"include_usage": True}} if stream else {}
    resp = chat(gw, f"{prefix}/m1", stream=stream, headers={"Authorization": f"Bearer {secret}"}, **extra)
    assert resp.status_code == 200 and resp.headers["x-omniroute-attempts"] == "2"
    assert spent(gw, key_id, PER_ANSWER) == pytest.approx(PER_ANSWER)
