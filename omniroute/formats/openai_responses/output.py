"""OpenAI Responses: the response object — output items, usage, status ↔ stop reason.

Shared by the non-streaming answer (``response``) and the streams (``stream``, ``encode``:
``response.created`` … ``response.completed`` carry the same object); the Structs are in
``wire``. The mapping tables live in the docstring of ``omniroute.formats.openai_responses``.

Output items ↔ canonical blocks::

    reasoning {id, summary[], content[], encrypted_content}  ↔  ThinkingBlock(thinking, signature, id)
    message {content: [output_text | refusal]}               ↔  one TextBlock per content part
    function_call {call_id, name, arguments}                 ↔  ToolCallBlock(id=call_id, name, arguments)
    any other item (web_search_call, mcp_call, …)            ↔  UnknownBlock(raw item, source=ITEM_SOURCE)

Decoded reasoning is labelled Responses' (``signature_source``). Encoding for a client
(``encode_items``): a Responses reasoning block keeps its item id and ``encrypted_content``;
another format's signature gets a fresh item id and rides packed in ``encrypted_content``,
and a Gemini call signature rides packed in the function call's ``call_id``
(``omniroute.canonical.envelope``; ``input`` unpacks both).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from omniroute.canonical import Block, StopReason, TextBlock, ThinkingBlock, ToolCallBlock, UnknownBlock, Usage
from omniroute.canonical.envelope import client_call_id, client_signature, is_own
from omniroute.formats.openai_responses.wire import (
    ITEM_SOURCE,
    NAME,
    ErrorOut,
    FunctionCallItem,
    Incomplete,
    IncompleteOut,
    MessageItem,
    OutputItem,
    OutputText,
    ReasoningItem,
    ResponseObject,
    SummaryText,
    UsageOut,
    WireUsage,
    _InDetailsOut,
    _OutDetailsOut,
)

_item_decoder = msgspec.json.Decoder(OutputItem)

#: incomplete_details.reason → canonical
_INCOMPLETE_STOPS: dict[str | None, StopReason] = {
    "max_output_tokens": StopReason.MAX_TOKENS,
    "content_filter": StopReason.CONTENT_FILTER,
    "steered": StopReason.PAUSE_TURN,
}


def decode_stop(status: str | None, incomplete: Incomplete | None, tool_call: bool) -> StopReason | None:
    """Responses ``status`` (+ incomplete reason) → canonical stop reason."""
    if status == "completed":
        return StopReason.TOOL_USE if tool_call else StopReason.END_TURN
    if status == "incomplete":
        reason = incomplete.reason if incomplete is not None else None
        return _INCOMPLETE_STOPS.get(reason, StopReason.MAX_TOKENS)  # cut short, reason unknown
    if status in ("failed", "cancelled"):
        return StopReason.ERROR
    return None


def decode_usage(u: WireUsage | None) -> Usage | None:
    if u is None:
        return None
    ind, outd = u.input_tokens_details, u.output_tokens_details
    return Usage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cached_tokens=(ind.cached_tokens or 0) if ind else 0,
        cache_creation_tokens=(ind.cache_write_tokens or 0) if ind else 0,
        reasoning_tokens=(outd.reasoning_tokens or 0) if outd else 0,
    )


def decode_item(raw: bytes | msgspec.Raw) -> OutputItem | None:
    """One output item, or ``None`` when it is not shaped like one we know (kept raw)."""
    try:
        item = _item_decoder.decode(raw)
    except msgspec.ValidationError:
        return None
    return item if item.type in _ITEM_BLOCKS else None


def thinking_text(item: OutputItem) -> str:
    """Reasoning text: the summary parts (joined by a blank line), else the raw reasoning content."""
    if item.summary:
        return "\n\n".join(p.text for p in item.summary)
    return "".join(p.text or "" for p in item.content or ())


def _message_blocks(item: OutputItem) -> list[Block]:
    out: list[Block] = []
    for part in item.content or ():
        if part.type == "refusal":
            out.append(TextBlock(part.refusal or ""))
        else:
            out.append(TextBlock(part.text or ""))
    return out


def _reasoning_blocks(item: OutputItem) -> list[Block]:
    return [ThinkingBlock(thinking_text(item), item.encrypted_content, item.id or "", NAME)]


def _call_blocks(item: OutputItem) -> list[Block]:
    return [ToolCallBlock(item.call_id or item.id or "", item.name or "", item.arguments or "")]


_ITEM_BLOCKS = {"message": _message_blocks, "reasoning": _reasoning_blocks, "function_call": _call_blocks}


def item_blocks(raw: msgspec.Raw) -> list[Block]:
    item = decode_item(raw)
    if item is None:
        return [UnknownBlock(raw=msgspec.json.decode(raw), source=ITEM_SOURCE)]
    return _ITEM_BLOCKS[item.type](item)


def encode_usage(u: Usage | None) -> UsageOut | None:
    if u is None:
        return None
    return UsageOut(
        u.input_tokens,
        _InDetailsOut(u.cached_tokens, u.cache_creation_tokens),
        u.output_tokens,
        _OutDetailsOut(u.reasoning_tokens),
        u.input_tokens + u.output_tokens,
    )


#: canonical stop reason → (status, incomplete_details.reason)
_STOP_STATUS: dict[StopReason, tuple[str, str | None]] = {
    StopReason.MAX_TOKENS: ("incomplete", "max_output_tokens"),
    StopReason.CONTENT_FILTER: ("incomplete", "content_filter"),
    StopReason.ERROR: ("failed", None),
}


def response_object(
    rid: str, model: str, created: int, stop: StopReason | None, output: list[Any], usage: Usage | None
) -> ResponseObject:
    """The response object for ``stop`` (status, incomplete_details and error follow from it)."""
    status, reason = _STOP_STATUS.get(stop, ("completed", None)) if stop is not None else ("completed", None)
    obj = ResponseObject(rid, created or int(time.time()), model, status, output, encode_usage(usage))
    if reason is not None:
        obj.incomplete_details = IncompleteOut(reason)
    if status == "failed":
        obj.error = ErrorOut("server_error", "the upstream model stopped with an error")
    return obj


def item_id(prefix: str, rid: str, index: int) -> str:
    """A stable id for the ``index``-th output item of response ``rid`` (``msg_…``, ``fc_…``, ``rs_…``)."""
    stem = rid[5:] if rid.startswith("resp_") else rid
    return f"{prefix}_{stem}_{index}"


def encode_items(content: list[Block], rid: str, message_status: str = "completed") -> list[Any]:
    """Canonical blocks → output items; consecutive text blocks share one message item."""
    items: list[Any] = []
    message: MessageItem | None = None
    for block in content:
        kind = type(block)
        if kind is TextBlock:
            if message is None:
                message = MessageItem(item_id("msg", rid, len(items)), message_status)
                items.append(message)
            message.content.append(OutputText(block.text))
            continue
        message = None
        if kind is ThinkingBlock:
            summary = [SummaryText(block.thinking)] if block.thinking else []
            items.append(reasoning_item(block, item_id("rs", rid, len(items)), summary))
        elif kind is ToolCallBlock:
            call_id = client_call_id(NAME, block.id, block.signature_source, block.signature)
            items.append(FunctionCallItem(item_id("fc", rid, len(items)), call_id, block.name, block.arguments))
        elif kind is UnknownBlock and block.source == ITEM_SOURCE and isinstance(block.raw, dict):
            items.append(block.raw)
    return items


def reasoning_item(block: ThinkingBlock, fresh_id: str, summary: list[SummaryText]) -> ReasoningItem:
    """A reasoning item for a client: Responses' own keeps its id and encrypted content; another
    format's state gets ``fresh_id`` and rides packed in ``encrypted_content``."""
    own = is_own(block.signature_source, NAME)
    encrypted = client_signature(NAME, block.signature_source, block.signature, block.id)
    return ReasoningItem((block.id if own else None) or fresh_id, summary, encrypted)
