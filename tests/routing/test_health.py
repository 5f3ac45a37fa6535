"""Account and provider health through the real gateway: cooldowns (Retry-After in seconds or
as an HTTP date, exponential backoff), auth failures and what clears them, breakers (open →
half-open probe → closed or open again), 503 with Retry-After when nothing can be tried,
``/api/rate-limits``, ``/api/resilience`` and its reset — shared by two workers.

The shared gateways are reset after each test (tests/conftest.py), so every state is
asserted inside the test that caused it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from tests.routing.conftest import gateway_for
from tests.support.accounts import accounts, add_node, chat, omni, provider_with, set_resilience, unique
from tests.support.flaky_upstream import REMAINING, FlakyUpstream
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """Two workers: every state below must hold whichever worker serves the next request."""
    gateway = gateway_for(tmp_path_factory, workers=2)
    set_resilience(gateway, failureThreshold=2, windowS=10, openS=1.5, backoffBaseS=1, backoffMaxS=8)
    yield gateway
    gateway.stop()


def until(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def breakers(gw: RunningGateway) -> list[dict]:
    return gw.api("GET", "/api/resilience").json()["breakers"]


# -- cooldowns ---------------------------------------------------------------------------------
@pytest.mark.parametrize("behaviour", ["429-after-2", "429-date-3"])
def test_429_cools_the_account_for_retry_after(gw: RunningGateway, flaky: FlakyUpstream, behaviour: str) -> None:
    key = unique(behaviour + "~")
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    first = chat(gw, f"{prefix}/m1")
    asked = time.time()
    assert first.status_code == 429
    assert int(first.headers["retry-after"]) >= 1
    state = accounts(gw)[conn]
    assert state["state"] == "cooling"
    assert asked + 0.5 <= until(state["coolingUntil"]) + 1 and until(state["coolingUntil"]) <= asked + 3.5
    assert "429" in state["lastError"]
    for _ in range(6):  # every worker skips it
        skipped = chat(gw, f"{prefix}/m1")
        assert skipped.status_code == 503
        assert skipped.json()["error"]["code"] == "no_available_account"
        assert 1 <= int(skipped.headers["retry-after"]) <= 3
    assert flaky.count(key) == 1
    flaky.override(key, "ok")
    deadline = time.time() + 5
    while (resp := chat(gw, f"{prefix}/m1")).status_code == 503 and time.time() < deadline:
        time.sleep(0.2)
    assert resp.status_code == 200
    assert time.time() - asked >= 1.5  # not before Retry-After
    assert accounts(gw)[conn]["state"] == "ok"


def test_429_without_retry_after_backs_off_exponentially(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("429~")
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    assert chat(gw, f"{prefix}/m1").status_code == 429  # backoff 1 s
    assert chat(gw, f"{prefix}/m1").status_code == 503
    time.sleep(1.1)
    assert chat(gw, f"{prefix}/m1").status_code == 429  # tried again: backoff 2 s
    assert flaky.count(key) == 2
    time.sleep(1.1)
    assert chat(gw, f"{prefix}/m1").status_code == 503  # still cooling
    assert accounts(gw)[conn]["state"] == "cooling"
    time.sleep(1.1)
    flaky.override(key, "ok")
    assert chat(gw, f"{prefix}/m1").status_code == 200
    assert flaky.count(key) == 3


def test_cooling_account_is_skipped_at_once_for_the_next(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    bad, ok = unique("429-after-30~"), unique("ok~")
    prefix, _node, (bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    first = chat(gw, f"{prefix}/m1")
    assert omni(first)["attempts"] == "2"
    for _ in range(4):
        resp = chat(gw, f"{prefix}/m1")
        assert resp.status_code == 200 and omni(resp)["connection"] == ok_id
        assert omni(resp)["attempts"] == "1"  # a skipped account is not an attempt
    assert flaky.count(bad) == 1
    assert accounts(gw)[bad_id]["state"] == "cooling"


# -- auth failures -----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["401", "403"])
def test_auth_failure_sticks_until_a_test_succeeds(gw: RunningGateway, flaky: FlakyUpstream, status: str) -> None:
    bad, ok = unique(status + "~"), unique("ok~")
    prefix, _node, (bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    assert omni(chat(gw, f"{prefix}/m1"))["connection"] == ok_id
    state = accounts(gw)[bad_id]
    assert state["state"] == "auth_failed" and status in state["lastError"]
    time.sleep(0.5)
    assert omni(chat(gw, f"{prefix}/m1"))["attempts"] == "1"
    assert flaky.count(bad) == 1
    failed = gw.api("POST", f"/api/providers/{bad_id}/test")
    assert failed.json()["ok"] is False
    assert accounts(gw)[bad_id]["state"] == "auth_failed"
    flaky.override(bad, "ok")
    assert gw.api("POST", f"/api/providers/{bad_id}/test").json()["ok"] is True
    assert accounts(gw)[bad_id]["state"] == "ok"
    for _ in range(4):
        assert omni(chat(gw, f"{prefix}/m1"))["connection"] == bad_id


def test_auth_failure_clears_when_the_key_changes(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    bad, ok = unique("401~"), unique("ok~")
    prefix, _node, (bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    assert omni(chat(gw, f"{prefix}/m1"))["connection"] == ok_id
    assert accounts(gw)[bad_id]["state"] == "auth_failed"
    new_key = unique("ok~")
    assert gw.api("PUT", f"/api/providers/{bad_id}", {"apiKey": new_key}).status_code == 200
    assert accounts(gw)[bad_id]["state"] == "ok"
    for _ in range(4):
        assert omni(chat(gw, f"{prefix}/m1"))["connection"] == bad_id
    assert flaky.count(new_key) == 4


def test_a_keyless_account_is_marked_too_and_only_a_test_brings_it_back(gw: RunningGateway,
                                                                         flaky: FlakyUpstream) -> None:
    """A connection without a key (custom nodes may have none) that the upstream refuses is
    ``auth_failed`` like any other; with nothing else to try, the 503 gives no Retry-After,
    since waiting will not bring it back."""
    prefix = unique("p")
    node = add_node(gw, flaky, prefix)
    conn = gw.api("POST", "/api/providers", {"provider": node, "name": "keyless"}).json()["id"]
    flaky.override("", "401")
    try:
        assert chat(gw, f"{prefix}/m1").status_code == 401
        assert accounts(gw)[conn]["state"] == "auth_failed"
        resp = chat(gw, f"{prefix}/m1")
        assert resp.status_code == 503 and "retry-after" not in resp.headers
        assert "auth_failed" in resp.json()["error"]["message"]
        flaky.override("", "ok")
        assert gw.api("POST", f"/api/providers/{conn}/test").json()["ok"] is True
        assert chat(gw, f"{prefix}/m1").status_code == 200
    finally:
        flaky.overrides.pop("", None)


# -- breakers ----------------------------------------------------------------------------------
def test_breaker_opens_probes_half_open_and_closes(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("500~")
    prefix, node, (conn,) = provider_with(gw, flaky, key)
    assert [chat(gw, f"{prefix}/m1").status_code for _ in range(2)] == [500, 500]  # threshold 2
    opened = time.time()
    held = {(b["provider"], b["connectionId"]): b for b in breakers(gw)}
    assert held[(node, conn)]["state"] == "open" and held[(node, None)]["state"] == "open"
    assert accounts(gw)[conn]["state"] == "circuit_open"
    refused = chat(gw, f"{prefix}/m1")
    assert refused.status_code == 503 and 1 <= int(refused.headers["retry-after"]) <= 2
    assert flaky.count(key) == 2
    time.sleep(max(0.0, opened + 1.6 - time.time()))
    flaky.override(key, "ok-slow-800")
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(chat(gw, f"{prefix}/m1").status_code))
               for _ in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert sorted(results) == [200, 503, 503]  # one half-open probe; the others wait
    assert flaky.count(key) == 3
    assert all(b["state"] == "closed" for b in breakers(gw) if b["provider"] == node)
    assert [chat(gw, f"{prefix}/m1").status_code for _ in range(3)] == [200] * 3


def test_failed_probe_opens_the_breaker_again(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("503~")
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    assert [chat(gw, f"{prefix}/m1").status_code for _ in range(2)] == [503, 503]
    time.sleep(1.6)
    assert chat(gw, f"{prefix}/m1").status_code == 503  # the probe, answered 503 by the upstream
    assert flaky.count(key) == 3
    again = chat(gw, f"{prefix}/m1")
    assert again.status_code == 503 and again.json()["error"]["code"] == "no_available_account"
    assert flaky.count(key) == 3
    assert accounts(gw)[conn]["state"] == "circuit_open"


def test_one_broken_account_leaves_its_provider_open_to_the_others(gw: RunningGateway,
                                                                   flaky: FlakyUpstream) -> None:
    bad, ok = unique("502~"), unique("ok-slow-300~")  # failures land long before any success
    prefix, node, (bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    assert gw.api("PUT", "/api/resilience", {"providers": {node: {"failureThreshold": 4}}}).status_code == 200

    def one(_: int) -> str:
        body = {"model": f"{prefix}/m1", "messages": [{"role": "user", "content": "hi"}]}
        resp = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
        return omni(resp)["connection"] if resp.status_code == 200 else str(resp.status_code)

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(16))) == {ok_id}
    held = {b["connectionId"]: b["state"] for b in breakers(gw) if b["provider"] == node}
    assert held[bad_id] == "open" and held.get(None, "closed") == "closed"


def test_provider_breaker_opens_when_its_accounts_fail(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    k1, k2 = unique("503~"), unique("500~")
    prefix, node, _ = provider_with(gw, flaky, k1, k2)
    assert chat(gw, f"{prefix}/m1").status_code == 500  # both failed once: threshold 2 on the provider
    assert {b["connectionId"]: b["state"] for b in breakers(gw) if b["provider"] == node}[None] == "open"
    refused = chat(gw, f"{prefix}/m1")
    assert refused.status_code == 503 and "circuit_open" in refused.json()["error"]["message"]
    assert (flaky.count(k1), flaky.count(k2)) == (1, 1)


def test_client_errors_do_not_count_on_breakers(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("400~")
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    assert [chat(gw, f"{prefix}/m1").status_code for _ in range(4)] == [400] * 4
    assert flaky.count(key) == 4
    assert accounts(gw)[conn]["state"] == "ok"


def test_all_unavailable_is_503_and_reset_clears_everything(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    cool, auth = unique("429-after-60~"), unique("401~")
    prefix, _node, (cool_id, auth_id) = provider_with(gw, flaky, cool, auth)
    assert chat(gw, f"{prefix}/m1").status_code == 401
    states = accounts(gw)
    assert (states[cool_id]["state"], states[auth_id]["state"]) == ("cooling", "auth_failed")
    resp = chat(gw, f"{prefix}/m1")
    assert resp.status_code == 503
    assert 55 <= int(resp.headers["retry-after"]) <= 60
    assert "cooling" in resp.json()["error"]["message"] and "auth_failed" in resp.json()["error"]["message"]
    assert gw.api("POST", "/api/resilience/reset").json() == {"reset": True}
    states = accounts(gw)
    assert (states[cool_id]["state"], states[auth_id]["state"]) == ("ok", "ok")
    assert states[cool_id]["coolingUntil"] is None
    assert chat(gw, f"{prefix}/m1").status_code == 401  # tried again after the reset
    assert flaky.count(cool) == 2


# -- reported state ----------------------------------------------------------------------------
def test_rate_limits_report_remaining_requests_and_disabled(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    assert accounts(gw)[conn]["remainingRequests"] is None
    assert chat(gw, f"{prefix}/m1").status_code == 200
    state = accounts(gw)[conn]
    assert state["state"] == "ok" and state["remainingRequests"] == REMAINING - 1
    assert gw.api("PUT", f"/api/providers/{conn}", {"enabled": False}).status_code == 200
    assert accounts(gw)[conn]["state"] == "disabled"


def test_resilience_settings_profiles_and_validation(gw: RunningGateway) -> None:
    shown = gw.api("GET", "/api/resilience").json()
    assert shown["profiles"] == ["aggressive", "balanced", "conservative"]
    assert shown["settings"]["failureThreshold"] == 2 and shown["overrides"]["openS"] == 1.5
    bad = gw.api("PUT", "/api/resilience", {"settings": {"openS": -1}})
    assert bad.status_code == 400 and "settings.openS" in bad.text
    assert gw.api("PUT", "/api/resilience", {"settings": {"nope": 1}}).status_code == 400
    assert gw.api("PUT", "/api/resilience", {"profile": "reckless"}).status_code == 400
    assert gw.api("PUT", "/api/resilience", {"providers": {"no-such": {"openS": 1}}}).status_code == 400
    global_only = gw.api("PUT", "/api/resilience", {"providers": {"openai": {"requestTimeoutS": 5}}})
    assert global_only.status_code == 400 and "deadline is global" in global_only.text
    per = gw.api("PUT", "/api/resilience", {"providers": {"openai": {"failureThreshold": 7}}})
    assert per.status_code == 200 and per.json()["providers"]["openai"] == {"failureThreshold": 7}
    assert gw.api("GET", "/api/resilience").json()["settings"]["failureThreshold"] == 2  # the default's unchanged


def test_reading_states_leaves_the_half_open_probe_to_a_request(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("500~")
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    assert [chat(gw, f"{prefix}/m1").status_code for _ in range(2)] == [500, 500]
    time.sleep(1.6)
    for _ in range(2):  # both workers answer the management reads
        accounts(gw)
        gw.api("POST", "/api/models/availability", {"model": f"{prefix}/m1"})
        gw.api("GET", "/api/resilience")
    flaky.override(key, "ok")
    assert chat(gw, f"{prefix}/m1").status_code == 200
    assert accounts(gw)[conn]["state"] == "ok"


def test_a_probe_that_never_reports_lapses(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("500~")
    prefix, _node, _ = provider_with(gw, flaky, key)
    assert [chat(gw, f"{prefix}/m1").status_code for _ in range(2)] == [500, 500]
    time.sleep(1.6)
    flaky.override(key, "hang")
    with pytest.raises(httpx.ReadTimeout):  # the probe's client leaves: no verdict
        chat(gw, f"{prefix}/m1", timeout=0.3)
    flaky.override(key, "ok")
    deadline = time.time() + 5
    while (resp := chat(gw, f"{prefix}/m1")).status_code == 503 and time.time() < deadline:
        time.sleep(0.2)
    assert resp.status_code == 200


def test_concurrent_failures_on_both_workers_all_count(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("hang~")
    prefix, node, (conn,) = provider_with(gw, flaky, key)
    assert gw.api("PUT", "/api/resilience", {"providers": {node: {"failureThreshold": 100}}}).status_code == 200

    def one(_: int) -> int:
        body = {"model": f"{prefix}/m1", "messages": [{"role": "user", "content": "hi"}]}
        return httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10).status_code

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(one, range(10))) == [504] * 10  # first-byte timeouts, all at once
    assert flaky.count(key) == 10
    held = {b["connectionId"]: b for b in breakers(gw) if b["provider"] == node}
    assert held[conn]["failures"] == 10 and held[None]["failures"] == 10


def test_profiles_set_their_values_and_overrides_apply_on_top(gw: RunningGateway) -> None:
    before = gw.api("GET", "/api/resilience").json()
    assert before["profile"] == "balanced"
    assert (before["settings"]["connectTimeoutS"], before["settings"]["firstByteTimeoutS"]) == (1, 1.5)  # server's
    try:
        aggressive = gw.api("PUT", "/api/resilience", {"profile": "aggressive"}).json()
        assert aggressive["overrides"] == {}
        assert {k: aggressive["settings"][k] for k in ("failureThreshold", "windowS", "openS", "requestTimeoutS")} \
            == {"failureThreshold": 3, "windowS": 30, "openS": 15, "requestTimeoutS": 300}
        tuned = gw.api("PUT", "/api/resilience", {"profile": "conservative", "settings": {"openS": 5}}).json()
        assert tuned["settings"]["failureThreshold"] == 10 and tuned["settings"]["openS"] == 5
    finally:
        gw.api("PUT", "/api/resilience", {"profile": "balanced", "settings": before["overrides"]})
    assert gw.api("GET", "/api/resilience").json()["settings"] == before["settings"]
