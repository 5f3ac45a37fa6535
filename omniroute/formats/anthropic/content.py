"""Anthropic content blocks ↔ canonical blocks (the table is in ``omniroute.formats.anthropic``).

Blocks are decoded by peeking at ``type`` and converting the object into that block's small
Struct, so an unknown ``type`` becomes ``UnknownBlock(raw, source="anthropic")`` instead of an
exception, and a bad known block names its exact path (``messages[2].content[0].id``).

Reasoning state (``omniroute.canonical.envelope``): blocks a *client* sends back are unpacked
— a thinking ``signature`` holding an envelope gives back another format's signature, item
id and ``signature_source``, a ``tool_use.id`` / ``tool_result.tool_use_id`` holding one gives
back the call's own id (and the call's Gemini signature); any other signature is Anthropic's
(``signature_source="anthropic"``). Blocks of an upstream *answer* (``answer=True``) are only
labelled Anthropic's. Encoding for an upstream sends thinking only with an Anthropic
signature (or one of unknown provenance): a block signed by another provider is dropped like
an unsigned one.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    DocumentBlock,
    ImageBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UnknownBlock,
)
from omniroute.canonical.envelope import decode_thinking, unpack_call_id, upstream_signature
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic.wire import SOURCE, convert, json_encode


class _Source(msgspec.Struct):
    type: str
    media_type: str | None = None
    data: str | None = None
    url: str | None = None


class _Text(msgspec.Struct):
    text: str
    cache_control: dict[str, Any] | None = None


class _Media(msgspec.Struct):  # image and document
    source: _Source
    title: str | None = None


class _ToolUse(msgspec.Struct):
    id: str
    name: str
    input: dict[str, Any]


class _ToolResult(msgspec.Struct):
    tool_use_id: str
    content: str | list[dict[str, Any]] | None = None
    is_error: bool = False
    cache_control: dict[str, Any] | None = None


class _Thinking(msgspec.Struct):
    thinking: str
    signature: str | None = None


class _Redacted(msgspec.Struct):
    data: str


def _text(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _Text, path)
    return TextBlock(b.text, b.cache_control)


def _image(raw: dict[str, Any], path: str) -> Block:
    src = convert(raw, _Media, path).source
    if src.type == "base64" and src.data is not None:
        return ImageBlock(media_type=src.media_type, data=src.data)
    if src.type == "url" and src.url is not None:
        return ImageBlock(url=src.url)
    return UnknownBlock(raw=raw, source=SOURCE)  # "file" sources and future kinds


def _document(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _Media, path)
    src = b.source
    if src.type == "base64" and src.data is not None:
        return DocumentBlock(media_type=src.media_type, data=src.data, title=b.title)
    if src.type == "url" and src.url is not None:
        return DocumentBlock(url=src.url, title=b.title)
    if src.type == "text" and src.data is not None:
        return DocumentBlock(media_type=src.media_type or "text/plain", text=src.data, title=b.title)
    return UnknownBlock(raw=raw, source=SOURCE)  # "content" and "file" sources


def _tool_use(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _ToolUse, path)
    call_id, carried = unpack_call_id(b.id)
    if carried is None:
        return ToolCallBlock(b.id, b.name, json_encode(b.input).decode())
    return ToolCallBlock(call_id, b.name, json_encode(b.input).decode(), carried.payload, carried.source)


def _answer_tool_use(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _ToolUse, path)
    return ToolCallBlock(b.id, b.name, json_encode(b.input).decode())


def _tool_result(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _ToolResult, path)
    content: list[Any] = []
    if isinstance(b.content, str):
        content = [TextBlock(b.content)] if b.content else []
    elif b.content:
        for i, item in enumerate(b.content):
            block = decode_block(item, f"{path}.content[{i}]")
            ok = type(block) in (TextBlock, ImageBlock, DocumentBlock, UnknownBlock)
            content.append(block if ok else UnknownBlock(raw=item, source=SOURCE))
    if b.cache_control and content and type(content[-1]) is TextBlock and not content[-1].cache_control:
        # The canonical form has no cache hint on tool results: the breakpoint moves to the
        # result's last text block, the same point in the prompt (clients put it here often).
        content[-1] = TextBlock(content[-1].text, b.cache_control)
    return ToolResultBlock(unpack_call_id(b.tool_use_id)[0], content, b.is_error)


def _thinking(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _Thinking, path)
    return decode_thinking(b.thinking, b.signature, SOURCE)


def _answer_thinking(raw: dict[str, Any], path: str) -> Block:
    b = convert(raw, _Thinking, path)
    return ThinkingBlock(b.thinking, b.signature or None, signature_source=SOURCE if b.signature else None)


def _redacted(raw: dict[str, Any], path: str) -> Block:
    return RedactedThinkingBlock(convert(raw, _Redacted, path).data)


_BLOCK_DECODERS = {
    "text": _text,
    "image": _image,
    "document": _document,
    "tool_use": _tool_use,
    "tool_result": _tool_result,
    "thinking": _thinking,
    "redacted_thinking": _redacted,
}
_ANSWER_DECODERS = {**_BLOCK_DECODERS, "tool_use": _answer_tool_use, "thinking": _answer_thinking}


def decode_block(raw: Any, path: str, answer: bool = False) -> Block:
    """One wire content block → canonical; unknown ``type`` → ``UnknownBlock``. ``answer``: the
    block is an upstream's (state labelled Anthropic's, envelopes not unpacked)."""
    if not isinstance(raw, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"`{path}` must be an object", param=path)
    decode = (_ANSWER_DECODERS if answer else _BLOCK_DECODERS).get(raw.get("type"))  # type: ignore[arg-type]
    return decode(raw, path) if decode else UnknownBlock(raw=raw, source=SOURCE)


_MAGIC = (("/9j/", "image/jpeg"), ("iVBOR", "image/png"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))
_args_view = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _sniff(data: str) -> str:
    return next((media for magic, media in _MAGIC if data.startswith(magic)), "image/png")


def _image_source(b: ImageBlock) -> dict[str, Any] | None:
    url = b.url
    if url and url.startswith("data:") and ";base64," in url:  # a data: URL left in ``url``
        head, _, data = url.partition(";base64,")
        return {"type": "base64", "media_type": head[5:] or _sniff(data), "data": data}
    if url:
        return {"type": "url", "url": url}
    if b.data:
        return {"type": "base64", "media_type": b.media_type or _sniff(b.data), "data": b.data}
    return None


def _document_source(b: DocumentBlock) -> dict[str, Any] | None:
    if b.data:
        return {"type": "base64", "media_type": b.media_type or "application/pdf", "data": b.data}
    if b.url:
        return {"type": "url", "url": b.url}
    if b.text is not None:
        return {"type": "text", "media_type": "text/plain", "data": b.text}
    return None


def tool_input(arguments: str, path: str) -> msgspec.Raw:
    """Raw JSON arguments → the ``input`` object, passed through untouched ("" → ``{}``)."""
    if not arguments.strip():
        return msgspec.Raw(b"{}")
    try:
        _args_view.decode(arguments)
    except msgspec.DecodeError:
        message = "tool call arguments must be a JSON object to be sent to Anthropic"
        raise GatewayError(ErrorKind.INVALID_REQUEST, message, param=path) from None
    return msgspec.Raw(arguments.encode())


def _encode_tool_result(b: ToolResultBlock, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": b.tool_call_id}
    content = [w for i, x in enumerate(b.content) if (w := encode_block(x, f"{path}.content[{i}]"))]
    if content:
        out["content"] = content
    if b.is_error:
        out["is_error"] = True
    return out


def _encode_text(b: TextBlock, path: str) -> dict[str, Any] | None:
    if not b.text:  # Anthropic rejects empty text blocks
        return None
    out: dict[str, Any] = {"type": "text", "text": b.text}
    if b.cache_control:
        out["cache_control"] = b.cache_control
    return out


def _encode_tool_call(b: ToolCallBlock, path: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": b.id, "name": b.name, "input": tool_input(b.arguments, path + ".arguments")}


def _encode_thinking(b: ThinkingBlock, path: str) -> dict[str, Any] | None:
    # Anthropic rejects a thinking block without its signature: such blocks (from formats
    # that do not sign reasoning, or signed by another provider) are dropped.
    signature = upstream_signature(SOURCE, b.signature_source, b.signature)
    return {"type": "thinking", "thinking": b.thinking, "signature": signature} if signature else None


def _encode_redacted(b: RedactedThinkingBlock, path: str) -> dict[str, Any]:
    return {"type": "redacted_thinking", "data": b.data}


def _encode_image(b: ImageBlock, path: str) -> dict[str, Any] | None:
    src = _image_source(b)
    return {"type": "image", "source": src} if src else None


def _encode_document(b: DocumentBlock, path: str) -> dict[str, Any] | None:
    src = _document_source(b)
    if src is None:
        return None
    return {"type": "document", "source": src, "title": b.title} if b.title else {"type": "document", "source": src}


def _encode_unknown(b: UnknownBlock, path: str) -> dict[str, Any] | None:
    # Only blocks that came from Anthropic can go back to it verbatim (server tool blocks,
    # search results, ...); anything else is dropped.
    return b.raw if b.source == SOURCE and isinstance(b.raw, dict) else None


_BLOCK_ENCODERS: dict[type, Any] = {
    TextBlock: _encode_text,
    ToolCallBlock: _encode_tool_call,
    ToolResultBlock: _encode_tool_result,
    ThinkingBlock: _encode_thinking,
    RedactedThinkingBlock: _encode_redacted,
    ImageBlock: _encode_image,
    DocumentBlock: _encode_document,
    UnknownBlock: _encode_unknown,
}


def encode_block(b: Block, path: str) -> dict[str, Any] | None:
    """Canonical block → wire object, or ``None`` when Anthropic cannot carry it."""
    return _BLOCK_ENCODERS[type(b)](b, path)
