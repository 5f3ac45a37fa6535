"""OpenAI Responses requests: a client's ``/v1/responses`` body → canonical ``Request``, and back.

The field table and what is lossy are in ``omniroute.formats.openai_responses``. Decoding types
the known top-level fields one by one (an error names its dotted path) and keeps the rest in
``extra``; ``input`` items are folded into messages by ``input.InputReader``. Encoding builds
a plain dict: messages become input items (``input.encode_input``), and of ``extra`` only
known Responses fields are sent (``PASSTHROUGH``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import Reasoning, Request, ResponseFormat, TextBlock, Tool, ToolChoice, ToolChoiceMode
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_responses.input import InputReader, encode_input
from omniroute.formats.openai_responses.wire import NAME, ReasoningIn, decode_at, from_validation, invalid, type_of


class _ToolDef(msgspec.Struct):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class _ReasoningCfg(msgspec.Struct):
    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class _FormatCfg(msgspec.Struct):
    type: str = "text"
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


class _TextCfg(msgspec.Struct):
    format: _FormatCfg | None = None
    verbosity: str | None = None


_FIELD_TYPES: dict[str, Any] = {
    "model": str,
    "input": str | list[msgspec.Raw] | None,
    "instructions": str | None,
    "tools": list[msgspec.Raw] | None,
    "tool_choice": str | dict[str, Any] | None,
    "parallel_tool_calls": bool | None,
    "max_output_tokens": int | None,
    "temperature": float | None,
    "top_p": float | None,
    "stream": bool | None,
    "reasoning": _ReasoningCfg | None,
    "text": _TextCfg | None,
    "user": str | None,
    "metadata": dict[str, Any] | None,
}
_field_decoders = {k: msgspec.json.Decoder(t) for k, t in _FIELD_TYPES.items()}
_top_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_tool_decoder = msgspec.json.Decoder(_ToolDef)

_CHOICE_MODES = {"auto": ToolChoiceMode.AUTO, "none": ToolChoiceMode.NONE, "required": ToolChoiceMode.REQUIRED}


def _decode_fields(body: bytes) -> dict[str, Any]:
    """Top-level fields: known ones typed, the rest decoded as plain JSON (they go to ``extra``)."""
    try:
        top = _top_decoder.decode(body)
    except msgspec.ValidationError:
        raise invalid("request body must be a JSON object", None) from None
    except msgspec.DecodeError as exc:
        raise invalid(f"request body is not valid JSON: {exc}", None) from None
    fields: dict[str, Any] = {}
    for key, raw in top.items():
        decoder = _field_decoders.get(key)
        fields[key] = decode_at(decoder, raw, key) if decoder else msgspec.json.decode(raw)
    return fields


def decode_request(body: bytes) -> Request:
    """A client's ``/v1/responses`` body → canonical ``Request``."""
    f = _decode_fields(body)
    if "model" not in f:
        raise invalid("missing required field `model`", "model")
    extra: dict[str, Any] = {}
    reader = InputReader()
    if f.get("instructions"):
        reader.system.append(TextBlock(f["instructions"]))
    reader.read(f.get("input"))
    req = Request(
        model=f.pop("model"),
        messages=reader.messages,
        system=reader.system,
        tools=_tools(f.get("tools") or [], extra),
        tool_choice=_tool_choice(f.get("tool_choice"), f.get("parallel_tool_calls"), extra),
        max_tokens=f.get("max_output_tokens"),
        temperature=f.get("temperature"),
        top_p=f.get("top_p"),
        stream=bool(f.get("stream")),
        include_usage=bool(f.get("stream")),
        reasoning=_reasoning(f.get("reasoning"), extra),
        response_format=_text_format(f.get("text"), extra),
        user=f.get("user"),
        metadata=f.get("metadata"),
    )
    extra.update((k, v) for k, v in f.items() if k not in _FIELD_TYPES)
    req.extra = {NAME: extra} if extra else {}
    return req


def _tools(raws: list[msgspec.Raw], extra: dict[str, Any]) -> list[Tool]:
    tools: list[Tool] = []
    builtin: list[Any] = []
    for i, raw in enumerate(raws):
        path = f"tools.{i}"
        try:
            tool = _tool_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            if type_of(raw, path) in ("function", None):
                raise from_validation(exc, path) from None
            tool = None
        if tool is None or tool.type != "function":
            builtin.append(msgspec.json.decode(raw))
            continue
        if not tool.name:
            raise invalid("a function tool needs a `name`", f"{path}.name")
        tools.append(Tool(tool.name, tool.description, tool.parameters, tool.strict))
    if builtin:
        extra["tools_builtin"] = builtin
    return tools


def _tool_choice(value: str | dict[str, Any] | None, parallel: bool | None, extra: dict[str, Any]) -> ToolChoice | None:
    if value is None:
        return ToolChoice(parallel=parallel) if parallel is not None else None
    if isinstance(value, str):
        if value not in _CHOICE_MODES:
            raise invalid(f"tool_choice must be auto, none or required, not {value!r}", "tool_choice")
        return ToolChoice(_CHOICE_MODES[value], parallel=parallel)
    if value.get("type") == "function":
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("tool_choice of type function needs a `name`", "tool_choice.name")
        return ToolChoice(ToolChoiceMode.TOOL, name, parallel)
    extra["tool_choice_raw"] = value  # allowed_tools, a built-in tool type, mcp, custom …
    return ToolChoice(_CHOICE_MODES.get(value.get("mode"), ToolChoiceMode.AUTO), parallel=parallel)


def _reasoning(cfg: _ReasoningCfg | None, extra: dict[str, Any]) -> Reasoning | None:
    if cfg is None:
        return None
    summary = cfg.summary or cfg.generate_summary
    if summary:
        extra["reasoning_summary"] = summary
    thoughts = None if summary is None else summary != "none"
    return Reasoning(enabled=cfg.effort != "none", effort=cfg.effort, include_thoughts=thoughts)


def _text_format(text: _TextCfg | None, extra: dict[str, Any]) -> ResponseFormat | None:
    if text is None:
        return None
    if text.verbosity:
        extra["text_verbosity"] = text.verbosity
    fmt = text.format
    if fmt is None:
        return None
    if fmt.type not in ("text", "json_object", "json_schema"):
        raise invalid(f"unknown text.format type {fmt.type!r}", "text.format.type")
    if fmt.type == "json_schema" and fmt.schema is None:
        raise invalid("a json_schema format needs a `schema`", "text.format.schema")
    return ResponseFormat(fmt.type, fmt.schema, fmt.name, fmt.strict)  # type: ignore[arg-type]


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
    choice = own.get("tool_choice_raw") or _encode_tool_choice(req.tool_choice)
    if choice is not None:
        body["tool_choice"] = choice
    if req.tool_choice is not None and req.tool_choice.parallel is not None:
        body["parallel_tool_calls"] = req.tool_choice.parallel


def _given(value: str | None) -> str | msgspec.UnsetType:
    return msgspec.UNSET if value is None else value


def _encode_tool_choice(choice: ToolChoice | None) -> str | dict[str, Any] | None:
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
