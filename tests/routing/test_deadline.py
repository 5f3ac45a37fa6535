"""One deadline per request, through the real gateway: all attempts and the answer together
end at ``requestTimeoutS`` (lowered by ``X-OmniRoute-Timeout``) with a 504, or an error event
once a stream has begun; the upstream calls still open are closed. The profile's first-byte
timeout bounds each attempt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import anthropic
import pytest

from tests.routing.conftest import gateway_for
from tests.support.accounts import chat, omni, provider_with, set_resilience, sse_text, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """First-byte timeout 1.5 s (server flag); the deadline is 2.5 s."""
    gateway = gateway_for(tmp_path_factory)
    set_resilience(gateway, requestTimeoutS=2.5)
    yield gateway
    gateway.stop()


def timed(gw: RunningGateway, model: str, **kw: object) -> tuple[object, float]:
    began = time.perf_counter()
    resp = chat(gw, model, **kw)
    return resp, time.perf_counter() - began


def test_deadline_bounds_all_attempts_together(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    keys = [unique("hang~") for _ in range(3)]  # 3 × 1.5 s first-byte timeouts without a deadline
    prefix, _node, _ = provider_with(gw, flaky, *keys)
    before = flaky.disconnects
    resp, took = timed(gw, f"{prefix}/m1")
    assert resp.status_code == 504
    assert resp.json()["error"]["code"] == "deadline_exceeded"
    assert 2.4 <= took < 3.1
    assert [flaky.count(k) for k in keys] == [1, 1, 0]
    assert flaky.wait_for(lambda: flaky.disconnects == before + 2, 2)  # nothing left running


def test_header_lowers_the_deadline_and_never_raises_it(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, _ = provider_with(gw, flaky, unique("hang~"))
    resp, took = timed(gw, f"{prefix}/m1", headers={"X-OmniRoute-Timeout": "0.5"})
    assert resp.status_code == 504 and 0.45 <= took < 1.0
    assert "0.5 s" in resp.json()["error"]["message"]
    resp, took = timed(gw, f"{prefix}/m1", headers={"X-OmniRoute-Timeout": "30"}, stream=True)
    assert resp.status_code in (502, 504)  # the 1.5 s first-byte timeout, well inside 2.5 s
    assert took < 2.4
    bad = chat(gw, f"{prefix}/m1", headers={"X-OmniRoute-Timeout": "soon"})
    assert bad.status_code == 400 and "X-OmniRoute-Timeout" in bad.text


def test_stream_past_the_deadline_ends_with_an_error_event(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("drip-200~")  # 20 chunks, 4 s in all
    prefix, _node, (conn,) = provider_with(gw, flaky, key)
    before = flaky.disconnects
    resp, took = timed(gw, f"{prefix}/m1", stream=True, headers={"X-OmniRoute-Timeout": "1"})
    assert resp.status_code == 200 and omni(resp)["connection"] == conn
    assert 0.9 <= took < 1.6
    assert sse_text(resp).startswith("0 1 2 ")
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]
    assert events[-1]["error"]["code"] == "deadline_exceeded"
    assert flaky.wait_for(lambda: flaky.disconnects == before + 1, 2)  # the upstream stream was closed


def test_anthropic_stream_past_the_deadline_gets_its_error_event(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, _ = provider_with(gw, flaky, unique("drip-200~"))
    client = anthropic.Anthropic(base_url=gw.url, api_key="sk-test", max_retries=0, timeout=10)
    began = time.perf_counter()
    ask = {"model": f"{prefix}/m1", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    with (pytest.raises(anthropic.APIStatusError) as caught,
          client.messages.stream(**ask, extra_headers={"X-OmniRoute-Timeout": "1"}) as stream):
        for _ in stream.text_stream:
            pass
    assert "deadline" in str(caught.value)
    assert time.perf_counter() - began < 1.8


def test_deadline_before_the_stream_began_is_a_504(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, _ = provider_with(gw, flaky, unique("ok-slow-3000~"))
    resp, took = timed(gw, f"{prefix}/m1", stream=True, headers={"X-OmniRoute-Timeout": "0.6"})
    assert resp.status_code == 504 and took < 1.2
    assert resp.json()["error"]["code"] == "deadline_exceeded"


def test_answer_inside_the_deadline_is_untouched(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, _ = provider_with(gw, flaky, unique("hang~"), unique("ok-slow-300~"))
    resp, took = timed(gw, f"{prefix}/m1")  # 1.5 s first-byte timeout, then 0.3 s: inside 2.5 s
    assert resp.status_code == 200 and omni(resp)["attempts"] == "2"
    assert 1.7 <= took < 2.5


def test_profile_first_byte_timeout_bounds_each_attempt(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix, _node, (_hang, ok_id) = provider_with(gw, flaky, unique("hang~"), unique("ok~"))
    set_resilience(gw, firstByteTimeoutS=0.4)
    try:
        resp, took = timed(gw, f"{prefix}/m1")
    finally:
        set_resilience(gw, firstByteTimeoutS=1.5)
    assert resp.status_code == 200 and omni(resp)["connection"] == ok_id
    assert took < 1.0
