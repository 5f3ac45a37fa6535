"""OpenAI Responses: request ``input`` items ↔ canonical messages, both directions.

Folding rules: consecutive assistant-side items (reasoning, assistant message, function_call)
form one assistant message; function_call_output items join a user message that holds only
tool results (else start one), and a user message right after such a message joins it too, so
results come first as Anthropic requires; system/developer messages go to ``system``; any
other item (item_reference, built-in tool calls) is kept whole as ``UnknownBlock`` with
``source=ITEM_SOURCE`` in the current message. Paths in errors are dotted (``input.3.content.0``).

Reasoning state (``omniroute.canonical.envelope``): a reasoning item whose
``encrypted_content`` is an envelope gives back another format's signature, its item id (or
none: the item's own id was made up by the gateway) and ``signature_source``; any other
reasoning item is Responses' own. A ``call_id`` holding an envelope (on ``function_call`` and
``function_call_output``) gives back the call's own id and its Gemini signature.

Encoding (``encode_input``, part of ``encode_request``): messages become input items in order:
user content parts are grouped into one ``message`` item until a tool result
(→ ``function_call_output``) or a raw item interrupts; assistant text blocks are grouped into
one ``message`` item of ``output_text`` parts; tool calls → ``function_call``; thinking with an
``id`` that is Responses' own (``signature_source`` ``openai_responses`` or unknown) →
``reasoning`` (``encrypted_content`` = signature); another provider's thinking has no item
here and is not sent (its signature would be refused).
"""

from __future__ import annotations

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
)
from omniroute.canonical.envelope import decode_thinking, is_own, unpack_call_id
from omniroute.formats.error_words import unsupported_role
from omniroute.formats.openai_responses.wire import (
    ITEM_SOURCE,
    NAME,
    FunctionCallIn,
    FunctionCallOutputIn,
    InputFile,
    InputImage,
    InputText,
    MessageIn,
    OutputTextIn,
    ReasoningIn,
    SummaryPart,
    SummaryText,
    decode_at,
    from_validation,
    invalid,
    type_of,
)


class _Part(msgspec.Struct):
    type: str
    text: str | None = None
    refusal: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None


class _Item(msgspec.Struct):
    """Generic view of one input item; ``type`` (or its absence) picks which fields matter."""

    type: str | None = None
    role: str | None = None
    content: str | list[msgspec.Raw] | None = None
    id: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | list[msgspec.Raw] | None = None
    summary: list[SummaryPart] | None = None
    encrypted_content: str | None = None


_item_decoder = msgspec.json.Decoder(_Item)
_part_decoder = msgspec.json.Decoder(_Part)

_KNOWN_ITEMS = frozenset({"message", "function_call", "function_call_output", "reasoning"})
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text", "reasoning_text"})
_KNOWN_PARTS = _TEXT_PARTS | {"refusal", "input_image", "input_file"}


class InputReader:
    """Folds input items into canonical messages; state: the messages so far and call names."""

    __slots__ = ("messages", "names", "system")

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.system: list[TextBlock] = []
        self.names: dict[str, str] = {}  # call_id -> function name, for tool results

    def read(self, value: str | list[msgspec.Raw] | None) -> None:
        if isinstance(value, str):
            self.messages.append(Message("user", [TextBlock(value)]))
            return
        for i, raw in enumerate(value or ()):
            self._item(raw, f"input.{i}")

    def _item(self, raw: msgspec.Raw, path: str) -> None:
        try:
            item = _item_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            if type_of(raw, path) in _KNOWN_ITEMS:
                raise from_validation(exc, path) from None
            item = None
        kind = item.type if item is not None else None
        if item is not None and kind is None and item.role is not None:
            kind = "message"
        if kind == "message":
            self._message(item, path)
        elif kind == "function_call":
            self._function_call(item, path)
        elif kind == "function_call_output":
            self._tool_output(item, path)
        elif kind == "reasoning":
            self._into("assistant", _reasoning_block(item, path))
        else:  # item_reference, built-in tool calls and outputs, unknown items
            self._into(None, UnknownBlock(msgspec.json.decode(raw), ITEM_SOURCE))

    def _into(self, role: str | None, *blocks: Block) -> None:
        """Append to the last message when it has ``role`` (any role for ``None``), else start one."""
        last = self.messages[-1] if self.messages else None
        if last is not None and (role is None or last.role == role):
            last.content.extend(blocks)
        else:
            self.messages.append(Message(role or "user", list(blocks)))  # type: ignore[arg-type]

    def _message(self, item: _Item, path: str) -> None:
        role = item.role
        if role is None:
            raise invalid("a message item needs a `role`", f"{path}.role")
        if item.content is None:
            raise invalid("missing required field `content`", f"{path}.content")
        if role in ("system", "developer"):
            blocks = _system_blocks(item.content, f"{path}.content")
            if self.messages:  # after the first turn: a system message at its position
                self.messages.append(Message("system", blocks))  # type: ignore[arg-type]
            else:
                self.system.extend(blocks)
            return
        if role not in ("user", "assistant"):
            raise unsupported_role("openai_responses", role, f"{path}.role")
        blocks = _content_blocks(item.content, f"{path}.content")
        last = self.messages[-1] if self.messages else None
        if role == "assistant" or (last is not None and last.role == "user" and _only_results(last)):
            self._into(role, *blocks)
        else:
            self.messages.append(Message("user", blocks))

    def _function_call(self, item: _Item, path: str) -> None:
        if not item.call_id:
            raise invalid("a function_call item needs a `call_id`", f"{path}.call_id")
        if not item.name:
            raise invalid("a function_call item needs a `name`", f"{path}.name")
        call_id, carried = unpack_call_id(item.call_id)
        self.names[call_id] = item.name
        signature, source = (carried.payload, carried.source) if carried is not None else (None, None)
        self._into("assistant", ToolCallBlock(call_id, item.name, item.arguments or "", signature, source))

    def _tool_output(self, item: _Item, path: str) -> None:
        if not item.call_id:
            raise invalid("a function_call_output item needs a `call_id`", f"{path}.call_id")
        if item.output is None:
            raise invalid("missing required field `output`", f"{path}.output")
        content = _content_blocks(item.output, f"{path}.output")
        call_id = unpack_call_id(item.call_id)[0]
        result = ToolResultBlock(call_id, content, name=self.names.get(call_id))  # type: ignore[arg-type]
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "user" and _only_results(last):
            last.content.append(result)
        else:
            self.messages.append(Message("user", [result]))


def _only_results(message: Message) -> bool:
    return all(type(b) is ToolResultBlock for b in message.content)


def _reasoning_block(item: _Item, path: str) -> ThinkingBlock:
    if item.summary:
        text = "\n\n".join(p.text for p in item.summary)
    elif isinstance(item.content, list):
        parts = (decode_at(_part_decoder, raw, f"{path}.content.{j}") for j, raw in enumerate(item.content))
        text = "".join(p.text or "" for p in parts)
    else:
        text = ""
    return decode_thinking(text, item.encrypted_content, NAME, item.id or "")


def _system_blocks(content: str | list[msgspec.Raw], path: str) -> list[TextBlock]:
    if isinstance(content, str):
        return [TextBlock(content)]
    blocks = _content_blocks(content, path)
    for j, block in enumerate(blocks):
        if type(block) is not TextBlock:
            raise invalid("system and developer messages may only hold text", f"{path}.{j}")
    return blocks  # type: ignore[return-value]


def _content_blocks(content: str | list[msgspec.Raw], path: str) -> list[Block]:
    if isinstance(content, str):
        return [TextBlock(content)]
    return [_part_block(raw, f"{path}.{j}") for j, raw in enumerate(content)]


def _part_block(raw: msgspec.Raw, path: str) -> Block:
    try:
        part = _part_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        if type_of(raw, path) in _KNOWN_PARTS:
            raise from_validation(exc, path) from None
        return UnknownBlock(msgspec.json.decode(raw), NAME)
    kind = part.type
    if kind in _TEXT_PARTS:
        if part.text is None:
            raise invalid(f"a {kind} part needs `text`", f"{path}.text")
        return TextBlock(part.text)
    if kind == "refusal":
        return TextBlock(part.refusal or "")
    if kind == "input_image" and part.image_url:
        return _image_block(part.image_url, part.detail, path)
    if kind == "input_file" and (part.file_data or part.file_url):
        return _file_block(part)
    if kind in ("input_image", "input_file") and not part.file_id:
        raise invalid(f"an {kind} part needs a URL, data or a `file_id`", path)
    return UnknownBlock(msgspec.json.decode(raw), NAME)  # file_id references, unknown parts


def _split_data_url(url: str) -> tuple[str | None, str] | None:
    """``data:<type>;base64,<data>`` → (type, data); ``None`` for anything else."""
    head, sep, data = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    return head[5:-7] or None, data


def _image_block(url: str, detail: str | None, path: str) -> ImageBlock:
    if url.startswith("data:"):
        split = _split_data_url(url)
        if split is None:
            raise invalid("image_url data URL must be data:<type>;base64,<data>", f"{path}.image_url")
        return ImageBlock(media_type=split[0], data=split[1], detail=detail)
    return ImageBlock(url=url, detail=detail)


def _file_block(part: _Part) -> DocumentBlock:
    if part.file_url:
        return DocumentBlock(url=part.file_url, title=part.filename)
    data = part.file_data or ""
    split = _split_data_url(data)
    if split is not None:
        return DocumentBlock(media_type=split[0], data=split[1], title=part.filename)
    media = "application/pdf" if (part.filename or "").lower().endswith(".pdf") else None
    return DocumentBlock(media_type=media, data=data, title=part.filename)


def encode_input(messages: list[Message]) -> list[Any]:
    items: list[Any] = []
    for m in messages:
        _encode_message(m, items)
    return items


def _encode_message(m: Message, items: list[Any]) -> None:
    """One canonical message → items; parts accumulate until an item-level block interrupts."""
    if m.role == "system":
        items.append(MessageIn("system", [InputText(b.text) for b in m.content if type(b) is TextBlock]))
        return
    assistant = m.role == "assistant"
    parts: list[Any] = []
    for b in m.content:
        part = _output_part(b) if assistant else _input_part(b)
        if part is not None:
            parts.append(part)
            continue
        item = _item(b)
        if item is None:
            continue  # nothing a Responses body can carry (e.g. another provider's thinking)
        if parts:
            items.append(MessageIn(m.role, parts))
            parts = []
        items.append(item)
    if parts:
        items.append(MessageIn(m.role, parts))


def _item(b: Block) -> Any:
    kind = type(b)
    if kind is ToolCallBlock:
        return FunctionCallIn(b.id, b.name, b.arguments or "{}")
    if kind is ToolResultBlock:
        return FunctionCallOutputIn(b.tool_call_id, _tool_output(b.content))
    if kind is ThinkingBlock and b.id is not None and is_own(b.signature_source, NAME):
        summary = [SummaryText(b.thinking)] if b.thinking else []
        return ReasoningIn(summary, b.id or msgspec.UNSET, b.signature)
    if kind is UnknownBlock and b.source == ITEM_SOURCE and isinstance(b.raw, dict):
        return b.raw
    return None


def _output_part(b: Block) -> Any:
    if type(b) is TextBlock:
        return OutputTextIn(b.text)
    if type(b) is UnknownBlock and b.source == NAME:
        return b.raw
    return None


def _input_part(b: Block) -> Any:
    kind = type(b)
    if kind is TextBlock:
        return InputText(b.text)
    if kind is ImageBlock:
        url = b.url if b.url else f"data:{b.media_type or 'image/png'};base64,{b.data or ''}"
        return InputImage(url, b.detail or "auto")
    if kind is DocumentBlock:
        return _document_part(b)
    if kind is UnknownBlock and b.source == NAME:
        return b.raw
    return None


def _document_part(b: DocumentBlock) -> Any:
    if b.text is not None:
        return InputText(b.text)
    if b.url:
        return InputFile(file_url=b.url, filename=b.title)
    data = f"data:{b.media_type or 'application/pdf'};base64,{b.data or ''}"
    return InputFile(file_data=data, filename=b.title or "document")


def _tool_output(content: list[Any]) -> str | list[Any]:
    if len(content) == 1 and type(content[0]) is TextBlock:
        return content[0].text
    if not content:
        return ""
    return [p for b in content if (p := _input_part(b)) is not None]
