"""Gemini parts ↔ canonical blocks (the table is in ``omniroute.formats.gemini``).

Three directions: a client's ``contents`` (plain dicts, snake_case keys accepted; bad input
names its dotted path), the parts of an upstream's answer (``Part`` Structs; the stream decoder
uses the same block builders) and canonical blocks → parts (``encode_parts``), for an upstream
or a client.

A ``thoughtSignature`` holding an envelope (``omniroute.canonical.envelope``: another format's
reasoning state the gateway gave this client) is unpacked into that format's signature, item
id and ``signature_source``; any other signature is Gemini's own (``signature_source="gemini"``).
"""

from __future__ import annotations

import mimetypes
from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    DocumentBlock,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UnknownBlock,
    standard_base64,
    text_of,
)
from omniroute.canonical.envelope import decode_signature, decode_thinking
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import unsupported_role
from omniroute.formats.gemini.wire import (
    ENCODER,
    NAME,
    SOURCE,
    Blob,
    FileData,
    FunctionCall,
    FunctionResponse,
    FunctionResponsePart,
    Part,
    camel,
    client_thought_signature,
    get,
    invalid,
    need,
    synth_id,
    upstream_thought_signature,
    wire_id,
)

_ROLES = {"user": "user", "model": "assistant", "function": "user"}


class _Calls:
    """Matches id-less ``functionResponse`` parts to earlier ``functionCall`` ids by name."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: dict[str, list[str]] = {}

    def call(self, name: str, call_id: str) -> None:
        self.pending.setdefault(name, []).append(call_id)

    def result(self, name: str, call_id: str | None, seed: str) -> str:
        queue = self.pending.get(name)
        if call_id:
            if queue and call_id in queue:
                queue.remove(call_id)
            return call_id
        return queue.pop(0) if queue else synth_id(seed)


def decode_contents(contents: list[Any]) -> list[Message]:
    calls = _Calls()
    messages: list[Message] = []
    for ci, content in enumerate(contents):
        path = f"contents.{ci}"
        if not isinstance(content, dict):
            raise invalid(f"{path} must be an object", path)
        role = get(content, "role", str, path + ".role", "user") or "user"
        if role not in _ROLES:
            raise unsupported_role("gemini", role, path + ".role")
        blocks: list[Block] = []
        for pi, part in enumerate(get(content, "parts", list, path + ".parts", [])):
            decoded = _decode_part(part, f"{path}.parts.{pi}", calls)
            if _continues_thought(blocks, decoded, part):
                prev, more = blocks[-1], decoded[0]
                blocks[-1] = msgspec.structs.replace(more, thinking=prev.thinking + more.thinking)  # type: ignore[union-attr]
            else:
                blocks.extend(decoded)
        messages.append(Message(role=_ROLES[role], content=blocks))  # type: ignore[arg-type]
    return messages


def _continues_thought(blocks: list[Block], decoded: list[Block], part: dict[str, Any]) -> bool:
    """A streamed thought comes back as the ``thought`` parts of each chunk, the signature on the
    last (possibly empty) one: consecutive thought parts are one thought, so the signature
    stays with all of its text (a provider that signs thinking verifies the whole text)."""
    prev = blocks[-1] if blocks else None
    return (
        part.get("thought") is True
        and type(prev) is ThinkingBlock
        and bool(prev.thinking)
        and prev.signature is None
        and prev.signature_source is None
        and len(decoded) == 1
        and type(decoded[0]) is ThinkingBlock
    )


def _decode_part(part: Any, path: str, calls: _Calls) -> list[Block]:
    if not isinstance(part, dict):
        raise invalid(f"{path} must be an object", path)
    camel(part)
    sig = get(part, "thoughtSignature", str, path + ".thoughtSignature")
    if "text" in part:
        text = get(part, "text", str, path + ".text", "")
        if part.get("thought") is True:
            return [decode_thinking(text, sig, SOURCE, b64=True)]
        blocks: list[Block] = [TextBlock(text)] if text or not sig else []
        return [*blocks, decode_thinking("", sig, SOURCE, b64=True)] if sig else blocks
    if "functionCall" in part:
        return [_decode_call(need(part, "functionCall", path + ".functionCall"), sig, path, calls)]
    if "functionResponse" in part:
        return [_decode_result(need(part, "functionResponse", path + ".functionResponse"), path, calls)]
    if "inlineData" in part or "fileData" in part:
        return [_decode_media(part, path)]
    if sig and len(part) == 1:
        return [decode_thinking("", sig, SOURCE, b64=True)]
    return [UnknownBlock(raw=part, source="gemini")]


def _decode_call(call: dict[str, Any], sig: str | None, path: str, calls: _Calls) -> ToolCallBlock:
    path += ".functionCall"
    name = get(call, "name", str, path + ".name")
    if not name:
        raise invalid(f"{path}.name is required", path + ".name")
    args = get(call, "args", dict, path + ".args", {})
    call_id = get(call, "id", str, path + ".id") or synth_id(f"{path}:{name}")
    calls.call(name, call_id)
    signature, source = decode_signature(sig, SOURCE, b64=True)
    return ToolCallBlock(call_id, name, ENCODER.encode(args).decode(), signature, source)


def _decode_result(resp: dict[str, Any], path: str, calls: _Calls) -> ToolResultBlock:
    path += ".functionResponse"
    name = get(resp, "name", str, path + ".name")
    if not name:
        raise invalid(f"{path}.name is required", path + ".name")
    response = get(resp, "response", dict, path + ".response", {})
    call_id = calls.result(name, get(resp, "id", str, path + ".id"), f"{path}:{name}")
    content: list[Any] = [TextBlock(ENCODER.encode(response).decode())]
    for i, sub in enumerate(get(resp, "parts", list, path + ".parts", [])):
        if isinstance(sub, dict) and ("inlineData" in camel(sub) or "fileData" in sub):
            content.append(_decode_media(sub, f"{path}.parts.{i}"))
    is_error = len(response) == 1 and "error" in response
    return ToolResultBlock(tool_call_id=call_id, content=content, is_error=is_error, name=name)


def _decode_media(part: dict[str, Any], path: str) -> Block:
    key = "inlineData" if "inlineData" in part else "fileData"
    media = camel(need(part, key, f"{path}.{key}"))
    mime = get(media, "mimeType", str, f"{path}.{key}.mimeType")
    if key == "inlineData":
        data = get(media, "data", str, f"{path}.{key}.data")
        if not mime or data is None:
            raise invalid(f"{path}.{key} needs mimeType and data", f"{path}.{key}")
        data, url = standard_base64(data), None  # google-genai writes the URL-safe alphabet
    else:
        url, data = get(media, "fileUri", str, f"{path}.{key}.fileUri"), None
        if not url:
            raise invalid(f"{path}.{key}.fileUri is required", f"{path}.{key}.fileUri")
    if mime and mime.startswith("image/"):
        return ImageBlock(media_type=mime, data=data, url=url)
    if mime and mime.startswith(("application/", "text/")):
        return DocumentBlock(media_type=mime, data=data, url=url)
    return UnknownBlock(raw=part, source="gemini")  # audio, video, YouTube links: Gemini-only


def unknown_part(part: Part) -> UnknownBlock:
    return UnknownBlock(raw=msgspec.json.decode(ENCODER.encode(part)), source=SOURCE)


def call_block(part: Part, seed: str) -> ToolCallBlock:
    fc = part.function_call
    assert fc is not None
    args = bytes(fc.args).decode() or "{}"
    sig = part.thought_signature
    return ToolCallBlock(fc.id or synth_id(f"{seed}:{fc.name}"), fc.name, args, sig, SOURCE if sig else None)


def media_block(part: Part) -> Block:
    blob = part.inline_data
    if blob is not None and blob.mime_type.startswith("image/"):
        return ImageBlock(media_type=blob.mime_type, data=blob.data)
    return unknown_part(part)


def decode_parts(parts: list[Part], response_id: str) -> list[Block]:
    """Parts of a whole (non-streamed) candidate → canonical blocks."""
    blocks: list[Block] = []
    for i, part in enumerate(parts):
        sig = part.thought_signature
        if part.function_call is not None:
            blocks.append(call_block(part, f"{response_id}:{i}"))
        elif part.text is not None and part.thought:
            blocks.append(ThinkingBlock(part.text, sig, signature_source=SOURCE if sig else None))
        elif part.text is not None:
            if part.text or not sig:
                blocks.append(TextBlock(part.text))
            if sig:
                blocks.append(ThinkingBlock(signature=sig, signature_source=SOURCE))
        elif part.inline_data is not None:
            blocks.append(media_block(part))
        elif sig and part.file_data is None and not part.executable_code and not part.code_execution_result:
            blocks.append(ThinkingBlock(signature=sig, signature_source=SOURCE))
        else:
            blocks.append(unknown_part(part))
    return blocks


_IMAGE_MAGIC = (("iVBORw0KGgo", "image/png"), ("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))


def encode_parts(blocks: list[Block], names: dict[str, str], path: str, client: bool = False) -> list[Part]:
    """Canonical blocks → Gemini parts (what a part cannot carry is dropped). ``client``: the
    parts go to a Gemini client (another format's reasoning state packed into
    ``thoughtSignature``), else to an upstream (only Gemini's own signatures sent)."""
    parts: list[Any] = []
    for i, block in enumerate(blocks):
        kind = type(block)
        if kind is TextBlock:
            if block.text:  # Gemini rejects empty text parts
                parts.append(Part(text=block.text))
        elif kind is ThinkingBlock:
            _append_thinking(block, parts, _signature(block, client))
        elif kind is ToolCallBlock:
            args = _json_object(block.arguments or "{}", f"{path}.content.{i}.arguments")
            call = FunctionCall(name=block.name, args=args, id=wire_id(block.id))
            parts.append(Part(function_call=call, thought_signature=_signature(block, client)))
        elif kind is ToolResultBlock:
            parts.append(Part(function_response=_encode_result(block, names, f"{path}.content.{i}")))
        elif kind is ImageBlock or kind is DocumentBlock:
            if (part := _encode_media(block)) is not None:
                parts.append(part)
        elif kind is UnknownBlock and block.source == NAME and isinstance(block.raw, dict):
            parts.append(block.raw)  # a Gemini part we do not model: passed back verbatim
    return parts


def _signature(block: ThinkingBlock | ToolCallBlock, client: bool) -> str | None:
    """The ``thoughtSignature`` of a block's part (see ``wire``)."""
    if not client:
        return upstream_thought_signature(block.signature_source, block.signature)
    item_id = block.id if type(block) is ThinkingBlock else None
    return client_thought_signature(block.signature_source, block.signature, item_id)


def _append_thinking(block: ThinkingBlock, parts: list[Any], sig: str | None) -> None:
    if block.thinking:
        parts.append(Part(text=block.thinking, thought=True, thought_signature=sig))
    elif sig:
        prev = parts[-1] if parts else None
        if type(prev) is Part and prev.text and not prev.thought and prev.thought_signature is None:
            prev.thought_signature = sig  # it came from this text part
        else:
            parts.append(Part(text="", thought_signature=sig))


def _json_object(text: str, param: str) -> msgspec.Raw:
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "tool call arguments must be a JSON object", param=param)
    return msgspec.Raw(text.encode())


def _encode_result(block: ToolResultBlock, names: dict[str, str], path: str) -> FunctionResponse:
    name = block.name or names.get(block.tool_call_id)
    if not name:
        message = f"tool result for unknown tool call id {block.tool_call_id!r}: Gemini needs the function name"
        raise GatewayError(ErrorKind.INVALID_REQUEST, message, param=path + ".tool_call_id")
    text = text_of(block.content)  # type: ignore[arg-type]
    try:
        value = msgspec.json.decode(text) if text.lstrip().startswith("{") else None
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        value = {"error" if block.is_error else "result": text}
    elif block.is_error and set(value) != {"error"}:
        value = {"error": value}
    images = [
        Part(inline_data=Blob(b.media_type or _sniff(b.data), b.data))
        for b in block.content
        if type(b) is ImageBlock and b.data
    ]
    extra_parts = [FunctionResponsePart(inline_data=p.inline_data) for p in images] or None
    response = msgspec.Raw(ENCODER.encode(value))
    return FunctionResponse(name=name, response=response, id=wire_id(block.tool_call_id), parts=extra_parts)


def _encode_media(block: ImageBlock | DocumentBlock) -> Part | None:
    is_image = type(block) is ImageBlock
    if block.data:
        mime = block.media_type or (_sniff(block.data) if is_image else "application/pdf")
        return Part(inline_data=Blob(mime, block.data))
    url = block.url or ""
    if url.startswith("data:") and ";base64," in url:
        head, _, data = url.partition(";base64,")
        return Part(inline_data=Blob(head[5:] or block.media_type or "application/octet-stream", data))
    if url:
        guessed = mimetypes.guess_type(url.split("?", 1)[0])[0]
        mime = block.media_type or guessed or ("image/jpeg" if is_image else "application/pdf")
        return Part(file_data=FileData(file_uri=url, mime_type=mime))
    text = getattr(block, "text", None)
    return Part(text=text) if text else None


def _sniff(data: str | None) -> str:
    for prefix, mime in _IMAGE_MAGIC:
        if data and data.startswith(prefix):
            return mime
    return "image/jpeg"
