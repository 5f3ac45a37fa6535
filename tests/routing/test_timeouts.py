"""A provider's resilience profile sets its own upstream timeouts — connect, first byte, idle —
applied per request by the pool (``upstream.Timeouts``), tighter or looser than the server's
``--connect-timeout`` / ``--first-byte-timeout`` / ``--stream-idle-timeout`` (here 1 / 1.5 /
1.5 s), while other providers keep the server's."""

from __future__ import annotations

import time

from tests.support.accounts import add_account, add_node, chat, provider_with, unique
from tests.support.blackhole import hanging_port
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


def override(gw: RunningGateway, node: str, **values: float) -> None:
    resp = gw.api("PUT", "/api/resilience", {"providers": {node: values}})
    assert resp.status_code == 200, resp.text


def timed(gw: RunningGateway, model: str, **kw: object) -> tuple[object, float]:
    began = time.perf_counter()
    resp = chat(gw, model, **kw)
    return resp, time.perf_counter() - began


def test_a_providers_idle_timeout_ends_a_quiet_stream_sooner(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    tight, loose = unique("drip-700~"), unique("drip-700~")
    tight_prefix, tight_node, _ = provider_with(gw, flaky, tight)
    loose_prefix, _node, _ = provider_with(gw, flaky, loose)
    override(gw, tight_node, idleTimeoutS=0.3)
    resp, took = timed(gw, f"{tight_prefix}/m1", stream=True, timeout=20)
    assert resp.status_code == 200 and took < 3
    assert "sent nothing for 0.3 s" in resp.text  # the stream's error event says why
    resp, took = timed(gw, f"{loose_prefix}/m1", stream=True, timeout=30)
    assert resp.status_code == 200 and took > 10 and "[DONE]" in resp.text  # 0.7 s gaps are fine at 1.5 s


def test_a_providers_first_byte_timeout_can_be_longer_than_the_servers(gw: RunningGateway,
                                                                       flaky: FlakyUpstream) -> None:
    key = unique("ok-slow-2200~")
    prefix, node, _ = provider_with(gw, flaky, key)
    assert chat(gw, f"{prefix}/m1").status_code == 504  # the server's 1.5 s
    gw.api("POST", "/api/resilience/reset")
    override(gw, node, firstByteTimeoutS=4)
    resp, took = timed(gw, f"{prefix}/m1")
    assert resp.status_code == 200 and 2 < took < 4


def test_a_providers_connect_timeout(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    prefix = unique("p")
    node = add_node(gw, flaky, prefix)
    with hanging_port() as port:
        add_account(gw, node, unique("ok~"), baseUrl=f"http://127.0.0.1:{port}/v1")
        override(gw, node, connectTimeoutS=0.2)
        resp, took = timed(gw, f"{prefix}/m1")
    assert resp.status_code == 504 and took < 0.9  # the server's connect timeout is 1 s
    assert "0.2 s" in resp.json()["error"]["message"]
