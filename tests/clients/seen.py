"""What a mock upstream received while one CLI ran, and the prompts that script its answers.

The mocks answer ``mock-reply <text>`` with that text and ``mock-call <tool> <json>`` with a
call of that tool until a tool result comes back (``tests.support.mock_server``), so a prompt
decides what the real CLI sees and does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.gateway import RunningGateway
from tests.support.mock_server import CALL_TAG, REPLY_TAG, MockServer

REPLY = "Pong from the mock upstream."
SECRET = "omr-secret-7731"
NOTES = "notes.txt"
NOTES_TEXT = f"The secret word is {SECRET}.\n"


def say(reply: str = REPLY) -> str:
    return f"Answer as told. {REPLY_TAG} {reply}"


def call(tool: str, args: dict[str, Any], reply: str = REPLY) -> str:
    return f"Use the tool. {CALL_TAG} {tool} {json.dumps(args)} {REPLY_TAG} {reply}"


def route(gw: RunningGateway, alias: str, target: str) -> None:
    """Send the CLI's default model ``alias`` to ``target`` (every worker sees it at once)."""
    resp = gw.api("POST", "/api/models/alias", {"alias": alias, "model": target})
    assert resp.status_code == 201, resp.text


@dataclass
class Seen:
    """The requests a mock got from ``start`` on."""

    mock: MockServer
    start: int

    @classmethod
    def watch(cls, mock: MockServer) -> Seen:
        return cls(mock, len(mock.requests))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return self.mock.requests[self.start:]

    @property
    def headers(self) -> list[dict[str, str]]:
        return [{k.lower(): v for k, v in h.items()} for h in self.mock.headers[self.start:]]

    def summary(self) -> str:
        return f"{len(self.bodies)} request(s): " + "; ".join(
            f"{sorted(b)} {json.dumps(b)[:300]}" for b in self.bodies)


def leaked(headers: list[dict[str, str]], client_key: str) -> list[str]:
    """Headers of any request that carry the client's own key (it must never go upstream)."""
    return [f"{k}: {v}" for h in headers for k, v in h.items() if client_key in v]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def tool_results(upstream: str, body: dict[str, Any]) -> list[str]:
    """The text of every tool result in an upstream request body (by the upstream's format)."""
    if upstream == "anthropic":
        return [_text(b.get("content")) for m in body["messages"] if isinstance(m["content"], list)
                for b in m["content"] if b.get("type") == "tool_result"]
    if upstream == "openai":
        return [_text(m.get("content")) for m in body["messages"] if m["role"] == "tool"]
    return [_text(i.get("output")) for i in body["input"] if i.get("type") == "function_call_output"]


def tool_calls(upstream: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, arguments) of every tool call in the assistant turns an upstream got back."""
    if upstream == "anthropic":
        return [(b["name"], b["input"]) for m in body["messages"] if m["role"] == "assistant"
                and isinstance(m["content"], list) for b in m["content"] if b.get("type") == "tool_use"]
    if upstream == "openai":
        return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for m in body["messages"]
                for c in m.get("tool_calls") or []]
    return [(i["name"], json.loads(i["arguments"])) for i in body["input"] if i.get("type") == "function_call"]
