"""One media mock (``tests.support.media_upstream``) and one real gateway connected to it
through the built-in rows, each row's ``baseUrl`` pointing at the mock with the row's own
path (``/openai/v1``, ``/inference/v1`` …)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.support.gateway import RunningGateway
from tests.support.media_upstream import KEY, MediaUpstream

#: row → the path its connection's baseUrl has on the mock
ROW_PATHS = {
    "openai": "/openai/v1", "mistral": "/mistral/v1", "together": "/together/v1", "fireworks": "/inference/v1",
    "nebius": "/nebius/v1", "nvidia": "/nvidia/v1", "gemini": "/v1beta", "ollama": "", "xai": "/xai/v1",
    "groq": "/openai/v1", "deepgram": "", "assemblyai": "",
}
FLAGS = ("--transcription-poll-interval", "0.05", "--transcription-wait", "1.5", "--max-audio-bytes", "3000000",
         "--first-byte-timeout", "5", "--connect-timeout", "1")


@pytest.fixture(scope="session")
def media() -> Iterator[MediaUpstream]:
    server = MediaUpstream().start()
    yield server
    server.stop()


def connect_rows(gw: RunningGateway, media: MediaUpstream) -> None:
    for row, path in ROW_PATHS.items():
        resp = gw.api("POST", "/api/providers", {"provider": row, "apiKey": KEY, "name": f"{row}-mock",
                                                 "baseUrl": media.url(path) if path else media.origin})
        assert resp.status_code == 201, resp.text


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, media: MediaUpstream) -> Iterator[RunningGateway]:
    log = tmp_path_factory.mktemp("hooklog") / "hooks.jsonl"
    gateway = RunningGateway(tmp_path_factory.mktemp("gw-media"), *FLAGS, "--hooks", "tests.support.hooks:recorder",
                             env={"HOOK_LOG": str(log)})
    gateway.hook_log = log  # type: ignore[attr-defined]
    connect_rows(gateway, media)
    yield gateway
    gateway.stop()


@pytest.fixture
def client(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-test", max_retries=0, timeout=20)


def hook_records(gw: RunningGateway) -> list[dict]:
    import json
    import time

    path: Path = gw.hook_log  # type: ignore[attr-defined]
    time.sleep(0.2)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
