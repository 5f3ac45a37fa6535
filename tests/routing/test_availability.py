"""``/api/models/availability`` through the real gateway: every listed model and combo (GET)
or one model (POST), with the state of each account that could serve it.
"""

from __future__ import annotations

from tests.support.accounts import add_account, chat, provider_with, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


def availability(gw: RunningGateway, model: str) -> dict:
    resp = gw.api("POST", "/api/models/availability", {"model": model})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_one_model_with_its_accounts(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, (cool, ok) = provider_with(gw, flaky, unique("429-after-60~"), unique("ok~"))
    fresh = availability(gw, f"{prefix}/m1")
    assert fresh == {"model": f"{prefix}/m1", "available": True, "accounts": [
        {"connectionId": cool, "model": f"{node}/m1", "state": "ok", "reason": None},
        {"connectionId": ok, "model": f"{node}/m1", "state": "ok", "reason": None}]}
    assert chat(gw, f"{prefix}/m1").status_code == 200
    states = {a["connectionId"]: a for a in availability(gw, f"{prefix}/m1")["accounts"]}
    assert states[cool]["state"] == "cooling" and "429" in states[cool]["reason"]
    assert states[ok]["state"] == "ok"
    assert gw.api("PUT", f"/api/providers/{ok}", {"enabled": False}).status_code == 200
    after = availability(gw, f"{prefix}/m1")
    assert after["available"] is False
    assert [a["state"] for a in after["accounts"]] == ["cooling"]  # a disabled account serves nothing


def test_combo_lists_every_targets_accounts(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    p1, n1, (c1,) = provider_with(gw, flaky, unique("401~"))
    p2, n2, (c2,) = provider_with(gw, flaky, unique("ok~"))
    name = unique("avail-combo")
    assert gw.api("POST", "/api/combos", {"name": name, "models": [f"{p1}/m1", f"{p2}/m2"]}).status_code == 201
    assert chat(gw, name).status_code == 200
    shown = availability(gw, name)
    assert shown["available"] is True
    assert [(a["connectionId"], a["model"], a["state"]) for a in shown["accounts"]] == [
        (c1, f"{n1}/m1", "auth_failed"), (c2, f"{n2}/m2", "ok")]
    listed = {m["model"]: m for m in gw.api("GET", "/api/models/availability").json()["models"]}
    assert listed[name] == shown


def test_unknown_model_and_bad_body(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    _prefix, node, _ = provider_with(gw, flaky)
    add_account(gw, node, unique("ok~"))
    assert gw.api("POST", "/api/models/availability", {"model": "no-such-model-x"}).status_code == 404
    assert gw.api("POST", "/api/models/availability", {}).status_code == 400
