"""OpenAI Responses: the wire Structs and validation helpers shared by the package.

The response object, its output items and usage are decoded through generic views
(``OutputItem``, ``ResponseBody``: ``type`` says which fields matter) and encoded as tagged
Structs the ``openai`` SDK parses; the input items of a request body are tagged Structs too.
Validation errors name the dotted path (``input.3.content.0``). The mapping tables live in the
docstring of ``omniroute.formats.openai_responses``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError

NAME = "openai_responses"
#: ``UnknownBlock.source`` of a whole Responses *item* (not a content part): the Responses
#: encoders put it back as an item, every other format drops it.
ITEM_SOURCE = "openai_responses/item"


class SummaryPart(msgspec.Struct):
    text: str = ""
    type: str = "summary_text"


class OutputPart(msgspec.Struct):
    type: str
    text: str | None = None
    refusal: str | None = None


class OutputItem(msgspec.Struct):
    """Generic view of one output item; ``type`` picks which fields matter."""

    type: str
    id: str | None = None
    content: list[OutputPart] | None = None
    summary: list[SummaryPart] | None = None
    encrypted_content: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


class _InDetails(msgspec.Struct):
    cached_tokens: int | None = 0
    cache_write_tokens: int | None = 0


class _OutDetails(msgspec.Struct):
    reasoning_tokens: int | None = 0


class WireUsage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    input_tokens_details: _InDetails | None = None
    output_tokens_details: _OutDetails | None = None


class Incomplete(msgspec.Struct):
    reason: str | None = None


class WireError(msgspec.Struct):
    message: str = ""
    code: str | None = None


class ResponseBody(msgspec.Struct):
    id: str = ""
    model: str = ""
    created_at: float | None = None
    status: str | None = None
    output: list[msgspec.Raw] | None = None
    usage: WireUsage | None = None
    incomplete_details: Incomplete | None = None
    error: WireError | None = None


class OutputText(msgspec.Struct, tag_field="type", tag="output_text"):
    text: str
    annotations: list[Any] = msgspec.field(default_factory=list)
    logprobs: list[Any] = msgspec.field(default_factory=list)


class MessageItem(msgspec.Struct, tag_field="type", tag="message"):
    id: str
    status: str = "completed"
    content: list[OutputText] = msgspec.field(default_factory=list)
    role: str = "assistant"


class SummaryText(msgspec.Struct, tag_field="type", tag="summary_text"):
    text: str


class ReasoningItem(msgspec.Struct, tag_field="type", tag="reasoning"):
    id: str
    summary: list[SummaryText] = msgspec.field(default_factory=list)
    encrypted_content: str | None = None


class FunctionCallItem(msgspec.Struct, tag_field="type", tag="function_call"):
    id: str
    call_id: str
    name: str
    arguments: str = ""
    status: str = "completed"


class _InDetailsOut(msgspec.Struct):
    cached_tokens: int
    cache_write_tokens: int


class _OutDetailsOut(msgspec.Struct):
    reasoning_tokens: int


class UsageOut(msgspec.Struct):
    input_tokens: int
    input_tokens_details: _InDetailsOut
    output_tokens: int
    output_tokens_details: _OutDetailsOut
    total_tokens: int


class IncompleteOut(msgspec.Struct):
    reason: str


class ErrorOut(msgspec.Struct):
    code: str
    message: str


class ResponseObject(msgspec.Struct):
    """The full response object; every field the ``openai`` SDK requires is present."""

    id: str
    created_at: int
    model: str
    status: str = "completed"
    output: list[Any] = msgspec.field(default_factory=list)
    usage: UsageOut | None = None
    error: ErrorOut | None = None
    incomplete_details: IncompleteOut | None = None
    object: str = "response"
    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: dict[str, Any] = msgspec.field(default_factory=lambda: {"effort": None, "summary": None})
    store: bool = False
    temperature: float | None = None
    text: dict[str, Any] = msgspec.field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: str = "auto"
    tools: list[Any] = msgspec.field(default_factory=list)
    top_p: float | None = None
    truncation: str = "disabled"
    user: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


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


class _TypeView(msgspec.Struct):
    type: Any = None
    role: Any = None


_type_decoder = msgspec.json.Decoder(_TypeView)


def invalid(message: str, param: str | None) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def from_validation(exc: msgspec.ValidationError, prefix: str) -> GatewayError:
    """A msgspec error inside the value at ``prefix`` → INVALID_REQUEST naming the dotted path."""
    msg, _, at = str(exc).partition(" - at `$")
    sub = at.rstrip("`").replace("[", ".").replace("]", "").lstrip(".")
    if msg.startswith("Object missing required field"):
        field = msg.split("`")[1]
        sub = f"{sub}.{field}" if sub else field
        msg = f"missing required field `{field}`"
    return invalid(msg, f"{prefix}.{sub}" if sub else prefix)


def decode_at(decoder: msgspec.json.Decoder, raw: msgspec.Raw, path: str) -> Any:
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise from_validation(exc, path) from None


def type_of(raw: msgspec.Raw, path: str) -> Any:
    """The item/part type of a value that failed to decode (a typeless item with a role is a message)."""
    view = decode_at(_type_decoder, raw, path)
    return "message" if view.type is None and view.role is not None else view.type
