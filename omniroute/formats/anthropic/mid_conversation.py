"""Mid-conversation system messages (``role: "system"`` inside ``messages``) for rows without the beta.

Claude Code sends them under the ``MID_CONVERSATION_BETA`` beta. A same-format request is
relayed as bytes with the client's ``anthropic-beta`` header, so it keeps the role where the
row takes it (``ProviderSpec.mid_conversation_system``); for rows that do not,
``fold_system_messages`` folds each into the following user turn as a ``<system-reminder>``
text block on the raw body — the fold ``request.encode_messages`` does when translating.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import Message, TextBlock, system_reminder
from omniroute.formats.anthropic.content import encode_block
from omniroute.formats.anthropic.wire import json_encode

#: the beta that lets ``messages`` hold ``role: "system"`` (Claude Code sends it)
MID_CONVERSATION_BETA = "mid-conversation-system-2026-04-07"
_body_decoder = msgspec.json.Decoder(dict[str, Any])


def fold_system_messages(body: bytes) -> bytes:
    """A client body with its ``role: "system"`` messages folded into user turns, for an
    Anthropic-format row that does not take the mid-conversation beta (the body otherwise
    goes upstream as the client wrote it)."""
    top = _body_decoder.decode(body)
    messages: list[dict[str, Any]] = []
    for m in top["messages"]:
        role, blocks = m["role"], _wire_blocks(m["content"])
        if role == "system":
            text = "".join(b.get("text", "") for b in blocks)
            role, blocks = "user", [encode_block(system_reminder(Message("system", [TextBlock(text)])), "")]
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({**m, "role": role, "content": blocks})
    top["messages"] = messages
    return json_encode(top)


def _wire_blocks(content: str | list[Any]) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
