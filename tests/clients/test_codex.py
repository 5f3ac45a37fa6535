"""Codex (``codex exec``), unmodified, through a real gateway, as a provider entry with
``wire_api = "responses"``.

Codex 0.171.0 asks for ``gpt-5`` on ``POST /v1/responses``, streaming, with ``developer``
messages for its instructions, ``store: false``, ``include: ["reasoning.encrypted_content"]``,
``reasoning.summary``, ``prompt_cache_key``, ``client_metadata``, function tools plus a
``namespace`` tool and ``web_search``, and ``x-codex-*``/``session-id`` headers. The routes: to
a Responses upstream (same format) and to an Anthropic upstream (translated: only the Messages
API's fields), each also through a tool loop in which Codex really runs ``exec_command``
(``cat``, allowed by its default read-only sandbox without asking).
"""

from __future__ import annotations

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
from tests.support.anthropic_upstream import FIELDS as ANTHROPIC_FIELDS
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY

MODEL = "gpt-5"  # set in the Codex config
ROUTES = {"responses": f"responses/{MODEL}", "anthropic": "anthropic/claude-sonnet-4-5"}
KEY = "sk-client-codex-0001"  # the client's own key: never sent upstream


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.make(tmp_path)


def ask(clis: dict[str, Path], gw: RunningGateway, mocks: dict[str, Any], upstream: str, prompt: str,
        ws: Workspace) -> tuple[Run, Seen]:
    route(gw, MODEL, ROUTES[upstream])
    seen = Seen.watch(mocks[upstream])
    return runner.codex(clis["codex"], gw.url, prompt, ws, KEY), seen


def answered(result: Run, seen: Seen, reply: str = REPLY) -> None:
    assert (result.code, result.out.strip()) == (0, reply), f"{result}\n--- upstream\n{seen.summary()}"


def test_to_responses(clis: dict[str, Path], client_gateway: RunningGateway, client_mocks: dict[str, Any],
                      ws: Workspace) -> None:
    result, seen = ask(clis, client_gateway, client_mocks, "responses", say(), ws)
    answered(result, seen)
    body, headers = seen.bodies[-1], seen.headers[-1]
    assert body["model"] == MODEL and body["stream"] is True
    assert body["store"] is False and "reasoning.encrypted_content" in body["include"]
    assert headers.get("authorization") == f"Bearer {API_KEY}"
    assert not leaked(seen.headers, KEY)


def test_to_anthropic_sends_only_messages_fields(clis: dict[str, Path], client_gateway: RunningGateway,
                                                 client_mocks: dict[str, Any], ws: Workspace) -> None:
    result, seen = ask(clis, client_gateway, client_mocks, "anthropic", say(), ws)
    answered(result, seen)
    body, headers = seen.bodies[-1], seen.headers[-1]
    assert body["model"] == "claude-sonnet-4-5"
    assert set(body) <= ANTHROPIC_FIELDS, set(body) - ANTHROPIC_FIELDS
    assert headers.get("x-api-key") == API_KEY and headers.get("anthropic-version")
    assert "authorization" not in headers and not leaked(seen.headers, KEY)
    system = body["system"] if isinstance(body["system"], str) else "".join(b["text"] for b in body["system"])
    assert "Codex CLI" in system  # the developer messages became the system prompt
    assert {m["role"] for m in body["messages"]} <= {"user", "assistant"}


@pytest.mark.parametrize("upstream", list(ROUTES))
def test_tool_loop_runs_exec_command(clis: dict[str, Path], client_gateway: RunningGateway,
                                     client_mocks: dict[str, Any], ws: Workspace, upstream: str) -> None:
    (ws.cwd / NOTES).write_text(NOTES_TEXT)
    args = {"cmd": f"cat {NOTES}"}
    result, seen = ask(clis, client_gateway, client_mocks, upstream, call("exec_command", args), ws)
    answered(result, seen)
    assert len(seen.bodies) == 2, seen.summary()
    final = seen.bodies[1]
    assert tool_calls(upstream, final) == [("exec_command", args)]
    assert SECRET in "".join(tool_results(upstream, final))
