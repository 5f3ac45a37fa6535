"""Idempotency keys and in-flight coalescing through a real 2-worker gateway: replays across
workers, a repeat that arrives while the first is still streaming, conflicts in the client's
dialect, failures that free the key, and 20 concurrent identical requests sharing one call."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.caching.conftest import MODEL, cache_stats, chat, unique
from tests.support.gateway import RunningGateway


def calls(mocks: dict[str, Any]) -> int:
    return len(mocks["openai"].requests)


def stream_text(raw: bytes) -> str:
    import json

    out = []
    for line in raw.split(b"\n"):
        if line.startswith(b"data: {"):
            chunk = json.loads(line[6:])
            out += [c["delta"].get("content") or "" for c in chunk.get("choices", [])]
    return "".join(out)


def test_a_repeat_gets_the_first_answer_on_every_worker(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    key, q, before = unique("key"), unique(), calls(cache_mocks)
    first = chat(cached, q, temperature=0.8, headers={"Idempotency-Key": key})  # not cacheable: idempotency only
    assert first.status_code == 200 and "x-omniroute-idempotent" not in first.headers
    repeats = [chat(cached, q, temperature=0.8, headers={"Idempotency-Key": key}) for _ in range(6)]
    assert {(r.status_code, r.headers.get("x-omniroute-idempotent")) for r in repeats} == {(200, "true")}
    assert {r.json()["id"] for r in repeats} == {first.json()["id"]}
    assert calls(cache_mocks) == before + 1
    pids = {httpx.get(cached.url + "/api/monitoring/health").json()["pid"] for _ in range(20)}
    assert len(pids) == 2  # new connections reach both workers (as the requests above did)
    assert cache_stats(cached, 0)["idempotency"]["activeKeys"] >= 1


def test_x_request_id_is_a_key_too(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    rid, q, before = unique("rid"), unique(), calls(cache_mocks)
    answers = [chat(cached, q, temperature=0.5, headers={"X-Request-Id": rid}) for _ in range(3)]
    assert [a.headers.get("x-omniroute-idempotent") for a in answers] == [None, "true", "true"]
    assert calls(cache_mocks) == before + 1


def test_a_repeat_mid_flight_waits_and_gets_the_stream(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    key, q, before = unique("key"), unique(), calls(cache_mocks)
    body = {"model": "mock/paced", "messages": [{"role": "user", "content": q}], "stream": True, "temperature": 1}
    out: dict[str, Any] = {}

    def ask(name: str) -> None:
        with httpx.stream("POST", cached.url + "/v1/chat/completions", json=body, timeout=30,
                          headers={"Idempotency-Key": key}) as r:
            out[name] = (r.headers.get("x-omniroute-idempotent"), b"".join(r.iter_bytes()), time.monotonic())

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert cache_mocks["openai"].wait_for(lambda: calls(cache_mocks) > before)  # the first is upstream now…
    time.sleep(0.2)  # …and streaming (about a second long)
    ask("repeat")
    first.join()
    assert out["first"][0] is None and out["repeat"][0] == "true"
    assert stream_text(out["first"][1]) == stream_text(out["repeat"][1]) == "Hello from the mock upstream."
    assert out["repeat"][1].rstrip().endswith(b"data: [DONE]")
    assert out["repeat"][2] >= out["first"][2] - 0.05  # it waited for the first to finish
    assert calls(cache_mocks) == before + 1


def test_the_same_key_with_another_body_is_a_conflict(cached: RunningGateway) -> None:
    key = unique("key")
    assert chat(cached, unique(), temperature=1, headers={"Idempotency-Key": key}).status_code == 200
    clash = chat(cached, unique(), temperature=1, headers={"Idempotency-Key": key})
    assert clash.status_code == 422
    error = clash.json()["error"]
    assert error["code"] == "idempotency_key_conflict" and key in error["message"]
    claude = httpx.post(cached.url + "/v1/messages", headers={"Idempotency-Key": key}, timeout=30, json={
        "model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "something else"}]})
    assert claude.status_code == 422 and claude.json()["type"] == "error"  # Anthropic's dialect
    assert key in claude.json()["error"]["message"]


def test_a_failed_first_frees_the_key(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    key, q, before = unique("key"), unique(), calls(cache_mocks)
    for _ in range(2):
        r = chat(cached, q, model="mock/error-500", headers={"Idempotency-Key": key})
        assert r.status_code == 500 and "x-omniroute-idempotent" not in r.headers
    assert calls(cache_mocks) == before + 2
    cached.api("POST", "/api/resilience/reset")


def test_twenty_identical_requests_share_one_upstream_call(cached: RunningGateway,
                                                           cache_mocks: dict[str, Any]) -> None:
    q, before = unique(), calls(cache_mocks)
    body = {"model": "mock/paced", "messages": [{"role": "user", "content": q}], "stream": True, "temperature": 0}

    def ask(_: int) -> tuple[str, str]:
        with httpx.stream("POST", cached.url + "/v1/chat/completions", json=body, timeout=30) as r:
            return r.headers["x-omniroute-cache"], stream_text(b"".join(r.iter_bytes()))

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(ask, range(20)))
    assert calls(cache_mocks) == before + 1
    assert {text for _h, text in answers} == {"Hello from the mock upstream."}
    assert sorted(h for h, _t in answers) == ["HIT"] * 19 + ["MISS"]
