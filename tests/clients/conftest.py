"""Fixtures of the real-client tests: the pinned CLIs, the strict mock upstreams, and one real
gateway (two workers) whose connections point at them.

Connections: ``anthropic`` (Anthropic mock), ``mock/…`` (OpenAI Chat mock, a custom node) and
``responses/…`` (Responses mock). Which upstream a CLI's default model reaches is an alias,
set by each test (``seen.route``): the CLIs keep their default model names.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.runner import PINS, PREFIX, install, locate
from tests.support.anthropic_upstream import AnthropicUpstream
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY
from tests.support.openai_upstream import OpenAIUpstream
from tests.support.responses_upstream import ResponsesUpstream


@pytest.fixture(scope="session")
def clis() -> dict[str, Path]:
    """name → the pinned binary; installed under ``.clients`` once when missing."""
    found = {name: locate(name) for name in PINS}
    if None in found.values():
        if shutil.which("npm") is None:
            pytest.skip(f"claude/codex at the pinned versions are neither on PATH nor in {PREFIX}, and npm is "
                        "absent to install them")
        install()
        found = {name: locate(name) for name in PINS}
    missing = [name for name, path in found.items() if path is None]
    assert not missing, f"{missing} still not runnable after npm install into {PREFIX}"
    return {name: path for name, path in found.items() if path is not None}


@pytest.fixture(scope="session")
def client_mocks() -> Iterator[dict[str, Any]]:
    servers: dict[str, Any] = {"anthropic": AnthropicUpstream().start(), "openai": OpenAIUpstream().start(),
                               "responses": ResponsesUpstream().start()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def client_gateway(tmp_path_factory: pytest.TempPathFactory,
                   client_mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gw = RunningGateway(tmp_path_factory.mktemp("clients-gw"), "--workers", "2")
    gw.add_openai_upstream(client_mocks["openai"].base_url, prefix="mock", api_key=API_KEY)
    for provider, name in (("anthropic", "anthropic"), ("openai-responses", "responses")):
        conn = gw.api("POST", "/api/providers", {"provider": provider, "apiKey": API_KEY,
                                                 "baseUrl": client_mocks[name].base_url})
        assert conn.status_code == 201, conn.text
    yield gw
    log = gw.stop()
    print(f"--- gateway output\n{log[-6000:]}")
