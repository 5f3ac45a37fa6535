"""``/api/pricing`` through the real gateway: the built-in table, the operator's edits (merged,
winning, validated), and the prices a served answer is charged at (read back as a budget's
spend): an edited ``provider/model``, an edited bare id, a built-in dated id.
"""

from __future__ import annotations

import time

import pytest

from tests.support.accounts import add_account, chat, provider_with, unique
from tests.support.flaky_upstream import ANSWER_TOKENS, PROMPT_TOKENS, FlakyUpstream
from tests.support.gateway import RunningGateway


def cost(price: dict) -> float:
    return (PROMPT_TOKENS * price["input"] + ANSWER_TOKENS * price["output"]) / 1_000_000


def charged(gw: RunningGateway, model: str, wait: float = 3) -> float:
    """What one answer for ``model`` cost, as a fresh key's budget counts it."""
    key = gw.api("POST", "/api/keys", {"name": unique("price")}).json()
    assert gw.api("POST", "/api/usage/budget", {"keyId": key["id"], "limit": 1e9}).status_code == 201
    assert chat(gw, model, headers={"Authorization": f"Bearer {key['key']}"}).status_code == 200
    deadline = time.time() + wait
    while (value := gw.api("GET", f"/api/usage/budget?keyId={key['id']}").json()["spent"]) == 0:
        if time.time() > deadline:
            break
        time.sleep(0.05)
    return value


def test_builtin_table_and_unit(gw: RunningGateway) -> None:
    table = gw.api("GET", "/api/pricing").json()
    assert table["unit"] == "USD per 1M tokens"
    assert table["pricing"]["gpt-4o-mini"] == {"input": 0.15, "output": 0.6, "cachedInput": 0.075}
    assert table["pricing"]["claude-sonnet-4-5"]["cacheWrite"] == 3.75


def test_edits_merge_and_win(gw: RunningGateway) -> None:
    key = unique("edit-model-")
    put = gw.api("PUT", "/api/pricing", {"pricing": {key: {"input": 1, "output": 2},
                                                     "gpt-4o-mini": {"input": 9, "output": 9}}})
    assert put.status_code == 200
    table = gw.api("GET", "/api/pricing").json()["pricing"]
    assert table[key] == {"input": 1, "output": 2} and table["gpt-4o-mini"] == {"input": 9, "output": 9}
    assert table["gpt-4o"]["input"] == 2.5  # the rest of the built-in table stays
    other = unique("edit-model-")
    assert gw.api("PUT", "/api/pricing", {other: {"input": 3, "output": 4}}).status_code == 200  # bare table
    table = gw.api("GET", "/api/pricing").json()["pricing"]
    assert table[key] == {"input": 1, "output": 2} and table[other] == {"input": 3, "output": 4}
    gw.api("PUT", "/api/pricing", {"pricing": {"gpt-4o-mini": {"input": 0.15, "output": 0.6, "cachedInput": 0.075}}})


@pytest.mark.parametrize("body", [
    {"pricing": {"x": {"input": -1, "output": 1}}},
    {"pricing": {"x": {"input": 1}}},
    {"pricing": {"x": {"input": "cheap", "output": 1}}},
    {"pricing": ["x"]},
])
def test_edits_are_validated(gw: RunningGateway, body: dict) -> None:
    resp = gw.api("PUT", "/api/pricing", body)
    assert resp.status_code == 400
    assert resp.json()["error"]["param"].startswith("pricing")


def test_answers_are_charged_at_the_right_price(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky, unique("ok~"))
    bare = unique("bare-model-")
    exact, loose = {"input": 1000, "output": 3000}, {"input": 50, "output": 70}
    assert gw.api("PUT", "/api/pricing", {"pricing": {f"{node}/m1": exact, bare: loose}}).status_code == 200
    assert charged(gw, f"{prefix}/m1") == pytest.approx(cost(exact))
    assert charged(gw, f"{prefix}/{bare}") == pytest.approx(cost(loose))
    add_account(gw, "openai", unique("ok~"), baseUrl=flaky.base_url)
    assert charged(gw, "openai/gpt-4o-2024-08-06") == pytest.approx(cost({"input": 2.5, "output": 10}), abs=1e-6)
    assert charged(gw, f"{prefix}/unpriced-model", wait=0.5) == 0
