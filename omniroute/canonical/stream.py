"""Canonical stream events: Anthropic's block-indexed grammar, the richest of the five.

A stream is::

    MessageStart  (BlockStart  BlockDelta*  BlockStop)*  MessageDelta?  MessageStop
                  ^ blocks are sequential: a block is stopped before the next starts,
                    indexes count up from 0 with no gaps

plus ``Ping`` anywhere, ``StreamError`` as the last event of a failed stream, and ``Unknown``
for events we cannot interpret (kept raw, passed through or dropped by the encoder).

Decoders of formats without explicit blocks (OpenAI Chat, Gemini, Ollama, Responses text)
synthesise ``BlockStart``/``BlockStop`` when the kind of content changes (text → tool call,
tool call i → tool call j). Encoders of formats without blocks simply drop the framing
events. ``BlockStart.block`` is the block with empty payload (``TextBlock("")``,
``ToolCallBlock(id, name, "")``, ``ThinkingBlock("")``); the payload arrives in deltas:

==================  =========================================
delta               applies to
==================  =========================================
TextDelta           text
ThinkingDelta       thinking
SignatureDelta      thinking (``source``: the format that
                    produced it, see ``content``)
ArgumentsDelta      tool_call: a piece of the raw JSON text
==================  =========================================

A signed tool call (Gemini signs functionCall parts, and sends calls whole) carries its
``signature`` and ``signature_source`` on the ``BlockStart`` block: client formats that pack
the signature into the call id (Anthropic, Responses, OpenAI Chat) write the id at the start
of the block. A ``SignatureDelta`` on a tool call after its start reaches only encoders that
can still place it (Gemini's, which holds the call until it ends); the others drop it.

``MessageDelta.usage`` is cumulative (the whole answer's usage so far), never an increment.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical.content import Block
from omniroute.canonical.response import StopReason, Usage


class MessageStart(msgspec.Struct, tag="message_start", omit_defaults=True):
    id: str = ""
    model: str = ""
    usage: Usage | None = None  # prompt usage when known up front (Anthropic)
    created: int = 0


class TextDelta(msgspec.Struct, tag="text_delta"):
    text: str


class ThinkingDelta(msgspec.Struct, tag="thinking_delta"):
    thinking: str


class SignatureDelta(msgspec.Struct, tag="signature_delta"):
    signature: str
    source: str | None = None  # the format that produced it (None: unknown)


class ArgumentsDelta(msgspec.Struct, tag="arguments_delta"):
    partial_json: str


Delta = TextDelta | ThinkingDelta | SignatureDelta | ArgumentsDelta


class BlockStart(msgspec.Struct, tag="block_start"):
    index: int
    block: Block


class BlockDelta(msgspec.Struct, tag="block_delta"):
    index: int
    delta: Delta


class BlockStop(msgspec.Struct, tag="block_stop"):
    index: int


class MessageDelta(msgspec.Struct, tag="message_delta", omit_defaults=True):
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage | None = None


class MessageStop(msgspec.Struct, tag="message_stop"):
    pass


class Ping(msgspec.Struct, tag="ping"):
    pass


class StreamError(msgspec.Struct, tag="stream_error", omit_defaults=True):
    kind: str  # an omniroute.errors.ErrorKind value
    message: str
    status: int = 502


class Unknown(msgspec.Struct, tag="unknown_event", omit_defaults=True):
    raw: Any = None
    event: str | None = None
    source: str = ""


Event = (
    MessageStart
    | BlockStart
    | BlockDelta
    | BlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | StreamError
    | Unknown
)
