"""Content blocks: the tagged union every message is made of.

The canonical form is a *superset* of the five wire formats, so each block keeps what any
format needs to round-trip (signatures, ids, cache hints). Tag field: ``type``.

====================  =====================================================================
block                 what it carries / which formats have it
====================  =====================================================================
``text``              plain text; ``cache_control`` (Anthropic cache hint) preserved
``image``             ``url`` *or* ``data`` (standard base64, RFC 4648 §4: decoders of a
                      format that may send the URL-safe alphabet convert with
                      ``standard_base64``) + ``media_type``; all formats but
                      Ollama URLs (Ollama takes base64 only)
``document``          ``data``/``url`` + ``media_type`` (PDF...), Anthropic/Gemini/Responses
``thinking``          reasoning text + ``signature`` (Anthropic signature, Gemini thought
                      signature, Responses ``encrypted_content``); ``id`` = Responses item id;
                      ``signature_source`` = the format that produced signature and id
``redacted_thinking`` opaque ``data`` (Anthropic redacted thinking)
``tool_call``         ``id``, ``name``, ``arguments`` as the raw JSON *string* (never parsed
                      and re-serialised on the way through); ``signature`` = Gemini thought
                      signature attached to a functionCall, ``signature_source`` its producer
``tool_result``       ``tool_call_id``, ``content`` (blocks), ``is_error``, ``name`` (Gemini
                      and Ollama address results by function name)
``unknown``           a block type we do not know: ``raw`` payload kept, counted, dropped or
                      passed through by policy (never an exception)
====================  =====================================================================

Provenance of reasoning state. A signature (and a Responses reasoning item id) is opaque and
verifies only with the provider that issued it, so ``signature_source`` names the wire
format that produced it (a format module's ``NAME``: ``"anthropic"``, ``"gemini"``,
``"openai_responses"``). Every decoder sets it next to a signature or item id it reads;
``None`` means *unknown* (a block built by hand) and every encoder treats such state as its
own. Encoders use it two ways (``omniroute.canonical.envelope``):

* **for an upstream**, a signature is sent only to the format that produced it; another
  format's is dropped (it could only be refused): Anthropic drops the thinking block,
  Gemini keeps the thought text without its signature, Responses drops the reasoning item;
* **for a client**, the format's own signature goes out verbatim; another format's state is
  packed into an *envelope* in a field the client returns verbatim (the Anthropic thinking
  ``signature``, the Gemini ``thoughtSignature``, the Responses ``encrypted_content``, a
  tool-call id), and the client-side decoder unpacks it back into these fields.
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
    signature_source: str | None = None  # format that produced signature / id (None: unknown)


class RedactedThinkingBlock(msgspec.Struct, tag="redacted_thinking", omit_defaults=True):
    data: str = ""


class ToolCallBlock(msgspec.Struct, tag="tool_call", omit_defaults=True):
    id: str
    name: str
    arguments: str = ""  # raw JSON text, possibly "" while streaming
    signature: str | None = None  # Gemini thoughtSignature on a functionCall
    signature_source: str | None = None  # format that produced it (None: unknown)


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


_URLSAFE = str.maketrans("-_", "+/")


def standard_base64(data: str) -> str:
    """``data`` in the standard base64 alphabet with padding (RFC 4648 §4).

    The google-genai SDK writes ``inlineData.data`` URL-safe (§5, ``-`` and ``_``); the
    OpenAI, Responses, Anthropic and Ollama fields take only the standard alphabet (a real
    Ollama server refuses the other). Standard input is returned as it is.
    """
    if "-" in data or "_" in data:
        data = data.translate(_URLSAFE)
    elif len(data) % 4 == 0:
        return data
    return data + "=" * (-len(data) % 4)
