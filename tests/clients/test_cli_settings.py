"""Claude Code and Codex, unmodified, configured by the gateway itself
(``POST /api/cli-tools/{claude,codex}-settings``) and nothing else: no ``ANTHROPIC_*`` or key
variables in their environment, only the files the gateway wrote under their ``HOME``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients import runner
from tests.clients.runner import Workspace
from tests.clients.seen import REPLY, Seen, route, say
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.make(tmp_path)


@pytest.fixture
def gw(tmp_path_factory: pytest.TempPathFactory, ws: Workspace, client_mocks: dict[str, Any]
       ) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("cli-settings-gw"), env={"HOME": str(ws.home)})
    try:
        for provider, name in (("anthropic", "anthropic"), ("openai-responses", "responses")):
            conn = gateway.api("POST", "/api/providers", {"provider": provider, "apiKey": API_KEY,
                                                          "baseUrl": client_mocks[name].base_url})
            assert conn.status_code == 201, conn.text
        yield gateway
    finally:
        gateway.stop()


def test_claude_code_with_the_written_settings(clis: dict[str, Path], gw: RunningGateway,
                                               client_mocks: dict[str, Any], ws: Workspace) -> None:
    written = gw.api("POST", "/api/cli-tools/claude-settings", {"apiKey": "sk-client-claude-0001"})
    assert written.status_code == 200, written.text
    route(gw, "claude-opus-4-8", "anthropic/claude-opus-4-8")
    seen = Seen.watch(client_mocks["anthropic"])
    result = runner.run([str(clis["claude"]), "-p", say()], ws.home, ws.cwd,
                        {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
    assert (result.code, result.out.strip()) == (0, REPLY), f"{result}\n{seen.summary()}"
    assert seen.bodies and seen.headers[-1]["x-api-key"] == API_KEY


def test_codex_with_the_written_config(clis: dict[str, Path], gw: RunningGateway,
                                       client_mocks: dict[str, Any], ws: Workspace) -> None:
    written = gw.api("POST", "/api/cli-tools/codex-settings", {"apiKey": "sk-client-codex-0001", "model": "gpt-5"})
    assert written.status_code == 200, written.text
    route(gw, "gpt-5", "responses/gpt-5")
    seen = Seen.watch(client_mocks["responses"])
    result = runner.run([str(clis["codex"]), "exec", "--skip-git-repo-check", say()], ws.home, ws.cwd, {})
    assert (result.code, result.out.strip()) == (0, REPLY), f"{result}\n{seen.summary()}"
    assert seen.bodies and seen.bodies[-1]["model"] == "gpt-5"
