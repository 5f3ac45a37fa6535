"""Gemini ``generateContent`` request bodies: a client's → canonical ``Request``, and back.

The body is decoded to plain dicts, then read field by field: Google's endpoint accepts both
lowerCamelCase and snake_case keys (its own REST samples use ``system_instruction`` and
``inline_data``), so known snake_case keys are renamed at the structural levels only — never
inside user data such as function ``args``, ``response`` objects or JSON Schemas. Unknown
fields are kept in ``Request.extra["gemini"]`` (see ``omniroute.formats.gemini`` for the
table). Bad input raises ``GatewayError(INVALID_REQUEST, param=<dotted.path>)`` with camelCase
names.

Contents and parts, both ways, are in ``content``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.canonical import (
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    TextBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    system_reminder,
)
from omniroute.formats.gemini.content import decode_contents, encode_parts
from omniroute.formats.gemini.schema import from_gemini, to_gemini
from omniroute.formats.gemini.wire import ENCODER, Content, FunctionDeclaration, Part, camel, get, invalid

_TOP_KNOWN = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "model"})
_GEN_KNOWN = frozenset({"maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "thinkingConfig"})

_body_decoder = msgspec.json.Decoder(dict[str, Any])


def decode_request(body: bytes) -> Request:
    """A client body → ``Request`` with ``model=""`` (the model is in the URL) and ``stream=False``
    (the path decides); ``include_usage`` is True: Gemini always reports usage."""
    try:
        raw = camel(_body_decoder.decode(body))
    except msgspec.ValidationError:
        raise invalid("request body must be a JSON object", None) from None
    except msgspec.DecodeError as exc:
        raise invalid(f"request body is not valid JSON: {exc}", None) from None
    contents = get(raw, "contents", list, "contents")
    if not contents:
        raise invalid("contents must be a non-empty array", "contents")
    req = Request(model="", messages=decode_contents(contents), include_usage=True)
    req.system = _decode_system(raw.get("systemInstruction"))
    extra: dict[str, Any] = {k: v for k, v in raw.items() if k not in _TOP_KNOWN}
    _decode_tools(raw, req, extra)
    _decode_generation(camel(get(raw, "generationConfig", dict, "generationConfig", {})), req, extra)
    if extra:
        req.extra = {"gemini": extra}
    return req


def _decode_system(system: Any) -> list[TextBlock]:
    if system is None:
        return []
    if isinstance(system, str):
        return [TextBlock(system)]
    if not isinstance(system, dict):
        raise invalid("systemInstruction must be an object", "systemInstruction")
    parts = get(system, "parts", list, "systemInstruction.parts", [])
    texts = [p.get("text") for p in parts if isinstance(p, dict)]
    return [TextBlock(t) for t in texts if isinstance(t, str)]


def _decode_tools(raw: dict[str, Any], req: Request, extra: dict[str, Any]) -> None:
    others: list[dict[str, Any]] = []
    for ti, tool in enumerate(get(raw, "tools", list, "tools", [])):
        if not isinstance(tool, dict):
            raise invalid(f"tools.{ti} must be an object", f"tools.{ti}")
        camel(tool)
        for di, decl in enumerate(get(tool, "functionDeclarations", list, f"tools.{ti}.functionDeclarations", [])):
            req.tools.append(_decode_declaration(decl, f"tools.{ti}.functionDeclarations.{di}"))
        rest = {k: v for k, v in tool.items() if k != "functionDeclarations"}
        if rest:
            others.append(rest)  # googleSearch, codeExecution, urlContext...: Gemini-only tools
    if others:
        extra["tools"] = others
    config = get(raw, "toolConfig", dict, "toolConfig")
    if config is not None:
        req.tool_choice, keep = _decode_tool_config(camel(config))
        if keep:
            extra["toolConfig"] = config


def _decode_declaration(decl: Any, path: str) -> Tool:
    if not isinstance(decl, dict):
        raise invalid(f"{path} must be an object", path)
    camel(decl)
    name = get(decl, "name", str, path + ".name")
    if not name:
        raise invalid(f"{path}.name is required", path + ".name")
    schema = get(decl, "parametersJsonSchema", dict, path + ".parametersJsonSchema")
    if schema is None:
        schema = from_gemini(get(decl, "parameters", dict, path + ".parameters"))
    return Tool(name=name, description=get(decl, "description", str, path + ".description"), parameters=schema)


def _decode_tool_config(config: dict[str, Any]) -> tuple[ToolChoice | None, bool]:
    """``toolConfig`` → (tool choice, whether the raw config must be kept in ``extra``)."""
    path = "toolConfig.functionCallingConfig"
    fcc = camel(get(config, "functionCallingConfig", dict, path, {}))
    mode = str(get(fcc, "mode", str, path + ".mode", "AUTO")).upper()
    names = get(fcc, "allowedFunctionNames", list, path + ".allowedFunctionNames", [])
    keep = len(config) > 1 or len(names) > 1 or mode not in ("AUTO", "ANY", "NONE")
    if mode == "NONE":
        return ToolChoice(mode=ToolChoiceMode.NONE), keep
    if mode == "ANY" and len(names) == 1:
        return ToolChoice(mode=ToolChoiceMode.TOOL, name=str(names[0])), keep
    if mode == "ANY":
        return ToolChoice(mode=ToolChoiceMode.REQUIRED), keep
    return ToolChoice(mode=ToolChoiceMode.AUTO), keep


def _decode_generation(gen: dict[str, Any], req: Request, extra: dict[str, Any]) -> None:
    p = "generationConfig."
    req.max_tokens = get(gen, "maxOutputTokens", int, p + "maxOutputTokens")
    req.temperature = get(gen, "temperature", float, p + "temperature")
    req.top_p = get(gen, "topP", float, p + "topP")
    req.top_k = get(gen, "topK", int, p + "topK")
    stop = get(gen, "stopSequences", list, p + "stopSequences", [])
    if not all(isinstance(s, str) for s in stop):
        raise invalid(p + "stopSequences must be an array of strings", p + "stopSequences")
    req.stop = stop
    thinking = get(gen, "thinkingConfig", dict, p + "thinkingConfig")
    if thinking is not None:
        req.reasoning = _decode_thinking(camel(thinking))
    known = _GEN_KNOWN | _decode_response_format(gen, req)
    rest = {k: v for k, v in gen.items() if k not in known}
    if rest:
        extra["generationConfig"] = rest


def _decode_thinking(config: dict[str, Any]) -> Reasoning:
    p = "generationConfig.thinkingConfig."
    budget = get(config, "thinkingBudget", int, p + "thinkingBudget")
    level = get(config, "thinkingLevel", str, p + "thinkingLevel")
    include = get(config, "includeThoughts", bool, p + "includeThoughts", False)
    return Reasoning(
        enabled=budget != 0,
        effort=level.lower() if level else None,
        budget_tokens=budget if budget and budget > 0 else None,  # -1 = dynamic = model default
        include_thoughts=include,
    )


def _decode_response_format(gen: dict[str, Any], req: Request) -> frozenset[str]:
    """JSON output settings → ``response_format``; returns the keys it consumed."""
    p = "generationConfig."
    mime = get(gen, "responseMimeType", str, p + "responseMimeType")
    if mime != "application/json":
        return frozenset({"responseMimeType"}) if mime == "text/plain" else frozenset()
    schema = get(gen, "responseJsonSchema", dict, p + "responseJsonSchema")
    if schema is None:
        schema = from_gemini(get(gen, "responseSchema", dict, p + "responseSchema"))
    kind = "json_schema" if schema else "json_object"
    req.response_format = ResponseFormat(type=kind, schema=schema)
    return frozenset({"responseMimeType", "responseSchema", "responseJsonSchema"})


_CHOICE_MODES = {
    ToolChoiceMode.AUTO: "AUTO",
    ToolChoiceMode.NONE: "NONE",
    ToolChoiceMode.REQUIRED: "ANY",
    ToolChoiceMode.TOOL: "ANY",
}


def encode_request(req: Request, model: str) -> bytes:
    """Canonical → a ``generateContent`` body (``model`` belongs in the URL, not here)."""
    extra: dict[str, Any] = req.extra.get("gemini") or {}
    names = {b.id: b.name for m in req.messages for b in m.content if type(b) is ToolCallBlock}
    body: dict[str, Any] = {
        "contents": _merge_turns([c for i, m in enumerate(req.messages) if (c := _encode_message(m, names, i)).parts])
    }
    body.update((k, v) for k, v in extra.items() if k not in ("tools", "generationConfig"))
    if req.system:
        body["systemInstruction"] = Content(parts=[Part(text=b.text) for b in req.system])
    tools = _encode_tools(req) + list(extra.get("tools") or [])
    if tools:
        body["tools"] = tools
    if req.tool_choice is not None and "toolConfig" not in extra:
        config: dict[str, Any] = {"mode": _CHOICE_MODES[req.tool_choice.mode]}
        if req.tool_choice.mode is ToolChoiceMode.TOOL and req.tool_choice.name:
            config["allowedFunctionNames"] = [req.tool_choice.name]
        body["toolConfig"] = {"functionCallingConfig": config}
    generation = {**(extra.get("generationConfig") or {}), **_encode_generation(req)}
    if generation:
        body["generationConfig"] = generation
    return ENCODER.encode(body)


def _merge_turns(contents: list[Content]) -> list[Content]:
    """Adjacent contents of one role become one (a folded system message next to its user turn)."""
    out: list[Content] = []
    for c in contents:
        if out and out[-1].role == c.role:
            out[-1] = Content(parts=[*out[-1].parts, *c.parts], role=c.role)
        else:
            out.append(c)
    return out


def _encode_message(msg: Message, names: dict[str, str], index: int) -> Content:
    if msg.role == "system":  # contents take user/model turns only: a reminder in a user turn
        return Content(parts=[Part(text=system_reminder(msg).text)], role="user")
    role = "model" if msg.role == "assistant" else "user"
    return Content(parts=encode_parts(msg.content, names, f"messages.{index}"), role=role)


def _encode_tools(req: Request) -> list[dict[str, Any]]:
    decls = []
    for tool in req.tools:
        params = to_gemini(tool.parameters) if tool.parameters else None
        if not params or (params.get("type") == "OBJECT" and "properties" not in params):
            params = None  # no arguments: Gemini rejects an OBJECT without properties
        decls.append(FunctionDeclaration(tool.name, tool.description, params))
    return [{"functionDeclarations": decls}] if decls else []


def _encode_generation(req: Request) -> dict[str, Any]:
    gen: dict[str, Any] = {}
    for key, value in (
        ("maxOutputTokens", req.max_tokens),
        ("temperature", req.temperature),
        ("topP", req.top_p),
        ("topK", req.top_k),
    ):
        if value is not None:
            gen[key] = value
    if req.stop:
        gen["stopSequences"] = req.stop
    fmt = req.response_format
    if fmt is not None and fmt.type != "text":
        gen["responseMimeType"] = "application/json"
        if fmt.type == "json_schema" and fmt.schema:
            gen["responseJsonSchema"] = fmt.schema
    if req.reasoning is not None:
        gen["thinkingConfig"] = _encode_thinking(req)
    return gen


def _encode_thinking(req: Request) -> dict[str, Any]:
    r = req.reasoning
    assert r is not None
    if not r.enabled:
        return {"thinkingBudget": 0}
    config: dict[str, Any] = {"includeThoughts": r.include_thoughts is not False}
    if r.budget_tokens is not None:
        config["thinkingBudget"] = r.budget_tokens
    elif r.effort:
        config["thinkingLevel"] = r.effort.upper()
    return config
