"""Several accounts of one provider through the real gateway (two workers): ``priority``
order, ``accountStrategy`` (fill-first, round-robin exact across workers, least-used) set by
``/api/settings``, and ``X-OmniRoute-Connection`` pinning one account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.support.accounts import add_account, chat, omni, provider_with, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="module")
def gw(gw2: RunningGateway) -> RunningGateway:
    return gw2


@pytest.fixture
def strategy(gw: RunningGateway) -> Iterator[object]:
    """Set ``accountStrategy`` for one test; fill-first again after it."""
    def put(name: str) -> None:
        resp = gw.api("PUT", "/api/settings", {"accountStrategy": name})
        assert resp.status_code == 200 and resp.json()["accountStrategy"] == name

    yield put
    put("fill-first")


def served(gw: RunningGateway, model: str, n: int) -> list[str]:
    """The account of each of ``n`` requests, each on a fresh connection (both workers)."""
    out = []
    for _ in range(n):
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        resp = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
        assert resp.status_code == 200, resp.text
        out.append(omni(resp)["connection"])
    return out


def test_settings_default_and_validation(gw: RunningGateway) -> None:
    shown = gw.api("GET", "/api/settings").json()
    assert shown["accountStrategy"] == "fill-first" and shown["trustedProxies"] == []
    bad = gw.api("PUT", "/api/settings", {"accountStrategy": "busiest"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "accountStrategy"
    assert gw.api("PUT", "/api/settings", {"colour": "blue"}).status_code == 400


def test_fill_first_by_priority_lower_first(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky)
    late = add_account(gw, node, unique("ok~"), priority=5)
    first = add_account(gw, node, unique("ok~"), priority=1)
    add_account(gw, node, unique("ok~"), priority=9)
    assert set(served(gw, f"{prefix}/m1", 6)) == {first}
    assert gw.api("PUT", f"/api/providers/{late}", {"priority": 0}).status_code == 200
    assert set(served(gw, f"{prefix}/m1", 4)) == {late}


def test_round_robin_rotates_exactly_across_workers(gw: RunningGateway, flaky: FlakyUpstream, strategy) -> None:
    strategy("round-robin")
    prefix, _node, ids = provider_with(gw, flaky, *(unique("ok~") for _ in range(3)))
    sequence = served(gw, f"{prefix}/m1", 12)
    start = ids.index(sequence[0])
    assert sequence == [ids[(start + i) % 3] for i in range(12)]


def test_round_robin_passes_over_a_failing_account(gw: RunningGateway, flaky: FlakyUpstream, strategy) -> None:
    strategy("round-robin")
    prefix, _node, (a, _bad, c) = provider_with(gw, flaky, unique("ok~"), unique("429-after-60~"), unique("ok~"))
    assert Counter(served(gw, f"{prefix}/m1", 12)).keys() == {a, c}


def test_least_used_evens_out(gw: RunningGateway, flaky: FlakyUpstream, strategy) -> None:
    strategy("least-used")
    prefix, _node, ids = provider_with(gw, flaky, *(unique("ok~") for _ in range(3)))
    assert Counter(served(gw, f"{prefix}/m1", 9)) == {i: 3 for i in ids}


def test_pin_one_account(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    bad, ok = unique("500~"), unique("ok~")
    prefix, _node, (first, second, third) = provider_with(gw, flaky, unique("ok~"), ok, bad)
    for _ in range(3):
        resp = chat(gw, f"{prefix}/m1", headers={"X-OmniRoute-Connection": second})
        assert omni(resp)["connection"] == second
    failed = chat(gw, f"{prefix}/m1", headers={"X-OmniRoute-Connection": third})
    assert failed.status_code == 500 and omni(failed)["attempts"] == "1"  # no other account instead
    unknown = chat(gw, f"{prefix}/m1", headers={"X-OmniRoute-Connection": "conn-nope"})
    assert unknown.status_code == 400 and "X-OmniRoute-Connection" in unknown.text
    assert flaky.count(ok) == 3 and first
