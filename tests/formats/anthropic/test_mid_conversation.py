"""Anthropic mid-conversation system messages: decoded in place, folded for rows without the beta."""

from __future__ import annotations

import json

from omniroute.canonical import TextBlock
from omniroute.formats import anthropic as fmt

MID_SYSTEM = {"model": "m", "max_tokens": 64, "messages": [
    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
    {"role": "system", "content": "Agents: claude, explore."},
    {"role": "assistant", "content": "Hello."},
    {"role": "system", "content": [{"type": "text", "text": "Now in French."}]},
    {"role": "user", "content": "and now?"},
]}


def test_mid_conversation_system_messages_decode_at_their_position() -> None:
    req = fmt.decode_request(json.dumps(MID_SYSTEM).encode())
    assert [m.role for m in req.messages] == ["user", "system", "assistant", "system", "user"]
    assert req.messages[1].content == [TextBlock("Agents: claude, explore.")] and req.system == []


def test_mid_conversation_system_messages_fold_into_the_user_turn() -> None:
    body = json.loads(fmt.encode_request(fmt.decode_request(json.dumps(MID_SYSTEM).encode()), "m"))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"][1] == {
        "type": "text", "text": "<system-reminder>\nAgents: claude, explore.\n</system-reminder>"}
    assert body["messages"][2]["content"] == [
        {"type": "text", "text": "<system-reminder>\nNow in French.\n</system-reminder>"},
        {"type": "text", "text": "and now?"}]


def test_fold_system_messages_on_raw_bytes_keeps_everything_else() -> None:
    raw = {**MID_SYSTEM, "context_management": {"edits": []}}
    folded = json.loads(fmt.fold_system_messages(json.dumps(raw).encode()))
    assert folded["context_management"] == {"edits": []}
    assert [m["role"] for m in folded["messages"]] == ["user", "assistant", "user"]
    assert folded["messages"][2]["content"][1] == {"type": "text", "text": "and now?"}
