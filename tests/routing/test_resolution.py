"""Model resolution through the real gateway: combo → alias (exact, then glob) →
``provider/model`` → a bare id one provider offers; ambiguous and unknown ids; the catalog,
``/v1/models`` and custom models (``/api/provider-models``).
"""

from __future__ import annotations

import pytest

from tests.support.accounts import add_account, chat, content, omni, provider_with, sdk, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


def alias(gw: RunningGateway, name: str, model: str) -> None:
    resp = gw.api("POST", "/api/models/alias", {"alias": name, "model": model})
    assert resp.status_code == 201, resp.text


def served(gw: RunningGateway, model: str) -> str:
    """``X-OmniRoute-Model`` of a successful answer for ``model``."""
    resp = chat(gw, model)
    assert resp.status_code == 200, resp.text
    return omni(resp)["model"]


def test_provider_id_and_prefix_both_resolve_and_the_first_slash_splits(gw: RunningGateway,
                                                                        flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    prefix, node, _ = provider_with(gw, flaky, key)
    assert served(gw, f"{prefix}/m1") == f"{node}/m1"
    assert served(gw, f"{node}/m1") == f"{node}/m1"
    assert served(gw, f"{prefix}/org/model-x") == f"{node}/org/model-x"
    assert flaky.requests[-1]["model"] == "org/model-x"


def test_builtin_row_by_id_and_by_its_prefix(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    add_account(gw, "openai", key, baseUrl=flaky.base_url)
    resp = sdk(gw).chat.completions.with_raw_response.create(model="oai/gpt-4o-mini",
                                                             messages=[{"role": "user", "content": "hi"}])
    assert omni(resp)["model"] == "openai/gpt-4o-mini"
    assert served(gw, "openai/gpt-4o-mini") == "openai/gpt-4o-mini"
    assert served(gw, "gpt-4o-mini") == "openai/gpt-4o-mini"  # a listed bare id, one provider
    assert flaky.count(key) == 3


def test_bare_id_listed_by_one_provider(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    model = unique("solo-model-")
    _prefix, node, _ = provider_with(gw, flaky)
    add_account(gw, node, unique("ok~"), models=[model])
    assert served(gw, model) == f"{node}/{model}"
    assert flaky.requests[-1]["model"] == model


def test_bare_id_offered_by_two_providers_is_ambiguous(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    model = unique("twin-")
    p1, n1, _ = provider_with(gw, flaky)
    p2, n2, _ = provider_with(gw, flaky)
    add_account(gw, n1, unique("ok~"), models=[model])
    add_account(gw, n2, unique("ok~"), models=[model])
    resp = chat(gw, model)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "ambiguous_model"
    assert f"{p1}/{model}" in error["message"] and f"{p2}/{model}" in error["message"]
    assert served(gw, f"{p2}/{model}") == f"{n2}/{model}"


def test_unknown_model_is_404_and_unconnected_provider_400(gw: RunningGateway) -> None:
    resp = chat(gw, "no-such-model-anywhere")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "model_not_found"
    assert "no-such-model-anywhere" in resp.json()["error"]["message"]
    resp = chat(gw, "groq/llama-3.3-70b-versatile")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "provider_not_connected"


def test_exact_alias_before_glob_and_globs_in_the_order_made(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    a, na, _ = provider_with(gw, flaky, unique("ok~"))
    b, nb, _ = provider_with(gw, flaky, unique("ok~"))
    stem = unique("fam")
    alias(gw, f"{stem}-*", f"{a}/m1")
    alias(gw, f"{stem}-exact", f"{b}/m2")
    alias(gw, "*" + stem + "-late", f"{b}/m1")  # made later, sorts earlier: the first glob still wins
    assert served(gw, f"{stem}-exact") == f"{nb}/m2"
    assert served(gw, f"{stem}-anything") == f"{na}/m1"
    assert served(gw, f"{stem}-late") == f"{na}/m1"
    assert served(gw, f"x{stem}-late") == f"{nb}/m1"


def test_combo_name_comes_before_an_alias(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    a, na, _ = provider_with(gw, flaky, unique("ok~"))
    b, _nb, _ = provider_with(gw, flaky, unique("ok~"))
    name = unique("shadow")
    assert gw.api("POST", "/api/combos", {"name": name, "models": [f"{a}/m1"]}).status_code == 201
    alias(gw, name, f"{b}/m1")
    assert served(gw, name) == f"{na}/m1"


def test_alias_to_a_combo_and_answer_headers(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    a, na, (conn,) = provider_with(gw, flaky, key)
    name = unique("aliased-combo")
    assert gw.api("POST", "/api/combos", {"name": name, "models": [f"{a}/m2"]}).status_code == 201
    alias(gw, unique("nick"), name)
    nick = gw.api("GET", "/api/models/alias").json()["aliases"]
    nick_name = next(k for k, v in nick.items() if v == name)
    resp = chat(gw, nick_name)
    assert content(resp) == f"served by {key} as m2"
    assert omni(resp) == {"model": f"{na}/m2", "provider": na, "connection": conn, "attempts": "1"}


# -- listings ----------------------------------------------------------------------------------
def test_catalog_lists_models_custom_models_and_combos(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, (c1, c2) = provider_with(gw, flaky, unique("ok~"), unique("ok~"))
    own = unique("own-")
    gw.api("PUT", f"/api/providers/{c2}", {"models": [own]})
    made = gw.api("POST", "/api/provider-models", {"provider": node, "model": "embed-x", "type": "embedding"})
    assert made.status_code == 201, made.text
    name = unique("cat-combo")
    assert gw.api("POST", "/api/combos", {"name": name, "models": [f"{prefix}/{own}"]}).status_code == 201
    models = {m["id"]: m for m in gw.api("GET", "/api/models/catalog").json()["models"]}
    assert models[f"{prefix}/{own}"] == {"id": f"{prefix}/{own}", "provider": node, "type": "chat",
                                         "connections": [c1, c2]}
    assert models[f"{prefix}/embed-x"]["type"] == "embedding"
    assert models[name]["type"] == "combo" and models[name]["provider"] == "combo"
    add_account(gw, "openai", unique("ok~"), baseUrl=flaky.base_url)
    models = {m["id"]: m for m in gw.api("GET", "/api/models/catalog").json()["models"]}
    assert models["openai/gpt-4o"]["contextWindow"] > 100_000
    listed = {m.id: m.owned_by for m in sdk(gw).models.list().data}
    assert listed[name] == "combo"
    assert f"{prefix}/{own}" in listed and f"{prefix}/embed-x" in listed


def test_custom_models_add_list_route_delete(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    prefix, node, _ = provider_with(gw, flaky, key)
    model = unique("custom-")
    assert gw.api("POST", "/api/provider-models", {"provider": node, "model": model}).status_code == 201
    listed = gw.api("GET", "/api/provider-models").json()["models"]
    assert {"provider": node, "model": model, "type": "chat"} in listed
    assert served(gw, model) == f"{node}/{model}"  # a bare id only this provider offers
    deleted = gw.api("DELETE", f"/api/provider-models?provider={node}&model={model}")
    assert deleted.status_code == 200
    assert chat(gw, model).status_code == 404
    assert gw.api("DELETE", f"/api/provider-models?provider={node}&model={model}").status_code == 404
    assert served(gw, f"{prefix}/{model}") == f"{node}/{model}"  # provider/model still routes


@pytest.mark.parametrize(("body", "param"), [
    ({"provider": "no-such", "model": "x"}, "provider"),
    ({"provider": "openai", "model": " "}, "model"),
    ({"provider": "openai", "model": "x", "type": "video"}, "type"),
])
def test_custom_model_validation(gw: RunningGateway, body: dict, param: str) -> None:
    resp = gw.api("POST", "/api/provider-models", body)
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == param
