"""Fallback through the real gateway: which failures move a request on to the next account
(then the next target), which reach the client, and the ``X-OmniRoute-*`` headers either way.

Each case is a provider node of its own whose first account (priority 0) fails as the
flaky mock's key says and whose second answers ``ok``.
"""

from __future__ import annotations

import json
import threading
import time

import anthropic
import httpx
import pytest

from tests.support.accounts import add_account, chat, content, omni, provider_with, sdk, sse_text, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway, free_port

FALLS_BACK = ["drop-first", "hang", "408", "429", "500", "502", "503", "504", "529", "404", "context", "401", "403",
              "empty", "notjson", "drop-mid"]
STREAM_FALLS_BACK = ["drop-first", "hang", "429", "500", "503", "401", "context", "empty", "notjson"]


@pytest.mark.parametrize("behaviour", FALLS_BACK)
def test_failure_moves_on_to_the_next_account(gw: RunningGateway, flaky: FlakyUpstream, behaviour: str) -> None:
    bad, ok = unique(behaviour + "~"), unique("ok~")
    prefix, node, (_bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    resp = sdk(gw).chat.completions.with_raw_response.create(
        model=f"{prefix}/m1", messages=[{"role": "user", "content": "hi"}])
    assert resp.status_code == 200
    assert resp.parse().choices[0].message.content == f"served by {ok} as m1"
    assert omni(resp) == {"model": f"{node}/m1", "provider": node, "connection": ok_id, "attempts": "2"}
    assert flaky.count(bad) == 1 and flaky.count(ok) == 1


def test_connection_refused_moves_on(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, node, _ = provider_with(gw, flaky)
    dead = add_account(gw, node, unique("ok~"), 0, baseUrl=f"http://127.0.0.1:{free_port()}/v1")
    ok = unique("ok~")
    ok_id = add_account(gw, node, ok, 1)
    resp = chat(gw, f"{prefix}/m1")
    assert resp.status_code == 200, resp.text
    assert omni(resp)["connection"] == ok_id and omni(resp)["attempts"] == "2"
    assert dead != ok_id


@pytest.mark.parametrize("behaviour", STREAM_FALLS_BACK)
def test_stream_falls_back_before_its_first_byte(gw: RunningGateway, flaky: FlakyUpstream, behaviour: str) -> None:
    bad, ok = unique(behaviour + "~"), unique("ok~")
    prefix, node, (_bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    resp = chat(gw, f"{prefix}/m1", stream=True)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert sse_text(resp) == f"served by {ok} as m1"
    assert resp.text.rstrip().endswith("data: [DONE]")
    assert omni(resp) == {"model": f"{node}/m1", "provider": node, "connection": ok_id, "attempts": "2"}


def test_stream_broken_after_its_first_byte_ends_with_an_error_event(gw: RunningGateway,
                                                                     flaky: FlakyUpstream) -> None:
    bad, ok = unique("drop-mid~"), unique("ok~")
    prefix, _node, (bad_id, _ok_id) = provider_with(gw, flaky, bad, ok)
    resp = chat(gw, f"{prefix}/m1", stream=True)
    assert resp.status_code == 200
    assert sse_text(resp) == "served by"  # the two chunks that reached the client
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]
    assert "error" in events[-1]
    assert omni(resp)["connection"] == bad_id and omni(resp)["attempts"] == "1"
    assert flaky.count(ok) == 0  # the answer had begun: no second account


@pytest.mark.parametrize(("behaviour", "status"), [("400", 400), ("422", 422)])
def test_other_client_errors_reach_the_client(gw: RunningGateway, flaky: FlakyUpstream, behaviour: str,
                                              status: int) -> None:
    bad, ok = unique(behaviour + "~"), unique("ok~")
    prefix, node, (bad_id, _ok_id) = provider_with(gw, flaky, bad, ok)
    resp = chat(gw, f"{prefix}/m1")
    assert resp.status_code == status
    assert resp.json()["error"]["message"] == f"flaky says {behaviour}"
    assert omni(resp) == {"model": f"{node}/m1", "provider": node, "connection": bad_id, "attempts": "1"}
    assert flaky.count(ok) == 0


def test_last_failure_reaches_the_client_with_headers(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    a, b = unique("500~"), unique("503~")
    prefix, node, (_a_id, b_id) = provider_with(gw, flaky, a, b)
    resp = chat(gw, f"{prefix}/m1")
    assert resp.status_code == 503
    assert omni(resp) == {"model": f"{node}/m1", "provider": node, "connection": b_id, "attempts": "2"}


def test_accounts_first_then_the_next_target(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    k1, k2, ok = unique("429~"), unique("500~"), unique("ok~")
    p1, _n1, _ = provider_with(gw, flaky, k1, k2)
    p2, n2, (ok_id,) = provider_with(gw, flaky, ok)
    name = unique("fb-combo")
    made = gw.api("POST", "/api/combos", {"name": name, "strategy": "priority", "models": [f"{p1}/m1", f"{p2}/m2"]})
    assert made.status_code == 201, made.text
    resp = chat(gw, name)
    assert resp.status_code == 200, resp.text
    assert content(resp) == f"served by {ok} as m2"
    assert omni(resp) == {"model": f"{n2}/m2", "provider": n2, "connection": ok_id, "attempts": "3"}
    assert resp.json()["model"] in (name, "m2")


def test_no_fallback_after_the_client_left(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    bad, ok = unique("hang~"), unique("ok~")
    prefix, _node, _ = provider_with(gw, flaky, bad, ok)
    before = flaky.disconnects
    with pytest.raises(httpx.ReadTimeout):
        chat(gw, f"{prefix}/m1", timeout=0.4)
    assert flaky.wait_for(lambda: flaky.disconnects > before, 3)  # the upstream call was closed
    time.sleep(1.8)  # past the first-byte timeout: a fallback would have happened by now
    assert flaky.count(ok) == 0


def test_anthropic_client_on_a_translated_route_falls_back_with_headers(gw: RunningGateway,
                                                                         flaky: FlakyUpstream) -> None:
    bad, ok = unique("503~"), unique("ok~")
    prefix, node, (_bad_id, ok_id) = provider_with(gw, flaky, bad, ok)
    client = anthropic.Anthropic(base_url=gw.url, api_key="sk-test", max_retries=0, timeout=10)
    raw = client.messages.with_raw_response.create(model=f"{prefix}/m1", max_tokens=64,
                                                   messages=[{"role": "user", "content": "hi"}])
    message = raw.parse()
    assert message.content[0].text == f"served by {ok} as m1"
    assert omni(raw) == {"model": f"{node}/m1", "provider": node, "connection": ok_id, "attempts": "2"}
    with client.messages.stream(model=f"{prefix}/m1", max_tokens=64,
                                messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        assert omni(stream.response)["connection"] == ok_id
    assert text == f"served by {ok} as m1"


def test_concurrent_requests_all_fall_back(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    bad, ok = unique("502~"), unique("ok~")
    prefix, _node, (_bad_id, _ok_id) = provider_with(gw, flaky, bad, ok)
    results: list[int] = []

    def one() -> None:
        results.append(chat(gw, f"{prefix}/m1").status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8
    assert flaky.count(ok) == 8
