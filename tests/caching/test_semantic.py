"""The semantic cache with the real all-MiniLM-L6-v2 model, through a real 2-worker gateway
configured by its config file's ``[cache]``: a paraphrase hits, a different question or a
different conversation does not, and the index is rebuilt from LMDB when its file is deleted
or corrupt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.caching.conftest import cache_stats, chat
from tests.support.gateway import RunningGateway

CONFIG = """
[cache.semantic]
enabled = true
threshold = 0.9

[cache.exact]
ttl_s = 600
"""
QUESTION = "What is the capital of France?"
PARAPHRASE = "what's France's capital city?"
OTHER = "What is the capital of Germany?"


def start(data: Path, mocks: dict[str, Any], first: bool) -> RunningGateway:
    config = data / "omniroute.toml"
    config.write_text(CONFIG)
    gw = RunningGateway(data / "state", "--workers", "2", "--config", str(config))
    if first:
        gw.add_openai_upstream(mocks["openai"].base_url)
    return gw


@pytest.fixture(scope="module")
def semantic(tmp_path_factory: pytest.TempPathFactory, cache_mocks: dict[str, Any]) -> Iterator[tuple[RunningGateway,
                                                                                                        Path]]:
    data = tmp_path_factory.mktemp("semantic")
    gw = start(data, cache_mocks, first=True)
    yield gw, data
    gw.stop()


def calls(mocks: dict[str, Any]) -> int:
    return len(mocks["openai"].requests)


def ask(gw: RunningGateway, text: str, system: str | None = None) -> Any:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return chat(gw, "", messages=messages)


def test_config_file_enabled_it(semantic: tuple[RunningGateway, Path]) -> None:
    gw, _data = semantic
    config = gw.api("GET", "/api/cache/config").json()
    assert config["semantic"] == {"enabled": True, "threshold": 0.9, "embedder": "local", "maxEntries": 100000}
    assert config["exact"]["ttlS"] == 600
    assert gw.api("GET", "/api/cache").json()["semanticCache"]["available"] is True


def test_a_paraphrase_hits_and_another_question_misses(semantic: tuple[RunningGateway, Path],
                                                       cache_mocks: dict[str, Any]) -> None:
    gw, _data = semantic
    before = calls(cache_mocks)
    first = ask(gw, QUESTION)
    assert first.status_code == 200 and first.headers["x-omniroute-cache"] == "MISS"
    for _ in range(3):  # whichever worker answers: the one that stored it, or the other catching up
        hit = ask(gw, PARAPHRASE)
        assert hit.status_code == 200 and hit.headers["x-omniroute-cache"] == "HIT"
        match, similarity = hit.headers["x-omniroute-cache-match"].split("; similarity=")
        assert match == "semantic" and 0.9 <= float(similarity) < 1
        assert hit.json()["choices"][0]["message"]["content"] == first.json()["choices"][0]["message"]["content"]
    assert calls(cache_mocks) == before + 1
    other = ask(gw, OTHER)
    assert other.headers["x-omniroute-cache"] == "MISS"
    assert calls(cache_mocks) == before + 2
    stats = cache_stats(gw)["semanticCache"]
    assert stats["dbSize"] >= 2 and stats["hits"] >= 3 and stats["hitRate"] > 0


def test_the_exact_part_must_match(semantic: tuple[RunningGateway, Path], cache_mocks: dict[str, Any]) -> None:
    gw, _data = semantic
    ask(gw, QUESTION)
    before = calls(cache_mocks)
    other = ask(gw, PARAPHRASE, system="Answer in French.")  # another conversation: not a near-duplicate
    assert other.headers["x-omniroute-cache"] == "MISS"
    assert calls(cache_mocks) == before + 1


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_the_index_is_rebuilt_from_lmdb(damage: str, semantic: tuple[RunningGateway, Path],
                                        cache_mocks: dict[str, Any]) -> None:
    gw, data = semantic
    ask(gw, QUESTION)  # stored (or already there)
    gw.stop()  # each worker saves its copy at shutdown
    index = data / "state" / "cache" / "semantic.hnsw"
    assert index.exists()
    if damage == "delete":
        index.unlink()
    else:
        index.write_bytes(b"\0garbage" * 1000)
    again = start(data, cache_mocks, first=False)
    try:
        before = calls(cache_mocks)
        hit = ask(again, PARAPHRASE)
        assert hit.headers["x-omniroute-cache"] == "HIT", hit.headers
        assert hit.headers["x-omniroute-cache-match"].startswith("semantic")
        assert calls(cache_mocks) == before
        states = {httpx.get(again.url + "/api/cache").json()["semanticCache"]["index"] for _ in range(16)}
        assert "rebuilt" in states and "loaded" not in states  # the worker that answered rebuilt its copy
    finally:
        again.stop()
        semantic_restart = start(data, cache_mocks, first=False)
        gw.__dict__.update(semantic_restart.__dict__)  # the module's gateway lives on


def test_a_connected_embedding_model_embeds(tmp_path: Path, cache_mocks: dict[str, Any]) -> None:
    """``"embedder": "provider/model"``: the gateway asks the model through its own upstream
    client (the mock embeds a bag of words: the same words in another order are identical)."""
    mock = cache_mocks["openai"]
    gw = RunningGateway(tmp_path, "--workers", "2")
    try:
        gw.add_openai_upstream(mock.base_url)
        config = {"semantic": {"enabled": True, "embedder": "mock/text-embed", "threshold": 0.99}}
        assert gw.api("PUT", "/api/cache/config", config).json()["semantic"]["embedder"] == "mock/text-embed"
        embedded = sum(p.endswith("/embeddings") for p in mock.paths)
        chats = sum(p.endswith("/chat/completions") for p in mock.paths)
        assert ask(gw, "What is the capital of Spain?").headers["x-omniroute-cache"] == "MISS"
        hits = [ask(gw, "the capital of Spain is what?") for _ in range(3)]
        assert {h.headers["x-omniroute-cache-match"] for h in hits} == {"semantic; similarity=1.000"}
        assert ask(gw, "What is the capital of Portugal?").headers["x-omniroute-cache"] == "MISS"
        assert sum(p.endswith("/chat/completions") for p in mock.paths) == chats + 2
        assert sum(p.endswith("/embeddings") for p in mock.paths) >= embedded + 5
        stats = gw.api("GET", "/api/cache").json()["semanticCache"]
        assert (stats["available"], stats["embedder"]) == (True, "mock/text-embed")
    finally:
        gw.stop()
