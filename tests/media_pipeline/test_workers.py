"""Media requests over two Granian workers sharing one data directory: every worker serves
every endpoint with the same connections, and a key's rpm holds across both."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.media_pipeline.conftest import FLAGS, connect_rows
from tests.support import audio_files
from tests.support.accounts import fresh_window
from tests.support.gateway import RunningGateway
from tests.support.media_upstream import TRANSCRIPT, MediaUpstream


@pytest.fixture(scope="module")
def gw2(tmp_path_factory: pytest.TempPathFactory, media: MediaUpstream) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("gw-media-2"), *FLAGS, "--workers", "2")
    connect_rows(gateway, media)
    yield gateway
    gateway.stop()


def _one(gw: RunningGateway, i: int, headers: dict[str, str] | None = None) -> tuple[int, str]:
    with httpx.Client(base_url=gw.url, timeout=20, headers=headers or {}) as http:  # a new connection each time
        kind = i % 3
        if kind == 0:
            resp = http.post("/v1/embeddings", json={"model": "gemini/gemini-embedding-001", "input": ["a", "b"]})
            return resp.status_code, str(len(resp.json().get("data", [])))
        if kind == 1:
            resp = http.post("/v1/images/generations", json={"model": "xai/grok-2-image", "prompt": "x"})
            return resp.status_code, str(len(resp.json().get("data", [])))
        resp = http.post("/v1/audio/transcriptions", files={"file": ("a.wav", audio_files.wav(0.5))},
                         data={"model": "deepgram/nova-3"})
        return resp.status_code, resp.json().get("text", "")


def test_both_workers_serve_every_endpoint(gw2: RunningGateway) -> None:
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: _one(gw2, i), range(24)))
    assert results == [(200, "2"), (200, "1"), (200, TRANSCRIPT)] * 8


def test_key_rpm_holds_across_workers(gw2: RunningGateway) -> None:
    fresh_window()
    key = gw2.api("POST", "/api/keys", {"name": "two-workers", "rpm": 4}).json()["key"]
    with ThreadPoolExecutor(4) as pool:
        statuses = [s for s, _ in pool.map(lambda i: _one(gw2, i, {"Authorization": f"Bearer {key}"}), range(9))]
    assert statuses.count(200) == 4 and statuses.count(429) == 5, statuses
