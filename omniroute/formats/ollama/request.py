"""Ollama ``/api/chat`` request body ↔ canonical ``Request`` (both directions).

The field table and what is lossy are in ``ollama``'s docstring. Client bodies are decoded to a
dict (to find unknown top-level fields for ``extra["ollama"]``) and converted to Structs, so a
type error names its dotted path: ``GatewayError(INVALID_REQUEST, param="messages.2.role")``.
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
    Tool,
    ToolCallBlock,
    ToolChoiceMode,
    ToolResultBlock,
    text_of,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import unsupported_role
from omniroute.formats.ollama.wire import ENCODER, SYNTH_PREFIX, synth_id, wire_call


class _Function(msgspec.Struct):
    name: str
    arguments: dict[str, Any] | str = msgspec.field(default_factory=dict)


class _ToolCall(msgspec.Struct):
    function: _Function
    id: str | None = None


class _Message(msgspec.Struct):
    role: str
    content: str | None = None
    images: list[str] | None = None
    thinking: str | None = None
    tool_calls: list[_ToolCall] | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None


class _FunctionSpec(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class _Tool(msgspec.Struct):
    function: _FunctionSpec
    type: str = "function"


class _ChatRequest(msgspec.Struct):
    model: str
    messages: list[_Message] = msgspec.field(default_factory=list)
    tools: list[_Tool] = msgspec.field(default_factory=list)
    stream: bool = True
    format: str | dict[str, Any] | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    think: bool | str | None = None


_TOP_KNOWN = frozenset({"model", "messages", "tools", "stream", "format", "options", "think"})
_OPTIONS = {"temperature": (float, int), "top_p": (float, int), "top_k": int, "num_predict": int}
_IMAGE_MAGIC = (("iVBORw0KGgo", "image/png"), ("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))
_body_decoder = msgspec.json.Decoder(dict[str, Any])


def _invalid(message: str, param: str | None) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def _validation_error(exc: msgspec.ValidationError) -> GatewayError:
    """msgspec's "Expected `str`, got `int` - at `$.messages[0].content`" → message + dotted param."""
    text, _, at = str(exc).partition(" - at `$")
    path = at.rstrip("`").lstrip(".").replace("[", ".").replace("]", "")
    if text.startswith("Object missing required field `"):
        path = ".".join(p for p in (path, text.split("`")[1]) if p)
        return _invalid(f"missing required field {path}", path)
    if not path:
        return _invalid("request body must be a JSON object", None)
    return _invalid(f"{path}: {text}", path)


def decode_request(body: bytes) -> Request:
    """A client ``/api/chat`` body → ``Request`` (``stream`` defaults to True, as in Ollama)."""
    try:
        raw = _body_decoder.decode(body)
        chat = msgspec.convert(raw, _ChatRequest)
    except msgspec.ValidationError as exc:
        raise _validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise _invalid(f"request body is not valid JSON: {exc}", None) from None
    if not chat.model:
        raise _invalid("model is required", "model")
    req = Request(model=chat.model, stream=chat.stream, include_usage=True)
    req.tools = [Tool(t.function.name, t.function.description, t.function.parameters) for t in chat.tools]
    _decode_messages(chat.messages, req)
    extra = {k: v for k, v in raw.items() if k not in _TOP_KNOWN}
    options = _decode_options(chat.options, req)
    if options:
        extra["options"] = options
    req.response_format = _decode_format(chat.format)
    if chat.think is not None:
        effort = chat.think if isinstance(chat.think, str) else None
        req.reasoning = Reasoning(enabled=chat.think is not False, effort=effort)
    if extra:
        req.extra = {"ollama": extra}
    return req


def _decode_messages(messages: list[_Message], req: Request) -> None:
    pending: list[tuple[str, str]] = []  # (id, name) of calls not answered yet
    for i, msg in enumerate(messages):
        path = f"messages.{i}"
        if msg.role == "system":
            if req.messages:  # after the first turn: a system message at its position
                req.messages.append(Message(role="system", content=[TextBlock(msg.content or "")]))
            else:
                req.system.append(TextBlock(msg.content or ""))
        elif msg.role == "user":
            blocks: list[Block] = [TextBlock(msg.content)] if msg.content else []
            blocks += [ImageBlock(media_type=_sniff(d), data=d) for d in map(_strip_data_url, msg.images or [])]
            req.messages.append(Message(role="user", content=blocks))
        elif msg.role == "assistant":
            req.messages.append(Message(role="assistant", content=_assistant_blocks(msg, path, pending)))
        elif msg.role == "tool":
            result = _tool_result(msg, path, pending)
            last = req.messages[-1] if req.messages else None
            if last and last.role == "user" and last.content and type(last.content[-1]) is ToolResultBlock:
                last.content.append(result)
            else:
                req.messages.append(Message(role="user", content=[result]))
        else:
            raise unsupported_role("ollama", msg.role, path + ".role")


def _assistant_blocks(msg: _Message, path: str, pending: list[tuple[str, str]]) -> list[Block]:
    blocks: list[Block] = [ThinkingBlock(thinking=msg.thinking)] if msg.thinking else []
    if msg.content:
        blocks.append(TextBlock(msg.content))
    for j, call in enumerate(msg.tool_calls or []):
        args = call.function.arguments
        text = args if isinstance(args, str) else ENCODER.encode(args).decode()
        call_id = call.id or synth_id(f"{path}.tool_calls.{j}:{call.function.name}")
        pending.append((call_id, call.function.name))
        blocks.append(ToolCallBlock(id=call_id, name=call.function.name, arguments=text))
    return blocks


def _tool_result(msg: _Message, path: str, pending: list[tuple[str, str]]) -> ToolResultBlock:
    match = next((p for p in pending if p[0] == msg.tool_call_id), None) if msg.tool_call_id else None
    if match is None and msg.tool_name:
        match = next((p for p in pending if p[1] == msg.tool_name), None)
    if match is None and not msg.tool_name and pending:
        match = pending[0]
    if match is not None:
        pending.remove(match)
    call_id = msg.tool_call_id or (match[0] if match else synth_id(f"{path}:{msg.tool_name}"))
    name = msg.tool_name or (match[1] if match else None)
    return ToolResultBlock(tool_call_id=call_id, content=[TextBlock(msg.content or "")], name=name)


def _decode_options(options: dict[str, Any], req: Request) -> dict[str, Any]:
    """Known options → canonical fields; returns the rest (kept in extra)."""
    rest = dict(options)
    for key, kinds in _OPTIONS.items():
        value = rest.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise _invalid(f"options.{key} must be a number", f"options.{key}")
    req.temperature, req.top_p, req.top_k = (
        rest.pop("temperature", None),
        rest.pop("top_p", None),
        rest.pop("top_k", None),
    )
    if isinstance(rest.get("num_predict"), int) and rest["num_predict"] > 0:
        req.max_tokens = rest.pop("num_predict")  # -1 (unlimited) / -2 (fill context) stay in extra
    stop = rest.pop("stop", None)
    stop = [stop] if isinstance(stop, str) else stop
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise _invalid("options.stop must be a string or an array of strings", "options.stop")
    req.stop = stop or []
    return rest


def _decode_format(fmt: str | dict[str, Any] | None) -> ResponseFormat | None:
    if isinstance(fmt, dict):
        return ResponseFormat(type="json_schema", schema=fmt)
    if fmt == "json":
        return ResponseFormat(type="json_object")
    if fmt:
        raise _invalid('format must be "json" or a JSON Schema object', "format")
    return None


def _strip_data_url(data: str) -> str:
    return data.partition(";base64,")[2] if data.startswith("data:") else data


def _sniff(data: str | None) -> str | None:
    for prefix, mime in _IMAGE_MAGIC:
        if data and data.startswith(prefix):
            return mime
    return None


def encode_request(req: Request, model: str) -> bytes:
    """Canonical → an ``/api/chat`` body for ``model``."""
    extra: dict[str, Any] = req.extra.get("ollama") or {}
    names = {b.id: b.name for m in req.messages for b in m.content if type(b) is ToolCallBlock}
    messages: list[dict[str, Any]] = [{"role": "system", "content": b.text} for b in req.system]
    for i, msg in enumerate(req.messages):
        messages += _encode_message(msg, names, f"messages.{i}")
    body: dict[str, Any] = {k: v for k, v in extra.items() if k != "options"}
    body.update(model=model, messages=messages, stream=req.stream)
    tools = _encode_tools(req)
    if tools:
        body["tools"] = tools
    options = {**(extra.get("options") or {}), **_encode_options(req)}
    if options:
        body["options"] = options
    fmt = req.response_format
    if fmt is not None and fmt.type != "text":
        body["format"] = fmt.schema if fmt.type == "json_schema" and fmt.schema else "json"
    if req.reasoning is not None:
        effort = req.reasoning.effort if req.reasoning.effort in ("low", "medium", "high") else None
        body["think"] = effort or req.reasoning.enabled
    return ENCODER.encode(body)


def _encode_message(msg: Message, names: dict[str, str], path: str) -> list[dict[str, Any]]:
    if msg.role == "system":
        return [{"role": "system", "content": text_of(msg.content)}]
    if msg.role == "assistant":
        thinking = "".join(b.thinking for b in msg.content if type(b) is ThinkingBlock)
        out: dict[str, Any] = {"role": "assistant", "content": text_of(msg.content)}
        if thinking:
            out["thinking"] = thinking
        calls = [wire_call(b, i) for i, b in enumerate(b for b in msg.content if type(b) is ToolCallBlock)]
        if calls:
            out["tool_calls"] = calls
        return [out]
    records: list[dict[str, Any]] = []
    texts: list[str] = []
    images: list[str] = []
    for j, block in enumerate(msg.content):
        kind = type(block)
        if kind is ToolResultBlock:
            records.append(_encode_result(block, names))
        elif kind is TextBlock:
            texts.append(block.text)
        elif kind is ImageBlock or kind is DocumentBlock:
            _encode_media(block, texts, images, f"{path}.content.{j}")
    if texts or images:
        user: dict[str, Any] = {"role": "user", "content": "".join(texts)}
        if images:
            user["images"] = images
        records.append(user)
    return records


def _encode_result(block: ToolResultBlock, names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "tool", "content": text_of(block.content)}  # type: ignore[arg-type]
    name = block.name or names.get(block.tool_call_id)
    if name:
        out["tool_name"] = name
    if not block.tool_call_id.startswith(SYNTH_PREFIX):
        out["tool_call_id"] = block.tool_call_id
    return out


def _encode_media(block: ImageBlock | DocumentBlock, texts: list[str], images: list[str], path: str) -> None:
    url = block.url or ""
    data = block.data or (_strip_data_url(url) if url.startswith("data:") else None)
    if type(block) is ImageBlock and data:
        images.append(data)
    elif type(block) is DocumentBlock and block.text:
        texts.append(block.text)
    else:
        what = "images by URL (only base64 image data)" if type(block) is ImageBlock else "documents other than text"
        raise GatewayError(ErrorKind.UNSUPPORTED, f"Ollama does not accept {what}", param=path)


def _encode_tools(req: Request) -> list[dict[str, Any]]:
    choice = req.tool_choice
    if choice is not None and choice.mode is ToolChoiceMode.NONE:
        return []
    tools = req.tools
    if choice is not None and choice.mode is ToolChoiceMode.TOOL:
        tools = [t for t in tools if t.name == choice.name] or tools
    return [{"type": "function", "function": _FunctionSpec(t.name, t.description, t.parameters)} for t in tools]


def _encode_options(req: Request) -> dict[str, Any]:
    pairs = (
        ("temperature", req.temperature),
        ("top_p", req.top_p),
        ("top_k", req.top_k),
        ("num_predict", req.max_tokens),
    )
    options = {key: value for key, value in pairs if value is not None}
    if req.stop:
        options["stop"] = req.stop
    return options
