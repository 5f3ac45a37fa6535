"""``/api/combos`` through the real gateway (two workers): create, list, get/put/delete by id
or name, the three entry forms, and what is refused at write time (unknown target, cycle,
nesting deeper than 3, unknown strategy or account).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.accounts import chat, omni, provider_with, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="module")
def gw(gw2: RunningGateway) -> RunningGateway:
    """Two workers: a combo written through one is routed by both at once."""
    return gw2


def create(gw: RunningGateway, name: str, models: list[Any], strategy: str = "priority", **extra: Any) -> Any:
    return gw.api("POST", "/api/combos", {"name": name, "strategy": strategy, "models": models, **extra})


def test_crud_by_id_and_by_name(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    a, na, _ = provider_with(gw, flaky, unique("ok~"))
    b, nb, _ = provider_with(gw, flaky, unique("ok~"))
    name = unique("crud")
    made = create(gw, name, [f"{a}/m1", {"model": f"{b}/m2", "weight": 3}], "weighted", config={"note": "x"})
    assert made.status_code == 201, made.text
    combo = made.json()
    assert combo["id"].startswith("combo-") and combo["name"] == name and combo["strategy"] == "weighted"
    assert combo["models"] == [{"model": f"{a}/m1", "weight": 1.0, "connectionId": None},
                               {"model": f"{b}/m2", "weight": 3.0, "connectionId": None}]
    assert combo["config"] == {"note": "x"}
    assert gw.api("GET", f"/api/combos/{combo['id']}").json() == combo
    assert gw.api("GET", f"/api/combos/{name}").json() == combo
    assert combo in gw.api("GET", "/api/combos").json()["combos"]
    changed = gw.api("PUT", f"/api/combos/{name}", {"strategy": "priority", "models": [f"{b}/m2"]})
    assert changed.status_code == 200 and changed.json()["strategy"] == "priority"
    for _ in range(6):  # both workers route by the new version
        assert omni(chat(gw, name))["model"] == f"{nb}/m2"
    assert gw.api("DELETE", f"/api/combos/{combo['id']}").status_code == 200
    assert gw.api("GET", f"/api/combos/{name}").status_code == 404
    for _ in range(4):
        assert chat(gw, name).status_code == 404
    assert na != nb


def test_entry_may_pin_an_account(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    first, second = unique("ok~"), unique("ok~")
    p, _n, (_c1, c2) = provider_with(gw, flaky, first, second)
    name = unique("pinned")
    assert create(gw, name, [{"model": f"{p}/m1", "connectionId": c2}]).status_code == 201
    for _ in range(3):
        assert omni(chat(gw, name))["connection"] == c2
    assert flaky.count(first) == 0
    refused = create(gw, unique("pinned"), [{"model": f"{p}/m1", "connectionId": "conn-nope"}])
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "models[0].connectionId"


def test_nesting_up_to_three_levels(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    p, n, _ = provider_with(gw, flaky, unique("ok~"))
    low, mid, top, over = (unique(s) for s in ("low", "mid", "top", "over"))
    assert create(gw, low, [f"{p}/m1"]).status_code == 201
    assert create(gw, mid, [low]).status_code == 201
    assert create(gw, top, [mid]).status_code == 201
    assert omni(chat(gw, top))["model"] == f"{n}/m1"
    deep = create(gw, over, [top])
    assert deep.status_code == 400 and "deeper than 3" in deep.json()["error"]["message"]


def test_cycles_are_refused_at_write_time(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    p, _n, _ = provider_with(gw, flaky, unique("ok~"))
    a, b = unique("cyc-a"), unique("cyc-b")
    selfish = create(gw, a, [a])
    assert selfish.status_code == 400 and "cycle" in selfish.json()["error"]["message"]
    assert create(gw, a, [f"{p}/m1"]).status_code == 201
    assert create(gw, b, [a]).status_code == 201
    loop = gw.api("PUT", f"/api/combos/{a}", {"models": [b]})
    assert loop.status_code == 400 and f"{a} → {b} → {a}" in loop.json()["error"]["message"]
    assert chat(gw, b).status_code == 200  # unchanged


@pytest.mark.parametrize(("body", "param"), [
    ({"models": ["nowhere/none-such"]}, "models[0]"),
    ({"models": []}, "models"),
    ({"models": ["openai/gpt-4o"], "strategy": "fastest"}, "strategy"),
    ({"models": [{"model": "x", "weight": -1}]}, "models[0].weight"),
])
def test_invalid_combos_are_refused(gw: RunningGateway, body: dict, param: str) -> None:
    resp = gw.api("POST", "/api/combos", {"name": unique("bad"), **body})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param


def test_names_are_unique_and_used_combos_stay(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    p, _n, _ = provider_with(gw, flaky, unique("ok~"))
    inner, outer = unique("inner"), unique("outer")
    assert create(gw, inner, [f"{p}/m1"]).status_code == 201
    assert create(gw, outer, [inner]).status_code == 201
    assert create(gw, inner, [f"{p}/m2"]).status_code == 400
    assert create(gw, "a/b", [f"{p}/m2"]).status_code == 400
    used = gw.api("DELETE", f"/api/combos/{inner}")
    assert used.status_code == 400 and outer in used.json()["error"]["message"]
    renamed = gw.api("PUT", f"/api/combos/{inner}", {"name": unique("renamed")})
    assert renamed.status_code == 400 and outer in renamed.json()["error"]["message"]
    assert chat(gw, outer).status_code == 200


def test_aliases_are_checked_and_keep_their_combo(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    """An alias must point at something that routes (or will, once its provider is connected);
    a combo an alias points at cannot be deleted from under it."""
    p, _n, _ = provider_with(gw, flaky, unique("ok~"))
    combo, alias = unique("aliased"), unique("nick")
    assert create(gw, combo, [f"{p}/m1"]).status_code == 201
    assert gw.api("POST", "/api/models/alias", {"alias": alias, "model": combo}).status_code == 201
    assert chat(gw, alias).status_code == 200
    held = gw.api("DELETE", f"/api/combos/{combo}")
    assert held.status_code == 400 and alias in held.json()["error"]["message"]
    bad = gw.api("POST", "/api/models/alias", {"alias": unique("nick"), "model": "no-such-model-anywhere"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "model"
    later = gw.api("POST", "/api/models/alias", {"alias": unique("nick"), "model": "anthropic/claude-sonnet-4-5"})
    assert later.status_code == 201  # anthropic is known, just not connected yet
    assert gw.api("POST", "/api/models/alias", {"alias": alias, "model": alias}).status_code == 400
    assert gw.api("DELETE", f"/api/models/alias/{alias}").status_code == 200
    assert gw.api("DELETE", f"/api/combos/{combo}").status_code == 200
