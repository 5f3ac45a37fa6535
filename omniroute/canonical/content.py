"""Content blocks: the tagged union every message is made of.

The canonical form is a *superset* of the five wire formats, so each block keeps what any
format needs to round-trip (signatures, ids, cache hints). Tag field: ``type``.

====================  =====================================================================
block                 what it carries / which formats have it
====================  =====================================================================
``text``              plain text; ``cache_control`` (Anthropic cache hint) preserved
``image``             ``url`` *or* ``data`` (base64) + ``media_type``; all formats but
                      Ollama URLs (Ollama takes base64 only)
``document``          ``data``/``url`` + ``media_type`` (PDF...), Anthropic/Gemini/Responses
``thinking``          reasoning text + ``signature`` (Anthropic signature, Gemini thought
                      signature, Responses ``encrypted_content``); ``id`` = Responses item id
``redacted_thinking`` opaque ``data`` (Anthropic redacted thinking)
``tool_call``         ``id``, ``name``, ``arguments`` as the raw JSON *string* (never parsed
                      and re-serialised on the way through); ``signature`` = Gemini thought
                      signature attached to a functionCall
``tool_result``       ``tool_call_id``, ``content`` (blocks), ``is_error``, ``name`` (Gemini
                      and Ollama address results by function name)
``unknown``           a block type we do not know: ``raw`` payload kept, counted, dropped or
                      passed through by policy (never an exception)
====================  =====================================================================
"""

from __future__ import annotations

from typing import Any

import msgspec


class TextBlock(msgspec.Struct, tag="text", omit_defaults=True):
    text: str
    cache_control: dict[str, Any] | None = None


class ImageBlock(msgspec.Struct, tag="image", omit_defaults=True):
    media_type: str | None = None
    data: str | None = None  # base64, no data: prefix
    url: str | None = None
    detail: str | None = None  # OpenAI "detail" hint


class DocumentBlock(msgspec.Struct, tag="document", omit_defaults=True):
    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    title: str | None = None
    text: str | None = None  # plain-text document source


class ThinkingBlock(msgspec.Struct, tag="thinking", omit_defaults=True):
    thinking: str = ""
    signature: str | None = None
    id: str | None = None  # Responses reasoning item id


class RedactedThinkingBlock(msgspec.Struct, tag="redacted_thinking", omit_defaults=True):
    data: str = ""


class ToolCallBlock(msgspec.Struct, tag="tool_call", omit_defaults=True):
    id: str
    name: str
    arguments: str = ""  # raw JSON text, possibly "" while streaming
    signature: str | None = None  # Gemini thoughtSignature on a functionCall


class UnknownBlock(msgspec.Struct, tag="unknown", omit_defaults=True):
    raw: Any = None
    source: str = ""  # the format it came from


class ToolResultBlock(msgspec.Struct, tag="tool_result", omit_defaults=True):
    tool_call_id: str
    content: list[TextBlock | ImageBlock | DocumentBlock | UnknownBlock] = msgspec.field(
        default_factory=list
    )
    is_error: bool = False
    name: str | None = None


Block = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolCallBlock
    | ToolResultBlock
    | UnknownBlock
)


def text_of(blocks: list[Block]) -> str:
    """Concatenated text of the ``text`` blocks (for formats that only carry a string)."""
    return "".join(b.text for b in blocks if type(b) is TextBlock)
