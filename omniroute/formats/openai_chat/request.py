"""OpenAI Chat Completions requests: client body → canonical ``Request`` and back.

The field map, and what is lossy, is in the docstring of ``omniroute.formats.openai_chat``;
content parts are converted in ``content``.
"""

from __future__ import annotations

from typing import Any, Literal

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
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
    UnknownBlock,
)
from omniroute.canonical.envelope import unpack_call_id
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import unsupported_role
from omniroute.formats.openai_chat.content import decode_content, encode_content
from omniroute.formats.openai_chat.wire import NAME, Function, OutToolCall, decode_checked, encoder, unsupported


def invalid_param(message: str, param: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


class _ToolCall(msgspec.Struct):
    id: str
    function: Function
    type: str = "function"


class _Message(msgspec.Struct):
    role: str
    content: str | list[msgspec.Raw] | None = None
    name: str | None = None
    tool_calls: list[_ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    function_call: Any = None  # legacy: UNSUPPORTED
    audio: Any = None  # previous audio answer: UNSUPPORTED


class _FunctionDef(msgspec.Struct):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class _ToolDef(msgspec.Struct):
    type: str = "function"
    function: _FunctionDef | None = None


class _NamedFunction(msgspec.Struct):
    name: str


class _NamedToolChoice(msgspec.Struct):
    type: str = "function"
    function: _NamedFunction | None = None


class _JSONSchema(msgspec.Struct):
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


class _ResponseFormat(msgspec.Struct):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: _JSONSchema | None = None


class _StreamOptions(msgspec.Struct):
    include_usage: bool | None = None


class _ChatRequest(msgspec.Struct):
    model: str
    messages: list[_Message]
    tools: list[_ToolDef] | None = None
    tool_choice: Literal["auto", "none", "required"] | _NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: str | list[str] | None = None
    stream: bool | None = None
    stream_options: _StreamOptions | None = None
    reasoning_effort: str | None = None
    response_format: _ResponseFormat | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None


_request_decoder = msgspec.json.Decoder(_ChatRequest)
_keys_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_KNOWN = frozenset(_ChatRequest.__struct_fields__)


def decode_request(body: bytes) -> Request:
    wire: _ChatRequest = decode_checked(_request_decoder, body)
    if not wire.messages:
        raise invalid_param("`messages` must not be empty", "messages")
    system, messages = _decode_messages(wire.messages)
    max_tokens = wire.max_completion_tokens if wire.max_completion_tokens is not None else wire.max_tokens
    return Request(
        model=wire.model,
        messages=messages,
        system=system,
        tools=_decode_tools(wire.tools),
        tool_choice=_decode_tool_choice(wire.tool_choice, wire.parallel_tool_calls),
        max_tokens=max_tokens,
        temperature=wire.temperature,
        top_p=wire.top_p,
        stop=[wire.stop] if isinstance(wire.stop, str) else wire.stop or [],
        stream=bool(wire.stream),
        include_usage=bool(wire.stream_options and wire.stream_options.include_usage),
        reasoning=_decode_reasoning(wire.reasoning_effort),
        response_format=_decode_response_format(wire.response_format),
        user=wire.user,
        metadata=wire.metadata,
        extra=_decode_extra(body),
    )


def _decode_extra(body: bytes) -> dict[str, Any]:
    """Top-level fields without a canonical slot, kept under ``extra["openai_chat"]``."""
    extra = {k: msgspec.json.decode(v) for k, v in _keys_decoder.decode(body).items() if k not in _KNOWN}
    return {NAME: extra} if extra else {}


def _decode_messages(wire: list[_Message]) -> tuple[list[TextBlock], list[Message]]:
    system: list[TextBlock] = []
    out: list[Message] = []
    names: dict[str, str] = {}  # tool call id -> function name, for tool results
    after_tool = False
    for i, m in enumerate(wire):
        path = f"messages[{i}]"
        if m.role in ("system", "developer"):
            if out:  # after the first turn: a system message at its position
                out.append(Message("system", _decode_system(m.content, path)))  # type: ignore[arg-type]
            else:
                system += _decode_system(m.content, path)
        elif m.role == "user":
            if m.content is None:
                raise invalid_param("user messages need `content`", path + ".content")
            out.append(Message("user", decode_content(m.content, path), m.name))
        elif m.role == "assistant":
            out.append(_decode_assistant(m, path, names))
        elif m.role == "tool":
            result = _decode_tool_result(m, path, names)
            if after_tool:
                out[-1].content.append(result)
            else:
                out.append(Message("user", [result]))
        elif m.role == "function":
            raise unsupported("legacy `function` messages are not supported; use `tool`", path + ".role")
        else:
            raise unsupported_role(NAME, m.role, path + ".role")
        after_tool = m.role == "tool"
    return system, out


def _decode_system(content: str | list[msgspec.Raw] | None, path: str) -> list[TextBlock]:
    if content is None:
        raise invalid_param("system messages need `content`", path + ".content")
    blocks = decode_content(content, path)
    for j, block in enumerate(blocks):
        if type(block) is not TextBlock:
            raise invalid_param("system messages take text parts only", f"{path}.content[{j}]")
    return blocks  # type: ignore[return-value]


def _decode_assistant(m: _Message, path: str, names: dict[str, str]) -> Message:
    if m.function_call is not None:
        raise unsupported("legacy `function_call` is not supported; use `tool_calls`", path + ".function_call")
    if m.audio is not None:
        raise unsupported("assistant `audio` history is not supported", path + ".audio")
    blocks: list[Block] = []
    if m.reasoning_content:
        blocks.append(ThinkingBlock(m.reasoning_content))
    if isinstance(m.content, list):
        blocks += decode_content(m.content, path)
    elif m.content:
        blocks.append(TextBlock(m.content))
    if m.refusal:
        blocks.append(TextBlock(m.refusal))
    for k, call in enumerate(m.tool_calls or ()):
        if call.type != "function":
            raise unsupported(f"tool call type {call.type!r} is not supported", f"{path}.tool_calls[{k}].type")
        call_id, carried = unpack_call_id(call.id)  # a Gemini signature the gateway packed into it
        names[call_id] = call.function.name
        signature, source = (carried.payload, carried.source) if carried is not None else (None, None)
        blocks.append(ToolCallBlock(call_id, call.function.name, call.function.arguments, signature, source))
    return Message("assistant", blocks, m.name)


def _decode_tool_result(m: _Message, path: str, names: dict[str, str]) -> ToolResultBlock:
    if not m.tool_call_id:
        raise invalid_param("tool messages need `tool_call_id`", path + ".tool_call_id")
    content = decode_content(m.content, path) if m.content is not None else []
    call_id = unpack_call_id(m.tool_call_id)[0]
    return ToolResultBlock(call_id, content, False, names.get(call_id))  # type: ignore[arg-type]


def _decode_tools(tools: list[_ToolDef] | None) -> list[Tool]:
    out: list[Tool] = []
    for i, tool in enumerate(tools or ()):
        if tool.type != "function":
            raise unsupported(f"tool type {tool.type!r} is not supported", f"tools[{i}].type")
        fn = tool.function
        if fn is None:
            raise invalid_param("missing required field", f"tools[{i}].function")
        out.append(Tool(fn.name, fn.description, fn.parameters, fn.strict))
    return out


def _decode_tool_choice(choice: str | _NamedToolChoice | None, parallel: bool | None) -> ToolChoice | None:
    if choice is None:
        return None if parallel is None else ToolChoice(parallel=parallel)
    if isinstance(choice, str):
        return ToolChoice(ToolChoiceMode(choice), None, parallel)
    if choice.type != "function":
        raise unsupported(f"tool_choice type {choice.type!r} is not supported", "tool_choice.type")
    if choice.function is None:
        raise invalid_param("missing required field", "tool_choice.function")
    return ToolChoice(ToolChoiceMode.TOOL, choice.function.name, parallel)


def _decode_reasoning(effort: str | None) -> Reasoning | None:
    if effort is None:
        return None
    return Reasoning(enabled=effort != "none", effort=effort)


def _decode_response_format(fmt: _ResponseFormat | None) -> ResponseFormat | None:
    if fmt is None or fmt.type != "json_schema":
        return None if fmt is None else ResponseFormat(fmt.type)
    if fmt.json_schema is None:
        raise invalid_param("missing required field", "response_format.json_schema")
    js = fmt.json_schema
    return ResponseFormat("json_schema", js.schema, js.name, js.strict)


class _OutMessage(msgspec.Struct, omit_defaults=True):
    role: str
    content: Any = None
    name: str | None = None
    tool_calls: list[OutToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None


def encode_request(req: Request, model: str) -> bytes:
    own = req.extra.get(NAME)  # only what an OpenAI Chat client sent; other formats' extras stay out
    body: dict[str, Any] = {k: v for k, v in own.items() if k not in _KNOWN} if isinstance(own, dict) else {}
    body["model"] = model
    body["messages"] = _encode_messages(req)
    if req.tools:
        body["tools"] = [_encode_tool(t) for t in req.tools]
        _encode_tool_choice(req.tool_choice, body)
    if req.max_tokens is not None:
        body["max_completion_tokens"] = req.max_tokens
    for key in ("temperature", "top_p", "user", "metadata"):
        if (value := getattr(req, key)) is not None:
            body[key] = value
    if req.stop:
        body["stop"] = req.stop
    if req.stream:  # always ask for usage: the gateway needs it (StreamEncoder hides it again)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if req.reasoning is not None and (effort := _encode_effort(req.reasoning)):
        body["reasoning_effort"] = effort
    if req.response_format is not None:
        body["response_format"] = _encode_response_format(req.response_format)
    return encoder.encode(body)


def _encode_tool(tool: Tool) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        fn["description"] = tool.description
    fn["parameters"] = tool.parameters if tool.parameters is not None else {"type": "object", "properties": {}}
    if tool.strict is not None:
        fn["strict"] = tool.strict
    return {"type": "function", "function": fn}


def _encode_tool_choice(choice: ToolChoice | None, body: dict[str, Any]) -> None:
    if choice is None:
        return
    if choice.mode is ToolChoiceMode.TOOL:
        body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    else:
        body["tool_choice"] = choice.mode.value
    if choice.parallel is not None:
        body["parallel_tool_calls"] = choice.parallel


def _encode_effort(reasoning: Reasoning) -> str | None:
    if reasoning.effort is not None:
        return reasoning.effort
    if not reasoning.enabled or reasoning.budget_tokens is None:
        return None
    budget = reasoning.budget_tokens
    return "low" if budget < 2048 else "medium" if budget < 8192 else "high"


def _encode_response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    schema: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema or {}}
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": schema}


def _encode_messages(req: Request) -> list[_OutMessage]:
    out = [_OutMessage("system", encode_content([block], "system")) for block in req.system]
    for i, message in enumerate(req.messages):
        if message.role == "assistant":
            out.append(_encode_assistant(message, f"messages[{i}]"))
        elif message.role == "system":
            out.append(_OutMessage("system", encode_content(message.content, f"messages[{i}]")))
        else:
            out += _encode_user(message, f"messages[{i}]")
    return out


def _encode_user(message: Message, path: str) -> list[_OutMessage]:
    """Tool results first (as ``tool`` messages), then the rest as one ``user`` message."""
    out: list[_OutMessage] = []
    rest: list[Block] = []
    for block in message.content:
        if type(block) is not ToolResultBlock:
            continue
        texts = [b for b in block.content if type(b) is TextBlock or type(b) is UnknownBlock]
        rest += [b for b in block.content if type(b) is ImageBlock or type(b) is DocumentBlock]
        content = encode_content(texts, path) if texts else ""
        out.append(_OutMessage("tool", content or "", tool_call_id=block.tool_call_id))
    rest += [b for b in message.content if type(b) is not ToolResultBlock]
    content = encode_content(rest, path) if rest else []
    if content != []:  # nothing this format can carry: no empty user message
        out.append(_OutMessage("user", content, message.name))
    return out


def _encode_assistant(message: Message, path: str) -> _OutMessage:
    blocks = message.content
    thinking = "".join(b.thinking for b in blocks if type(b) is ThinkingBlock)
    calls = [
        OutToolCall(b.id, Function(b.name, b.arguments or "{}")) for b in blocks if type(b) is ToolCallBlock
    ]
    texts = [b for b in blocks if type(b) is TextBlock or type(b) is UnknownBlock]
    content = encode_content(texts, path) if texts else None
    if content is None and not calls:
        content = ""
    return _OutMessage("assistant", content, message.name, calls or None, None, thinking or None)
