"""OpenAI Chat content parts ↔ canonical blocks (the table is in ``omniroute.formats.openai_chat``).

Parts are read as ``msgspec.Raw`` and decoded after peeking at ``type``, so an unknown part
becomes ``UnknownBlock(raw, source="openai_chat")`` instead of an error, and a bad known part
names its exact path (``messages[1].content[0].image_url.url``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import Block, DocumentBlock, ImageBlock, TextBlock, UnknownBlock
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_chat.wire import NAME, decode_checked, unsupported


class _PartType(msgspec.Struct):
    type: str


class _TextPart(msgspec.Struct):
    text: str
    cache_control: dict[str, Any] | None = None


class _ImageURL(msgspec.Struct):
    url: str
    detail: str | None = None


class _ImagePart(msgspec.Struct):
    image_url: _ImageURL


class _FileRef(msgspec.Struct):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class _FilePart(msgspec.Struct):
    file: _FileRef


class _RefusalPart(msgspec.Struct):
    refusal: str


_part_type_decoder = msgspec.json.Decoder(_PartType)
_PART_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "text": msgspec.json.Decoder(_TextPart),
    "image_url": msgspec.json.Decoder(_ImagePart),
    "file": msgspec.json.Decoder(_FilePart),
    "refusal": msgspec.json.Decoder(_RefusalPart),
}


def decode_content(content: str | list[msgspec.Raw], path: str) -> list[Block]:
    """A message ``content`` (string or parts) at ``path`` → blocks."""
    if isinstance(content, str):
        return [TextBlock(content)]
    return [_decode_part(raw, f"{path}.content[{j}]") for j, raw in enumerate(content)]


def _decode_part(raw: msgspec.Raw, path: str) -> Block:
    decoder = _PART_DECODERS.get(decode_checked(_part_type_decoder, raw, path).type)
    if decoder is None:  # input_audio and types we do not know
        return UnknownBlock(msgspec.json.decode(raw), NAME)
    part = decode_checked(decoder, raw, path)
    if type(part) is _TextPart:
        return TextBlock(part.text, part.cache_control)
    if type(part) is _RefusalPart:
        return TextBlock(part.refusal)
    if type(part) is _ImagePart:
        url, detail = part.image_url.url, part.image_url.detail
        media_type, data = _split_data_url(url)
        return ImageBlock(media_type, data, None, detail) if data is not None else ImageBlock(url=url, detail=detail)
    file = part.file
    if file.file_data is None:  # a file_id only means something to OpenAI itself
        if file.file_id is None:
            message = "file parts need `file_data` or `file_id`"
            raise GatewayError(ErrorKind.INVALID_REQUEST, message, param=path + ".file")
        return UnknownBlock(msgspec.json.decode(raw), NAME)
    media_type, data = _split_data_url(file.file_data)
    return DocumentBlock(media_type, data if data is not None else file.file_data, title=file.filename)


def _split_data_url(url: str) -> tuple[str | None, str | None]:
    """``data:<type>;base64,<data>`` → (type, data); anything else → (None, None)."""
    if not url.startswith("data:"):
        return None, None
    head, sep, data = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None, None
    return head[:-7] or None, data


def encode_content(blocks: list[Block], path: str) -> str | list[Any]:
    """A lone plain text block becomes a string; anything else a list of parts."""
    if len(blocks) == 1 and type(blocks[0]) is TextBlock and blocks[0].cache_control is None:
        return blocks[0].text
    parts = [_encode_part(b, f"{path}.content[{j}]") for j, b in enumerate(blocks)]
    return [p for p in parts if p is not None]


def _encode_part(block: Block, path: str) -> Any:
    if type(block) is TextBlock:
        part: dict[str, Any] = {"type": "text", "text": block.text}
        if block.cache_control is not None:
            part["cache_control"] = block.cache_control
        return part
    if type(block) is ImageBlock:
        url = block.url or (f"data:{block.media_type or 'image/png'};base64,{block.data}" if block.data else None)
        image = {"url": url} if block.detail is None else {"url": url, "detail": block.detail}
        return {"type": "image_url", "image_url": image} if url else None
    if type(block) is DocumentBlock:
        if block.text is not None:
            return {"type": "text", "text": block.text}
        if block.data is None:
            raise unsupported("OpenAI Chat file parts take inline data only, not a document URL", path)
        file = {"file_data": f"data:{block.media_type or 'application/pdf'};base64,{block.data}"}
        return {"type": "file", "file": file if block.title is None else {**file, "filename": block.title}}
    if type(block) is UnknownBlock and block.source == NAME:
        return block.raw
    return None  # thinking / tool blocks in a user turn, foreign unknown blocks: no place here
