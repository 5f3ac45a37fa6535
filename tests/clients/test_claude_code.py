"""Claude Code (``claude -p``), unmodified, default settings, through a real gateway.

Claude Code 2.1.197 asks for ``claude-opus-4-8`` with ``anthropic-beta`` (``claude-code-…``,
``context-management-2025-06-27``, ``mid-conversation-system-2026-04-07``, …), a
``role: "system"`` turn inside ``messages``, ``thinking: adaptive``, ``context_management``,
``output_config.effort``, ``cache_control`` on blocks and ``max_tokens: 64000``; it streams.
The routes: to an Anthropic upstream (same format: the betas must go along) and to an OpenAI
Chat upstream (translated: only Chat's fields, fitted to ``gpt-4o-mini``), each also through
a tool loop in which Claude Code really runs its ``Read`` tool (allowed without asking).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clients import runner
from tests.clients.runner import Run, Workspace
from tests.clients.seen import (
    NOTES,
    NOTES_TEXT,
    REPLY,
    SECRET,
    Seen,
    call,
    leaked,
    route,
    say,
    tool_calls,
    tool_results,
)
from tests.support.anthropic_upstream import SYSTEM_BETA
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY

MODEL = "claude-opus-4-8"  # Claude Code's default model
ROUTES = {"anthropic": f"anthropic/{MODEL}", "openai": "mock/gpt-4o-mini"}
KEY = "sk-client-claude-0001"  # the client's own key: never sent upstream
OUTPUT_LIMIT = 16384  # gpt-4o-mini's


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.make(tmp_path)


def ask(clis: dict[str, Path], gw: RunningGateway, mocks: dict[str, Any], upstream: str, prompt: str,
        ws: Workspace) -> tuple[Run, Seen]:
    route(gw, MODEL, ROUTES[upstream])
    seen = Seen.watch(mocks[upstream])
    return runner.claude(clis["claude"], gw.url, prompt, ws, KEY), seen


def answered(result: Run, seen: Seen, reply: str = REPLY) -> None:
    assert (result.code, result.out.strip()) == (0, reply), f"{result}\n--- upstream\n{seen.summary()}"


def test_to_anthropic_passes_betas_and_system_turns(clis: dict[str, Path], client_gateway: RunningGateway,
                                                     client_mocks: dict[str, Any], ws: Workspace) -> None:
    result, seen = ask(clis, client_gateway, client_mocks, "anthropic", say(), ws)
    answered(result, seen)
    body, headers = seen.bodies[-1], seen.headers[-1]
    assert body["model"] == MODEL
    assert SYSTEM_BETA in headers.get("anthropic-beta", ""), headers
    assert "context-management-2025-06-27" in headers["anthropic-beta"]
    assert headers.get("anthropic-version") == "2023-06-01"
    assert headers.get("x-api-key") == API_KEY
    assert not leaked(seen.headers, KEY)
    assert [m["role"] for m in body["messages"]][:2] == ["user", "system"]  # the system turn, where it was
    assert body["context_management"]["edits"][0]["type"] == "clear_thinking_20251015"


def test_to_openai_sends_only_chat_fields(clis: dict[str, Path], client_gateway: RunningGateway,
                                          client_mocks: dict[str, Any], ws: Workspace) -> None:
    result, seen = ask(clis, client_gateway, client_mocks, "openai", say(), ws)
    answered(result, seen)
    body, headers = seen.bodies[-1], seen.headers[-1]
    assert body["model"] == "gpt-4o-mini"
    assert headers.get("authorization") == f"Bearer {API_KEY}"
    assert not [k for k in headers if k.startswith("anthropic-")], headers
    assert not leaked(seen.headers, KEY)
    roles = [m["role"] for m in body["messages"]]
    first_user = roles.index("user")
    assert {"system", "developer"} & set(roles[first_user:]), roles  # the mid-conversation system turn
    assert "cache_control" not in json.dumps(body)
    assert "reasoning_effort" not in body  # gpt-4o-mini does not reason
    assert (body.get("max_completion_tokens") or body.get("max_tokens") or 0) <= OUTPUT_LIMIT


@pytest.mark.parametrize("upstream", list(ROUTES))
def test_tool_loop_runs_read(clis: dict[str, Path], client_gateway: RunningGateway, client_mocks: dict[str, Any],
                             ws: Workspace, upstream: str) -> None:
    notes = ws.cwd / NOTES
    notes.write_text(NOTES_TEXT)
    args = {"file_path": str(notes)}
    result, seen = ask(clis, client_gateway, client_mocks, upstream, call("Read", args), ws)
    answered(result, seen)
    assert len(seen.bodies) == 2, seen.summary()
    final = seen.bodies[1]
    assert tool_calls(upstream, final) == [("Read", args)]
    assert SECRET in "".join(tool_results(upstream, final)), final["messages"][-1]
