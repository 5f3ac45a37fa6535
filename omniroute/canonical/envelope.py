"""Envelopes: reasoning state carried through a client format that has no field for it.

An upstream needs its reasoning state back on the next turn: an Anthropic thinking
``signature``, a Gemini ``thoughtSignature`` (on a thought or on a functionCall part), a
Responses reasoning item's ``id`` + ``encrypted_content``. A client of another format has no
field for that state, but it returns some fields verbatim; the state is packed into one of
them on the way out and unpacked by the client's request decoder on the way back. Format
modules call only this module for that (``ThinkingBlock.signature_source`` and
``ToolCallBlock.signature_source`` say whose state it is; see ``content``).

=====================  ===============================  ==========================================
client format          carrier (returned verbatim)      envelope
=====================  ===============================  ==========================================
Anthropic              thinking ``signature``           ``omr1.<source>.<item id>.<payload>``
Responses              reasoning ``encrypted_content``  ``omr1.<source>.<item id>.<payload>``
Gemini                 ``thoughtSignature`` (bytes)     base64 of the same text
Anthropic, Responses,  tool-call id                     ``<id>__omr1<src><kind><urlsafe b64>``
OpenAI Chat            (``tool_use.id``, ``call_id``,   (``[A-Za-z0-9_-]`` only, as Anthropic
                       ``tool_calls[].id``)             requires; ``kind`` ``b``: the signature's
                                                        base64 bytes re-encoded, no growth;
                                                        ``t``: its UTF-8 text)
=====================  ===============================  ==========================================

``<item id>`` is empty for none, the id itself when it is ``[A-Za-z0-9_-]+``, else ``~`` +
urlsafe base64 of it; ``<payload>`` (the signature) is last and verbatim, empty for none. A
format's *own* state (``signature_source`` its name, or ``None``) is never packed: Anthropic
signatures reach an Anthropic client byte-identical, Responses items keep their id.

Decoding is total: a value that is not a well-formed envelope is an opaque signature of the
format that sent it (no exception). A base64 signature cannot start with ``omr1.`` (``.`` is
not a base64 character), so a genuine Anthropic or Responses signature never reads as an
envelope; a Gemini signature would have to decode to bytes starting ``omr1.`` (p ≈ 2⁻⁴⁰).

Upstream and answer decoders do *not* unpack: a state that came from an upstream is that
upstream's (an envelope made by another OmniRoute behind this one goes back to it, nested).
Same-format pass-through relays bytes, envelopes included: a conversation that moves from a
translated upstream to a same-format one hands that provider state it cannot verify.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

from omniroute.canonical.content import ThinkingBlock
from omniroute.canonical.stream import SignatureDelta

TAG = "omr1"
_PREFIX = TAG + "."
_B64_PREFIX = base64.b64encode(_PREFIX.encode())[:6].decode()  # "b21yMS": every packed Gemini value
_CALL_MARK = "__" + TAG
#: source format ↔ one letter, for tool-call ids (which allow no dots)
_CODES = {"anthropic": "a", "gemini": "g", "openai_responses": "r", "openai_chat": "c", "ollama": "o"}
_SOURCES = {code: name for name, code in _CODES.items()}
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]+")
_SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_BAD = object()  # a malformed id field


class Carried(NamedTuple):
    """What an envelope carries: whose state it is, the item id, the signature."""

    source: str
    id: str | None = None
    payload: str | None = None


def is_own(source: str | None, fmt: str) -> bool:
    """State of unknown provenance (``None``) counts as the format's own."""
    return source is None or source == fmt


# ── text envelopes (Anthropic signature, Responses encrypted_content) ────────────────────


def pack(c: Carried) -> str:
    """``omr1.<source>.<item id>.<payload>``."""
    return f"{_PREFIX}{c.source}.{_id_field(c.id)}.{c.payload or ''}"


def unpack(value: str) -> Carried | None:
    """The content of an envelope, or ``None`` when ``value`` is not a well-formed one."""
    if not value.startswith(_PREFIX):
        return None
    parts = value.split(".", 3)
    if len(parts) != 4 or not _SOURCE_NAME.fullmatch(parts[1]):
        return None
    item = _read_id(parts[2])
    if item is _BAD:
        return None
    return Carried(parts[1], item, parts[3] or None)  # type: ignore[arg-type]


def _id_field(item_id: str | None) -> str:
    if item_id is None:
        return ""
    if _SAFE_ID.fullmatch(item_id):
        return item_id
    return "~" + base64.urlsafe_b64encode(item_id.encode()).decode().rstrip("=")


def _read_id(field: str) -> object:
    """The item id (``str`` or ``None``) of an id field; ``_BAD`` when the field is malformed."""
    if not field:
        return None
    if not field.startswith("~"):
        return field if _SAFE_ID.fullmatch(field) else _BAD
    raw = _b64decode(field[1:])
    try:
        return raw.decode() if raw is not None else _BAD
    except UnicodeDecodeError:
        return _BAD


# ── base64 envelopes (Gemini thoughtSignature, a bytes field) ────────────────────────────


def pack_b64(c: Carried) -> str:
    """The text envelope as standard base64, the way Gemini carries ``bytes``."""
    return base64.b64encode(pack(c).encode()).decode()


def unpack_b64(value: str) -> Carried | None:
    """Accepts standard or URL-safe base64, padded or not (SDKs re-encode ``bytes`` their way)."""
    if not value.startswith(_B64_PREFIX):
        return None
    raw = _b64decode(value)
    if raw is None or not raw.startswith(_PREFIX.encode()):
        return None
    try:
        return unpack(raw.decode())
    except UnicodeDecodeError:
        return None


def _b64decode(text: str) -> bytes | None:
    """Standard or URL-safe base64, padding optional; ``None`` when it is not base64."""
    text = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


# ── tool-call ids ────────────────────────────────────────────────────────────────────────


def pack_call_id(call_id: str, c: Carried) -> str:
    """``<id>__omr1<src><kind><payload>``; the id alone when the source has no code or there is
    no payload."""
    code = _CODES.get(c.source)
    if code is None or not c.payload:
        return call_id
    raw = _b64decode(c.payload) if "-" not in c.payload and "_" not in c.payload else None
    if raw is not None and base64.b64encode(raw).decode() == c.payload:  # canonical base64: no growth
        kind, data = "b", raw
    else:
        kind, data = "t", c.payload.encode()
    return f"{call_id}{_CALL_MARK}{code}{kind}{base64.urlsafe_b64encode(data).decode().rstrip('=')}"


def unpack_call_id(value: str) -> tuple[str, Carried | None]:
    """(the call's own id, what its envelope carries); ``(value, None)`` for a plain id."""
    head, mark, rest = value.partition(_CALL_MARK)
    if not mark or len(rest) < 3 or rest[0] not in _SOURCES or rest[1] not in "bt":
        return value, None
    raw = _b64decode(rest[2:])
    if raw is None:
        return value, None
    if rest[1] == "b":
        return head, Carried(_SOURCES[rest[0]], None, base64.b64encode(raw).decode())
    try:
        return head, Carried(_SOURCES[rest[0]], None, raw.decode())
    except UnicodeDecodeError:
        return value, None


# ── what the format modules call ─────────────────────────────────────────────────────────


def upstream_signature(fmt: str, source: str | None, signature: str | None) -> str | None:
    """The signature an upstream of ``fmt`` may be sent: only its own (foreign ones are refused)."""
    return signature if is_own(source, fmt) else None


def client_signature(
    fmt: str, source: str | None, signature: str | None, item_id: str | None = None, *, b64: bool = False
) -> str | None:
    """The signature field a client of ``fmt`` is given: its own signature verbatim, another
    format's state (signature and/or item id) packed, ``None`` when there is nothing to hold."""
    if is_own(source, fmt):
        return signature
    if not signature and item_id is None:
        return None
    c = Carried(source, item_id, signature)  # type: ignore[arg-type]
    return pack_b64(c) if b64 else pack(c)


def collect(held: ThinkingBlock | None, delta: SignatureDelta) -> ThinkingBlock:
    """A stream encoder's held thinking state with one more signature delta appended (a
    signature may come in pieces; the delta's ``source`` wins over what the block said)."""
    held = held or ThinkingBlock()
    held.signature = (held.signature or "") + delta.signature
    held.signature_source = delta.source or held.signature_source
    return held


def decode_thinking(
    thinking: str, value: str | None, fmt: str, item_id: str | None = None, *, b64: bool = False
) -> ThinkingBlock:
    """A thinking block a *client* of ``fmt`` sent back: an envelope is unpacked into the
    producer's signature, id and name; any other value is ``fmt``'s own signature."""
    c = (unpack_b64(value) if b64 else unpack(value)) if value else None
    if c is not None:
        return ThinkingBlock(thinking, c.payload, c.id, c.source)
    if not value and item_id is None:
        return ThinkingBlock(thinking)
    return ThinkingBlock(thinking, value or None, item_id, fmt)


def decode_signature(value: str | None, fmt: str, *, b64: bool = False) -> tuple[str | None, str | None]:
    """(signature, source) of a signature field a client of ``fmt`` sent back (not a thinking one)."""
    if not value:
        return None, None
    c = unpack_b64(value) if b64 else unpack(value)
    return (c.payload, c.source) if c is not None else (value, fmt)


def client_call_id(fmt: str, call_id: str, source: str | None, signature: str | None) -> str:
    """The tool-call id a client of ``fmt`` is given: another format's call signature packed
    into it (a signature of unknown provenance is not carried: there is no slot for it)."""
    if not signature or source is None or source == fmt:
        return call_id
    return pack_call_id(call_id, Carried(source, None, signature))
