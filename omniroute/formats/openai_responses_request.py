"""OpenAI Responses: canonical ``Request`` → upstream ``/v1/responses`` body (``encode_request``).

The field table and what is lossy are in ``omniroute.formats.openai_responses``. Messages
become input items in order: user content parts are grouped into one ``message`` item until
a tool result (→ ``function_call_output``) or a raw item interrupts; assistant text blocks are
grouped into one ``message`` item of ``output_text`` parts; tool calls → ``function_call``;
thinking with an ``id`` that is Responses' own (``signature_source`` ``openai_responses`` or
unknown) → ``reasoning`` (``encrypted_content`` = signature); another provider's thinking has no
item here and is not sent (its signature would be refused).
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    DocumentBlock,
    ImageBlock,
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
    UnknownBlock,
)
from omniroute.canonical.envelope import is_own
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_responses_output import ITEM_SOURCE, NAME, SummaryText

#: keys of this format's own extras (``Request.extra["openai_responses"]``) sent back as
#: top-level fields; another format's extras never reach the body
PASSTHROUGH = (
    "store",
    "previous_response_id",
    "include",
    "truncation",
    "background",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "service_tier",
    "conversation",
    "max_tool_calls",
    "top_logprobs",
    "stream_options",
    "context_management",
)
ENCRYPTED_REASONING = "reasoning.encrypted_content"


class InputText(msgspec.Struct, tag_field="type", tag="input_text"):
    text: str


class InputImage(msgspec.Struct, tag_field="type", tag="input_image"):
    image_url: str
    detail: str = "auto"


class InputFile(msgspec.Struct, tag_field="type", tag="input_file", omit_defaults=True):
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None


class OutputTextIn(msgspec.Struct, tag_field="type", tag="output_text"):
    text: str
    annotations: list[Any] = msgspec.field(default_factory=list)


class MessageIn(msgspec.Struct, tag_field="type", tag="message"):
    role: str
    content: list[Any]


class FunctionCallIn(msgspec.Struct, tag_field="type", tag="function_call"):
    call_id: str
    name: str
    arguments: str


class FunctionCallOutputIn(msgspec.Struct, tag_field="type", tag="function_call_output"):
    call_id: str
    output: str | list[Any]


class ReasoningIn(msgspec.Struct, tag_field="type", tag="reasoning", omit_defaults=True):
    summary: list[SummaryText]
    id: str | msgspec.UnsetType = msgspec.UNSET
    encrypted_content: str | None = None


class FunctionTool(msgspec.Struct, tag_field="type", tag="function"):
    name: str
    parameters: dict[str, Any]
    strict: bool  # always sent: Responses treats a missing ``strict`` as true
    description: str | msgspec.UnsetType = msgspec.UNSET


_encoder = msgspec.json.Encoder()
_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def encode_request(req: Request, model: str) -> bytes:
    """Canonical ``Request`` → a ``/v1/responses`` body for ``model``."""
    if req.stop:
        raise GatewayError(ErrorKind.UNSUPPORTED, "the Responses API has no stop sequences", param="stop")
    items = encode_input(req.messages)
    body: dict[str, Any] = {"model": model, "input": items}
    if req.system:
        body["instructions"] = "\n\n".join(b.text for b in req.system)
    own: dict[str, Any] = req.extra.get(NAME) or {}
    _put_tools(body, req, own)
    _put_sampling(body, req, own)
    body.update((k, own[k]) for k in PASSTHROUGH if k in own)
    sent = any(type(i) is ReasoningIn and i.encrypted_content for i in items)
    _put_reasoning(body, req.reasoning, own, sent)
    return _encoder.encode(body)


def _put_tools(body: dict[str, Any], req: Request, own: dict[str, Any]) -> None:
    tools: list[Any] = [
        FunctionTool(t.name, t.parameters or _EMPTY_SCHEMA, bool(t.strict), _given(t.description)) for t in req.tools
    ]
    tools.extend(own.get("tools_builtin") or ())
    if tools:
        body["tools"] = tools
    choice = own.get("tool_choice_raw") or _tool_choice(req.tool_choice)
    if choice is not None:
        body["tool_choice"] = choice
    if req.tool_choice is not None and req.tool_choice.parallel is not None:
        body["parallel_tool_calls"] = req.tool_choice.parallel


def _given(value: str | None) -> str | msgspec.UnsetType:
    return msgspec.UNSET if value is None else value


def _tool_choice(choice: ToolChoice | None) -> str | dict[str, Any] | None:
    if choice is None:
        return None
    if choice.mode is ToolChoiceMode.TOOL:
        return {"type": "function", "name": choice.name}
    return choice.mode.value


def _put_sampling(body: dict[str, Any], req: Request, own: dict[str, Any]) -> None:
    if req.max_tokens is not None:
        body["max_output_tokens"] = req.max_tokens
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stream:
        body["stream"] = True
    text = _text_config(req.response_format, own.get("text_verbosity"))
    if text:
        body["text"] = text
    if req.user is not None:
        body["user"] = req.user
    if req.metadata is not None:
        body["metadata"] = req.metadata


def _text_config(fmt: ResponseFormat | None, verbosity: str | None) -> dict[str, Any]:
    text: dict[str, Any] = {}
    if fmt is not None:
        spec: dict[str, Any] = {"type": fmt.type}
        if fmt.type == "json_schema":
            spec.update(name=fmt.name or "response", schema=fmt.schema or {}, strict=bool(fmt.strict))
        text["format"] = spec
    if verbosity:
        text["verbosity"] = verbosity
    return text


def _effort(r: Reasoning) -> str | None:
    if r.effort is not None or r.budget_tokens is None:
        return r.effort
    return "low" if r.budget_tokens < 2048 else "medium" if r.budget_tokens < 16384 else "high"


def _put_reasoning(body: dict[str, Any], r: Reasoning | None, extra: dict[str, Any], sent: bool) -> None:
    """``reasoning`` plus the stateless-reasoning pair ``store: false`` / ``include``."""
    on = r is not None and (r.enabled or r.effort == "none")
    if on and r is not None:
        cfg: dict[str, Any] = {}
        effort = _effort(r) if r.enabled else "none"
        if effort is not None:
            cfg["effort"] = effort
        summary = extra.get("reasoning_summary") or ("auto" if r.include_thoughts else None)
        if summary is not None:
            cfg["summary"] = summary
        if cfg:
            body["reasoning"] = cfg
    if not (sent or (on and r is not None and r.enabled)):
        return
    if body.setdefault("store", False) is not False and not sent:
        return  # the client keeps reasoning server-side (store: true)
    include = list(body.get("include") or ())
    if ENCRYPTED_REASONING not in include:
        include.append(ENCRYPTED_REASONING)
    body["include"] = include


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
