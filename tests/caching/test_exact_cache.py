"""The exact cache through a real 2-worker gateway: HIT/MISS/BYPASS and the mock's call counts,
streams replayed to each official SDK, answers shared across client formats, what is never
kept (errors, broken streams, filtered answers), per-combo TTL, clearing, and a hit that needs
no upstream at all."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.caching.conftest import MODEL, cache_stats, chat, unique
from tests.caching.sdk_askers import ASKERS
from tests.support.gateway import RunningGateway

TEXT = "Hello from the mock upstream."


def calls(mocks: dict[str, Any]) -> int:
    return len(mocks["openai"].requests)


def test_miss_then_hit_across_workers_and_bypass(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q, before = unique(), calls(cache_mocks)
    first = chat(cached, q)
    assert first.status_code == 200 and first.headers["x-omniroute-cache"] == "MISS"
    hits = [chat(cached, q) for _ in range(6)]  # new connections: both workers answer some
    assert {(r.status_code, r.headers["x-omniroute-cache"], r.headers["x-omniroute-cache-match"]) for r in hits} == {
        (200, "HIT", "exact")}
    assert all(r.json()["choices"][0]["message"]["content"] == TEXT for r in hits)
    assert hits[0].json()["model"] == MODEL
    assert calls(cache_mocks) == before + 1
    warm = chat(cached, q, temperature=0.7)  # not deterministic: not looked up, not kept
    assert warm.headers["x-omniroute-cache"] == "BYPASS"
    unset = chat(cached, q, temperature=None)
    assert unset.headers["x-omniroute-cache"] == "BYPASS"
    assert calls(cache_mocks) == before + 3


def test_no_cache_header_neither_reads_nor_writes(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q, before = unique(), calls(cache_mocks)
    skip = {"X-OmniRoute-No-Cache": "true"}
    assert chat(cached, q, headers=skip).headers["x-omniroute-cache"] == "BYPASS"
    assert chat(cached, q).headers["x-omniroute-cache"] == "MISS"  # the bypass kept nothing
    assert chat(cached, q, headers=skip).headers["x-omniroute-cache"] == "BYPASS"  # and reads nothing
    assert calls(cache_mocks) == before + 3
    assert chat(cached, q).headers["x-omniroute-cache"] == "HIT"


def test_several_choices_are_not_cached(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q = unique()
    assert chat(cached, q, n=2).headers["x-omniroute-cache"] == "BYPASS"


@pytest.mark.parametrize("first", list(ASKERS))
def test_an_answer_serves_every_format_and_streams_replay(first: str, cached: RunningGateway,
                                                          cache_mocks: dict[str, Any]) -> None:
    """Asked once by ``first`` (not streamed), then by every SDK, streamed and not: one
    upstream call, and every SDK's parser takes the replayed stream, usage included."""
    q, before = unique("Cross-format question"), calls(cache_mocks)
    assert ASKERS[first](cached.url, MODEL, q, False, None) == (TEXT, (12, 6))
    for name, ask in ASKERS.items():
        for stream in (False, True):
            assert ask(cached.url, MODEL, q, stream, None) == (TEXT, (12, 6)), (name, stream)
    assert calls(cache_mocks) == before + 1


def test_a_streamed_answer_is_kept_and_served_as_json(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q, before = unique(), calls(cache_mocks)
    body = {"model": MODEL, "messages": [{"role": "user", "content": q}], "temperature": 0, "stream": True}
    with httpx.stream("POST", cached.url + "/v1/chat/completions", json=body, timeout=30) as r:
        assert r.headers["x-omniroute-cache"] == "MISS"
        raw = b"".join(r.iter_bytes())
    assert raw.rstrip().endswith(b"data: [DONE]")
    with httpx.stream("POST", cached.url + "/v1/chat/completions", json=body, timeout=30) as r:
        assert r.headers["x-omniroute-cache"] == "HIT" and r.headers["content-type"] == "text/event-stream"
        replayed = b"".join(r.iter_bytes())
    assert replayed.startswith(b"data: {") and replayed.rstrip().endswith(b"data: [DONE]")
    answer = chat(cached, q)
    assert answer.headers["x-omniroute-cache"] == "HIT" and answer.json()["choices"][0]["message"]["content"] == TEXT
    assert calls(cache_mocks) == before + 1


@pytest.mark.parametrize("model", ["mock/error-500", "mock/error-400"])
def test_errors_are_not_cached(model: str, cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q, before = unique(), calls(cache_mocks)
    statuses = [chat(cached, q, model=model) for _ in range(2)]
    assert [(r.status_code, r.headers["x-omniroute-cache"]) for r in statuses] == [
        (int(model[-3:]), "MISS"), (int(model[-3:]), "MISS")]
    assert calls(cache_mocks) == before + 2
    cached.api("POST", "/api/resilience/reset")


@pytest.mark.parametrize("model", ["mock/drop", "mock/overload", "mock/nodone"])
def test_broken_streams_are_not_cached(model: str, cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q, before = unique(), calls(cache_mocks)
    body = {"model": model, "messages": [{"role": "user", "content": q}], "temperature": 0, "stream": True}
    for _ in range(2):
        with httpx.stream("POST", cached.url + "/v1/chat/completions", json=body, timeout=30) as r:
            assert r.headers["x-omniroute-cache"] == "MISS"
            assert b'"error"' in b"".join(r.iter_bytes())
    assert calls(cache_mocks) == before + 2
    cached.api("POST", "/api/resilience/reset")


def test_a_client_that_leaves_mid_stream_leaves_nothing(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q = unique()
    body = {"model": "mock/paced", "messages": [{"role": "user", "content": q}], "temperature": 0, "stream": True}
    with httpx.stream("POST", cached.url + "/v1/chat/completions", json=body, timeout=30) as r:
        next(r.iter_bytes())
    time.sleep(1.5)  # the upstream stream would have ended by now
    assert chat(cached, q, model="mock/paced").headers["x-omniroute-cache"] == "MISS"


def test_combo_overrides_ttl_and_determinism(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    combo = {"name": "brief-cache", "models": [MODEL],
             "config": {"cache": {"exact": {"ttlS": 1, "onlyDeterministic": False}}}}
    assert cached.api("POST", "/api/combos", combo).status_code == 201
    q, before = unique(), calls(cache_mocks)
    assert chat(cached, q, model="brief-cache", temperature=0.9).headers["x-omniroute-cache"] == "MISS"
    assert chat(cached, q, model="brief-cache", temperature=0.9).headers["x-omniroute-cache"] == "HIT"
    time.sleep(1.3)
    assert chat(cached, q, model="brief-cache", temperature=0.9).headers["x-omniroute-cache"] == "MISS"
    assert calls(cache_mocks) == before + 2
    # the combo's key is its own: the model it serves has its own entries
    assert chat(cached, q, model=MODEL, temperature=0).headers["x-omniroute-cache"] == "MISS"


def test_a_bad_combo_cache_config_is_refused(cached: RunningGateway) -> None:
    combo = {"name": "bad-cache", "models": [MODEL], "config": {"cache": {"semantic": {"threshold": 2}}}}
    r = cached.api("POST", "/api/combos", combo)
    assert r.status_code == 400 and "cache.semantic.threshold" in r.json()["error"]["message"]


def test_a_hit_needs_no_upstream(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q = unique()
    assert chat(cached, q).headers["x-omniroute-cache"] == "MISS"
    conns = cached.api("GET", "/api/providers").json()["connections"]
    conn = next(c for c in conns if c["name"] == "mock-conn")
    dead = "http://127.0.0.1:9/v1"
    assert cached.api("PUT", f"/api/providers/{conn['id']}", {"baseUrl": dead}).status_code == 200
    try:
        hits = [chat(cached, q) for _ in range(4)]
        assert {(r.status_code, r.headers["x-omniroute-cache"]) for r in hits} == {(200, "HIT")}
        assert chat(cached, unique()).status_code == 502  # the upstream is gone indeed
    finally:
        cached.api("PUT", f"/api/providers/{conn['id']}", {"baseUrl": cache_mocks["openai"].base_url})
        cached.api("POST", "/api/resilience/reset")


def test_stats_count_hits_and_misses_of_every_worker(cached: RunningGateway) -> None:
    # other tests leave 1-second entries whose sweep would offset the count: start empty
    assert cached.api("DELETE", "/api/cache").status_code == 200
    before = cache_stats(cached)["exact"]
    q = unique()
    chat(cached, q)
    for _ in range(5):
        chat(cached, q)
    after = cache_stats(cached)["exact"]
    assert (after["hits"] - before["hits"], after["misses"] - before["misses"]) == (5, 1)
    assert after["entries"] == before["entries"] + 1 and after["bytes"] > before["bytes"]
    assert 0 < after["hitRate"] <= 1


def test_delete_clears_every_worker(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    q = unique()
    chat(cached, q)
    assert {chat(cached, q).headers["x-omniroute-cache"] for _ in range(6)} == {"HIT"}  # in both workers' memory
    cleared = cached.api("DELETE", "/api/cache")
    assert cleared.status_code == 200 and cleared.json()["exact"]["entries"] == 0
    before = calls(cache_mocks)
    assert chat(cached, q).headers["x-omniroute-cache"] == "MISS"
    assert calls(cache_mocks) == before + 1


def test_eviction_at_the_entries_bound(cached: RunningGateway, cache_mocks: dict[str, Any]) -> None:
    """Runs last in this module: it lowers the global bound (and keeps answers out of the
    workers' memory, so LMDB alone answers), then puts both back."""
    small = {"exact": {"maxEntries": 2, "memoryEntries": 0}}
    assert cached.api("PUT", "/api/cache/config", small).json()["exact"]["maxEntries"] == 2
    try:
        first, second, third = unique(), unique(), unique()
        for q in (first, second, third):
            assert chat(cached, q).headers["x-omniroute-cache"] == "MISS"
        assert cache_stats(cached)["exact"]["entries"] == 2
        before = calls(cache_mocks)
        assert [chat(cached, q).headers["x-omniroute-cache"] for q in (third, second)] == ["HIT", "HIT"]
        assert chat(cached, first).headers["x-omniroute-cache"] == "MISS"  # the least recently used went
        assert calls(cache_mocks) == before + 1
    finally:
        cached.api("PUT", "/api/cache/config", {"exact": {"maxEntries": 10000, "memoryEntries": 1000}})
