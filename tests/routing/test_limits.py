"""Rate limits through the real gateway with two workers: a key's rpm/tpm, the global
``/api/rate-limit`` and an account's own rpm/tpm — exact across workers, refused in the
client's dialect with ``Retry-After`` and the ``x-ratelimit-*`` headers.

Windows are whole minutes (``fresh_window`` keeps a test inside one); tokens are counted
after each answer, off the request (post-hooks), so tests wait for them to land.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anthropic
import httpx
import pytest

from tests.support.accounts import accounts, add_account, chat, fresh_window, omni, provider_with, sdk, unique
from tests.support.flaky_upstream import ANSWER_TOKENS, PROMPT_TOKENS, FlakyUpstream
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="module")
def gw(gw2: RunningGateway) -> RunningGateway:
    return gw2


def make_key(gw: RunningGateway, **limits: int) -> tuple[str, str]:
    resp = gw.api("POST", "/api/keys", {"name": unique("key"), **limits})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"], resp.json()["key"]


def burst(gw: RunningGateway, model: str, n: int, secret: str | None = None, **kw: Any) -> list[httpx.Response]:
    """``n`` requests from 5 threads, each on a fresh connection (both workers serve)."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def one(_: int) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **kw}
        return httpx.post(gw.url + "/v1/chat/completions", json=body, headers=headers, timeout=10)

    with ThreadPoolExecutor(5) as pool:
        return list(pool.map(one, range(n)))


def test_key_rpm_is_exact_across_two_workers(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    prefix, _node, _ = provider_with(gw, flaky, key)
    _key_id, secret = make_key(gw, rpm=10)
    fresh_window()
    answers = burst(gw, f"{prefix}/m1", 16, secret)
    assert Counter(r.status_code for r in answers) == {200: 10, 429: 6}
    assert flaky.count(key) == 10
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert "10 requests" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-limit-requests"] == "10"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert chat(gw, f"{prefix}/m1").status_code == 200  # without the key: not limited


def test_key_limit_in_the_anthropic_dialect_and_changed_by_put(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, _ = provider_with(gw, flaky, unique("ok~"))
    key_id, secret = make_key(gw, rpm=100)
    fresh_window()
    client = anthropic.Anthropic(base_url=gw.url, api_key=secret, max_retries=0, timeout=10)
    ask = {"model": f"{prefix}/m1", "max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]}
    client.messages.create(**ask)
    changed = gw.api("PUT", f"/api/keys/{key_id}", {"rpm": 2})
    assert changed.status_code == 200 and changed.json()["rpm"] == 2
    client.messages.create(**ask)
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(**ask)
    assert caught.value.status_code == 429
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert gw.api("PUT", f"/api/keys/{key_id}", {"rpm": -1}).status_code == 400


def test_key_tpm_counts_answer_tokens(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    per = PROMPT_TOKENS + ANSWER_TOKENS
    prefix, _node, _ = provider_with(gw, flaky, unique("ok~"))
    _key_id, secret = make_key(gw, tpm=2 * per)
    fresh_window()
    client = sdk(gw, secret)
    ask = {"model": f"{prefix}/m1", "messages": [{"role": "user", "content": "hi"}]}
    client.chat.completions.create(**ask)
    time.sleep(0.3)
    stream = client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})
    assert [c for c in stream][-1].usage.total_tokens == per
    time.sleep(0.3)
    with pytest.raises(Exception) as caught:
        client.chat.completions.create(**ask)
    assert getattr(caught.value, "status_code", None) == 429
    assert f"{2 * per} tokens" in str(caught.value)


def test_global_rate_limit_is_exact_and_settable(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    assert gw.api("GET", "/api/rate-limit").json() == {"rpm": 0, "tpm": 0, "windowS": 60}
    for bad in ({"rpm": -1}, {"rpm": "ten"}, {"rpm": True}, {"burst": 3}):
        assert gw.api("PUT", "/api/rate-limit", bad).status_code == 400
    key = unique("ok~")
    prefix, _node, _ = provider_with(gw, flaky, key)
    _key_id, secret = make_key(gw)
    fresh_window()
    assert gw.api("PUT", "/api/rate-limit", {"rpm": 7}).json() == {"rpm": 7, "tpm": 0, "windowS": 60}
    try:
        answers = burst(gw, f"{prefix}/m1", 6) + burst(gw, f"{prefix}/m1", 6, secret)
    finally:
        assert gw.api("PUT", "/api/rate-limit", {"rpm": 0}).status_code == 200
    assert Counter(r.status_code for r in answers) == {200: 7, 429: 5}
    refused = next(r for r in answers if r.status_code == 429)
    assert "the gateway" in refused.json()["error"]["message"]
    assert refused.headers["x-ratelimit-limit-requests"] == "7"
    assert flaky.count(key) == 7
    assert chat(gw, f"{prefix}/m1").status_code == 200


def test_account_rpm_skips_to_the_next_account(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky)
    limited = add_account(gw, node, unique("ok~"), 0, rpm=3)
    other = add_account(gw, node, unique("ok~"), 1)
    fresh_window()
    served = [omni(r)["connection"] for r in burst(gw, f"{prefix}/m1", 8)]
    assert Counter(served) == {limited: 3, other: 5}
    state = accounts(gw)[limited]
    assert state["state"] == "limited" and "3 requests" in state["reason"]


def test_account_tpm_skips_to_the_next_account(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky)
    limited = add_account(gw, node, unique("ok~"), 0, tpm=PROMPT_TOKENS + ANSWER_TOKENS + 1)
    other = add_account(gw, node, unique("ok~"), 1)
    fresh_window()
    served = []
    for _ in range(4):
        served.append(omni(chat(gw, f"{prefix}/m1"))["connection"])
        time.sleep(0.3)  # the answer's tokens are counted after it
    assert served == [limited, limited, other, other]
    assert accounts(gw)[limited]["state"] == "limited"


def test_limited_and_cooling_accounts_alone_give_503(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky)
    add_account(gw, node, unique("ok~"), 0, rpm=1)
    fresh_window()
    assert chat(gw, f"{prefix}/m1").status_code == 200
    resp = chat(gw, f"{prefix}/m1")
    assert resp.status_code == 503
    assert "limited" in resp.json()["error"]["message"]
    assert 1 <= int(resp.headers["retry-after"]) <= 60


def test_a_refused_request_uses_none_of_the_keys_limit(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, _ = provider_with(gw, flaky, unique("ok~"))
    _key_id, secret = make_key(gw, rpm=1)
    auth = {"Authorization": f"Bearer {secret}"}
    fresh_window()
    assert chat(gw, "no-such-model-at-all", headers=auth).status_code == 404
    assert chat(gw, f"{prefix}/m1", headers={**auth, "X-OmniRoute-Timeout": "never"}).status_code == 400
    assert chat(gw, f"{prefix}/m1", headers=auth).status_code == 200
    assert chat(gw, f"{prefix}/m1", headers=auth).status_code == 429
