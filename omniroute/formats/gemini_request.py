"""Gemini ``generateContent`` request body → canonical ``Request`` (the client side).

The body is decoded to plain dicts, then read field by field: Google's endpoint accepts both
lowerCamelCase and snake_case keys (its own REST samples use ``system_instruction`` and
``inline_data``), so known snake_case keys are renamed at the structural levels only — never
inside user data such as function ``args``, ``response`` objects or JSON Schemas. Unknown
fields are kept in ``Request.extra["gemini"]`` (see ``gemini`` for the table). Bad input raises
``GatewayError(INVALID_REQUEST, param=<dotted.path>)`` with camelCase names.

A ``thoughtSignature`` holding an envelope (``omniroute.canonical.envelope``: another format's
reasoning state the gateway gave this client) is unpacked into that format's signature, item
id and ``signature_source``; any other signature is Gemini's own (``signature_source="gemini"``).
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
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
    UnknownBlock,
    standard_base64,
)
from omniroute.canonical.envelope import decode_signature, decode_thinking
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import gemini_schema
from omniroute.formats.error_words import unsupported_role
from omniroute.formats.gemini_wire import ENCODER, SOURCE, synth_id

_SNAKE = {
    "system_instruction": "systemInstruction",
    "generation_config": "generationConfig",
    "tool_config": "toolConfig",
    "safety_settings": "safetySettings",
    "cached_content": "cachedContent",
    "function_declarations": "functionDeclarations",
    "function_calling_config": "functionCallingConfig",
    "allowed_function_names": "allowedFunctionNames",
    "parameters_json_schema": "parametersJsonSchema",
    "max_output_tokens": "maxOutputTokens",
    "top_p": "topP",
    "top_k": "topK",
    "stop_sequences": "stopSequences",
    "response_mime_type": "responseMimeType",
    "response_schema": "responseSchema",
    "response_json_schema": "responseJsonSchema",
    "thinking_config": "thinkingConfig",
    "thinking_budget": "thinkingBudget",
    "include_thoughts": "includeThoughts",
    "thinking_level": "thinkingLevel",
    "inline_data": "inlineData",
    "file_data": "fileData",
    "function_call": "functionCall",
    "function_response": "functionResponse",
    "thought_signature": "thoughtSignature",
    "mime_type": "mimeType",
    "file_uri": "fileUri",
}
_SNAKE_KEYS = frozenset(_SNAKE)
_TOP_KNOWN = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "model"})
_GEN_KNOWN = frozenset({"maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "thinkingConfig"})
_ROLES = {"user": "user", "model": "assistant", "function": "user"}
_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "an object",
}
_body_decoder = msgspec.json.Decoder(dict[str, Any])


def invalid(message: str, param: str | None) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def camel(d: dict[str, Any]) -> dict[str, Any]:
    """Rename the known snake_case keys of one structural level to camelCase, in place."""
    if not _SNAKE_KEYS.isdisjoint(d):
        for key in [k for k in d if k in _SNAKE_KEYS]:
            d.setdefault(_SNAKE[key], d.pop(key))
    return d


def get(d: dict[str, Any], key: str, kind: type, path: str, default: Any = None) -> Any:
    """``d[key]`` checked against ``kind`` (``float`` accepts ints; bools are not numbers)."""
    value = d.get(key)
    if value is None:
        return default
    ok = isinstance(value, (int, float) if kind is float else kind)
    if not ok or (kind in (int, float) and isinstance(value, bool)):
        raise invalid(f"{path} must be {_TYPE_NAMES[kind]}", path)
    return value


def need(d: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    """``d[key]``, which must be an object (``null`` included in "must")."""
    value = d.get(key)
    if not isinstance(value, dict):
        raise invalid(f"{path} must be an object", path)
    return value


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
    req = Request(model="", messages=_decode_contents(contents), include_usage=True)
    req.system = _decode_system(raw.get("systemInstruction"))
    extra: dict[str, Any] = {k: v for k, v in raw.items() if k not in _TOP_KNOWN}
    _decode_tools(raw, req, extra)
    _decode_generation(camel(get(raw, "generationConfig", dict, "generationConfig", {})), req, extra)
    if extra:
        req.extra = {"gemini": extra}
    return req


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


def _decode_contents(contents: list[Any]) -> list[Message]:
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
        schema = gemini_schema.from_gemini(get(decl, "parameters", dict, path + ".parameters"))
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
        schema = gemini_schema.from_gemini(get(gen, "responseSchema", dict, p + "responseSchema"))
    kind = "json_schema" if schema else "json_object"
    req.response_format = ResponseFormat(type=kind, schema=schema)
    return frozenset({"responseMimeType", "responseSchema", "responseJsonSchema"})
