"""Fixtures of the cache tests: the five strict mocks and a real 2-worker gateway wired to them
(``tests.support.fleet``), and helpers to ask it directly over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fleet import connect, start_mocks, stop_mocks
from tests.support.gateway import RunningGateway

MODEL = "mock/gpt-4o-mini"


@pytest.fixture(scope="session")
def cache_mocks() -> Iterator[dict[str, Any]]:
    servers = start_mocks()
    yield servers
    stop_mocks(servers)


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory, cache_mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    """A 2-worker gateway with the default cache settings, connected to every mock."""
    gw = RunningGateway(tmp_path_factory.mktemp("cache-gw"), "--workers", "2", "--first-byte-timeout", "5",
                        "--stream-idle-timeout", "5")
    try:
        connect(gw, cache_mocks)
    except BaseException:
        gw.stop()
        raise
    yield gw
    gw.stop()


def unique(text: str = "Say hello") -> str:
    """A prompt no other test sends (the cache is shared by every test on a gateway)."""
    return f"{text} [{uuid.uuid4().hex[:8]}]"


def chat(gw: RunningGateway, content: str, model: str = MODEL, temperature: float | None = 0,
         headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    if temperature is not None:
        body["temperature"] = temperature
    return httpx.post(gw.url + "/v1/chat/completions", json=body, headers=headers or {}, timeout=60)


def cache_stats(gw: RunningGateway, settle: float = 1.2) -> dict[str, Any]:
    """``GET /api/cache`` once every worker has added its counts (they flush about once a second)."""
    time.sleep(settle)
    return gw.api("GET", "/api/cache").json()
