"""A stream of canonical events folded into one ``Response``, and a ``Response`` told again
as a stream.

``Assembler`` is fed the events of one answer (any upstream format's ``StreamDecoder``
output) and builds the ``Response`` a non-streaming call would have returned: what
post-hooks read (usage recording, the cache's store). ``replay`` is the inverse, for an
answer that did not come from an upstream (a cache hit): the events a stream encoder needs
to write it as the client's own stream.

==================  =============================================================
event               what ``Assembler`` does with it
==================  =============================================================
MessageStart        id, model, created; its usage (Anthropic's prompt count) kept
BlockStart          a new block at ``index`` (a copy of the started block)
BlockDelta          text, thinking and arguments appended; a signature set
BlockStop           nothing (blocks are sequential)
MessageDelta        stop reason / sequence; usage merged (cumulative, the last wins
                    field by field where it is not zero)
MessageStop         ``complete`` becomes true
StreamError         ``error`` keeps it; the answer is not complete
Ping, Unknown       ignored
==================  =============================================================
"""

from __future__ import annotations

import msgspec

from omniroute.canonical.content import Block, TextBlock, ThinkingBlock, ToolCallBlock
from omniroute.canonical.response import Response, Usage
from omniroute.canonical.stream import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
)


class Assembler:
    """Fold events into ``response``; ``complete`` once ``MessageStop`` arrived."""

    __slots__ = ("complete", "error", "response")

    def __init__(self) -> None:
        self.response = Response(id="", model="")
        self.complete = False
        self.error: StreamError | None = None

    def feed(self, event: Event) -> None:
        kind = type(event)
        if kind is BlockDelta:
            self._delta(event)
        elif kind is BlockStart:
            self.response.content.append(msgspec.structs.replace(event.block))
        elif kind is MessageDelta:
            if event.stop_reason is not None:
                self.response.stop_reason = event.stop_reason
                self.response.stop_sequence = event.stop_sequence
            self._usage(event.usage)
        elif kind is MessageStart:
            r = self.response
            r.id, r.model, r.created = event.id, event.model, event.created
            self._usage(event.usage)
        elif kind is MessageStop:
            self.complete = True
        elif kind is StreamError:
            self.error = event

    def _delta(self, event: BlockDelta) -> None:
        block, delta = self.response.content[-1], event.delta
        kind = type(delta)
        if kind is TextDelta and type(block) is TextBlock:
            block.text += delta.text
        elif kind is ThinkingDelta and type(block) is ThinkingBlock:
            block.thinking += delta.thinking
        elif kind is ArgumentsDelta and type(block) is ToolCallBlock:
            block.arguments += delta.partial_json
        elif kind is SignatureDelta and type(block) in (ThinkingBlock, ToolCallBlock):
            block.signature = delta.signature
            block.signature_source = delta.source

    def _usage(self, usage: Usage | None) -> None:
        if usage is None:
            return
        held = self.response.usage
        if held is None:
            self.response.usage = msgspec.structs.replace(usage)
            return
        for field in Usage.__struct_fields__:
            value = getattr(usage, field)
            if value:
                setattr(held, field, value)


def assemble(events: list[Event]) -> Assembler:
    """An ``Assembler`` fed ``events``."""
    assembler = Assembler()
    for event in events:
        assembler.feed(event)
    return assembler


def replay(response: Response) -> list[Event]:
    """The events that tell ``response`` as a stream: start, each block whole, delta, stop."""
    events: list[Event] = [MessageStart(response.id, response.model, None, response.created)]
    for index, block in enumerate(response.content):
        events.append(BlockStart(index, _empty(block)))
        events.extend(BlockDelta(index, d) for d in _deltas(block))
        events.append(BlockStop(index))
    events.append(MessageDelta(response.stop_reason, response.stop_sequence, response.usage))
    events.append(MessageStop())
    return events


def _empty(block: Block) -> Block:
    """The block as a ``BlockStart`` carries it: payload emptied, identity kept."""
    kind = type(block)
    if kind is TextBlock:
        return TextBlock("")
    if kind is ThinkingBlock:
        return ThinkingBlock("", None, block.id, block.signature_source)
    if kind is ToolCallBlock:
        return msgspec.structs.replace(block, arguments="")
    return block


def _deltas(block: Block) -> list[TextDelta | ThinkingDelta | SignatureDelta | ArgumentsDelta]:
    kind = type(block)
    if kind is TextBlock:
        return [TextDelta(block.text)] if block.text else []
    if kind is ThinkingBlock:
        out: list = [ThinkingDelta(block.thinking)] if block.thinking else []
        if block.signature:
            out.append(SignatureDelta(block.signature, block.signature_source))
        return out
    if kind is ToolCallBlock:
        return [ArgumentsDelta(block.arguments)] if block.arguments else []
    return []
