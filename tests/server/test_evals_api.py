"""``/api/evals`` on a real two-worker gateway: suites stored in LMDB, run through the
gateway's own pipeline against the strict mock upstreams (the mocks answer ``mock-reply
<text>`` with that text), scorecards stored; and the expectation checks themselves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from omniroute.evals import judge
from tests.support.fleet import start_gateway
from tests.support.gateway import RunningGateway

JSON_REPLY = json.dumps({"city": "Paris", "temp": 22}).replace(" ", "")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("evals-gw"), mocks)
    yield gateway
    gateway.stop()


SUITE = {
    "name": "smoke",
    "model": "anthropic/claude-mock",  # translated: OpenAI Chat in, Anthropic upstream
    "cases": [
        {"input": "mock-reply The capital is Paris.", "expect": {"contains": "Paris"}},
        {"input": "mock-reply The capital is Paris.", "expect": {"equals": "The capital is Rome."}},
        {"input": "mock-reply Order 4711 shipped.", "expect": {"regex": r"Order \d{4} shipped", "contains": ["4711"]}},
        {"input": f"mock-reply {JSON_REPLY}", "expect": {"jsonSchema": {
            "type": "object", "required": ["city", "temp"],
            "properties": {"city": {"type": "string"}, "temp": {"type": "integer"}}}}},
        {"input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "mock-reply yes"}],
         "expect": {"equals": "yes"}},
    ],
}


def test_a_suite_runs_through_the_pipeline(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    created = gw.api("POST", "/api/evals", SUITE)
    assert created.status_code == 201, created.text
    suite = created.json()
    assert suite["lastRun"] is None and len(suite["cases"]) == 5
    before = len(mocks["anthropic"].requests)
    card = gw.api("POST", f"/api/evals/{suite['id']}/run").json()
    assert (card["passed"], card["failed"], card["total"]) == (4, 1, 5), card
    assert len(mocks["anthropic"].requests) == before + 5
    assert mocks["anthropic"].requests[-1]["system"] == "Be brief."
    failed = card["cases"][1]
    assert not failed["passed"] and failed["output"] == "The capital is Paris."
    assert "is not equal to 'The capital is Rome.'" in failed["reason"]
    assert card["cases"][0]["servedBy"] == "anthropic/claude-mock"
    # stored: every worker lists it with its last scorecard
    for _ in range(4):
        listed = httpx.get(gw.url + "/api/evals").json()["suites"]
        mine = next(s for s in listed if s["id"] == suite["id"])
        assert mine["lastRun"]["passed"] == 4 and "cases" not in mine["lastRun"] and mine["cases"] == 5
    assert gw.api("GET", f"/api/evals/{suite['id']}").json()["lastRun"]["cases"][1]["passed"] is False


def test_system_prompt_setting_applies_to_evals(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    suite = gw.api("POST", "/api/evals", {"name": "with-prompt", "model": "mock/agent", "cases": [
        {"input": "mock-reply ok", "expect": {"equals": "ok"}}]}).json()
    gw.api("PUT", "/api/settings/system-prompt", {"enabled": True, "prompt": "Eval house rules."})
    try:
        assert gw.api("POST", f"/api/evals/{suite['id']}/run").json()["passed"] == 1
        assert mocks["openai"].requests[-1]["messages"][0] == {"role": "system", "content": "Eval house rules."}
    finally:
        gw.api("PUT", "/api/settings/system-prompt", {"enabled": False})


def test_a_failing_request_fails_its_case(gw: RunningGateway) -> None:
    suite = gw.api("POST", "/api/evals", {"name": "broken", "model": "nowhere/at-all", "cases": [
        {"input": "hi", "expect": {"contains": "x"}}]}).json()
    card = gw.api("POST", f"/api/evals/{suite['name']}/run").json()
    assert card["failed"] == 1 and "request failed (404)" in card["cases"][0]["reason"]
    assert gw.api("DELETE", f"/api/evals/{suite['id']}").status_code == 200
    assert gw.api("GET", f"/api/evals/{suite['id']}").status_code == 404


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "m", "cases": [{"input": "x", "expect": {"contains": "y"}}]}, "name"),
    ({"name": "n", "model": "m", "cases": []}, "cases"),
    ({"name": "n", "model": "m", "cases": [{"input": "", "expect": {"contains": "y"}}]}, "cases[0].input"),
    ({"name": "n", "model": "m", "cases": [{"input": "x", "expect": {"startsWith": "y"}}]}, "cases[0].expect"),
    ({"name": "n", "model": "m", "cases": [{"input": "x", "expect": {"contains": "y"}},
                                           {"input": "x", "expect": {"regex": "(unclosed"}}]}, "cases[1].expect.regex"),
    ({"name": "n", "model": "m", "cases": [{"input": "x", "expect": {"jsonSchema": {"type": "strange"}}}]},
     "cases[0].expect.jsonSchema"),
    ({"name": "n", "model": "m", "cases": [{"input": "x", "expect": {"equals": 3}}]}, "cases[0].expect.equals"),
])
def test_bad_suites_name_the_field(gw: RunningGateway, body: dict[str, Any], param: str) -> None:
    resp = gw.api("POST", "/api/evals", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text


def test_judge() -> None:
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
    assert judge({"jsonSchema": schema}, '```json\n{"a": 1}\n```') is None
    assert judge({"jsonSchema": schema}, '{"a": "one"}') == "does not match the schema at a: 'one' is not of type " \
                                                           "'integer'"
    assert judge({"jsonSchema": schema}, "not json") == "is not JSON"
    assert judge({"contains": ["a", "b"]}, "a only") == "does not contain 'b'"
    assert judge({"equals": "x"}, "  x\n") is None
    assert judge({"regex": "^x$"}, "xx") == "does not match /^x$/"
