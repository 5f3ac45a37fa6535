"""Google Gemini ``generateContent`` / ``streamGenerateContent``, as client and upstream format.

The module contract (``omniroute.formats``) is spread over: ``gemini_request`` (client body →
canonical), this module (canonical → upstream body, responses, errors, model list),
``gemini_stream`` (stream decoder/encoder), ``gemini_schema`` (JSON Schema ↔ Gemini Schema) and
``gemini_wire`` (Structs and tables). The model is in the URL (``models/{id}:generateContent``):
``decode_request`` leaves ``model`` empty and ``stream`` False for the server to fill in, and
``encode_request`` does not put the model in the body.

Request fields (Gemini ↔ canonical; snake_case spellings are accepted on decode):

=======================================  ===================================================
Gemini                                   canonical
=======================================  ===================================================
contents[].role user / model (function)  Message.role user / assistant
part text                                TextBlock
part text + thought: true                ThinkingBlock (thoughtSignature → signature);
                                         consecutive thought parts (a streamed thought
                                         sent back) are one block
part text + thoughtSignature (no thought) TextBlock + ThinkingBlock("", signature) after it;
                                         encode re-attaches such a signature to the text
                                         part before it
part inlineData / fileData image/*       ImageBlock data / url
part inlineData / fileData application/*, DocumentBlock data / url
text/*
other inlineData/fileData (audio, video) UnknownBlock(source="gemini"), passed back verbatim
part functionCall {name, args, id?}      ToolCallBlock (args → raw JSON text; no id → a
                                         synthesised ``gcall_…`` id; thoughtSignature on the
                                         part → signature). ``gcall_`` ids are never sent
                                         to Gemini; real ids are.
part functionResponse {name, response,   ToolResultBlock (name; id, else the id of the
id?, parts?}                             earliest unanswered call of that name, else a
                                         synthesised one; response → TextBlock of its JSON;
                                         a response of only ``error`` → is_error). Encode:
                                         a text that is a JSON object is sent as the
                                         response, other text as {"result": text} or
                                         {"error": text}; the name comes from the block or
                                         from the ToolCallBlock with the same id
systemInstruction.parts[].text           system
tools[].functionDeclarations             tools (parameters → Gemini Schema, see
(parameters | parametersJsonSchema)      ``gemini_schema``; parametersJsonSchema kept as is)
toolConfig.functionCallingConfig         tool_choice: AUTO → auto, NONE → none, ANY → required,
                                         ANY + one allowed name → tool(name)
generationConfig maxOutputTokens,        max_tokens, temperature, top_p, top_k, stop
temperature, topP, topK, stopSequences
responseMimeType application/json +      response_format json_object / json_schema (encode
responseJsonSchema | responseSchema      sends responseJsonSchema)
thinkingConfig thinkingBudget,           reasoning: budget 0 → enabled False, -1 (dynamic) →
includeThoughts, thinkingLevel           no budget; level ↔ effort (encode: LOW/MEDIUM/...,
                                         budget wins when both are set; includeThoughts
                                         defaults to true when the canonical leaves it open)
=======================================  ===================================================

``Request.extra["gemini"]`` keeps what has no canonical slot and is restored by
``encode_request``: unknown top-level fields (safetySettings, cachedContent, labels...), other
tool kinds (``tools``: googleSearch, codeExecution, urlContext...), unknown generationConfig
keys (``generationConfig``: seed, candidateCount, responseModalities, penalties...) and
``toolConfig`` when it says more than one tool choice (several allowed names, VALIDATED mode,
retrievalConfig). Namespacing under "gemini" keeps other formats' extras out of Gemini bodies.

Finish reasons (``gemini_wire.FINISH_REASONS``):

====================================================  =================================
Gemini finishReason                                    StopReason
====================================================  =================================
STOP                                                   end_turn (tool_use if the turn
                                                       has a functionCall)
MAX_TOKENS                                             max_tokens
SAFETY, RECITATION, LANGUAGE, BLOCKLIST,               content_filter
PROHIBITED_CONTENT, SPII, IMAGE_*                      (promptFeedback.blockReason too)
OTHER, MALFORMED_FUNCTION_CALL, anything else          error
end_turn, stop_sequence, tool_use, pause_turn → STOP   (encode)
max_tokens → MAX_TOKENS, content_filter → SAFETY, error → OTHER
====================================================  =================================

Usage: input_tokens = promptTokenCount + toolUsePromptTokenCount, output_tokens =
candidatesTokenCount + thoughtsTokenCount, reasoning_tokens = thoughtsTokenCount, cached_tokens
= cachedContentTokenCount; encode writes totalTokenCount = input + output.

Reasoning state (``omniroute.canonical.envelope``). Every signature read is labelled Gemini's
(``signature_source="gemini"``) unless it is an envelope the gateway gave a Gemini client.
``encode_request`` (upstream) sends only Gemini's own signatures: another provider's thinking
keeps its text as a ``thought`` part, without signature. ``encode_response`` and the stream
encoder (client) send Gemini's own signatures as they are and pack another provider's state
(an Anthropic signature, a Responses item id + encrypted content) into ``thoughtSignature`` as
base64 (the SDK holds it as bytes and may send it back URL-safe; both read back).

Lossy, and why: Gemini cannot tell a stop sequence from a natural stop (both STOP); it has no
tool-call ids before 3.x (synthesised), no parallel-tool flag, no redacted thinking (dropped),
no is_error flag (encoded as an ``error`` key); an empty thinking block carrying only a
signature loses whether its part had ``thought: true``; only the first candidate is read.

Errors: ``{"error": {"code": <http status>, "message", "status": <RPC status>}}``.
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
    Request,
    Response,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolChoiceMode,
    ToolResultBlock,
    UnknownBlock,
    system_reminder,
    text_of,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import gemini_schema
from omniroute.formats._framing import encode_sse
from omniroute.formats.error_words import context_message, recognise
from omniroute.formats.gemini_request import decode_request
from omniroute.formats.gemini_stream import StreamDecoder, StreamEncoder, decode_parts
from omniroute.formats.gemini_wire import (
    ENCODER,
    ERROR_STATUSES,
    RESPONSE_DECODER,
    STATUS_KINDS,
    STOP_REASONS,
    Blob,
    Candidate,
    Content,
    ErrorBody,
    ErrorDetail,
    FileData,
    FunctionCall,
    FunctionDeclaration,
    FunctionResponse,
    FunctionResponsePart,
    GenerateContentResponse,
    ModelInfo,
    ModelList,
    Part,
    client_thought_signature,
    decode_finish,
    decode_usage,
    encode_usage,
    synth_id,
    upstream_thought_signature,
    wire_id,
)

NAME = "gemini"
FRAMING = "sse"
#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 503


def _refused_generation(config: Any) -> str | None:
    if not isinstance(config, dict):
        return None
    if config.get("candidateCount") not in (None, 1):
        return "generationConfig.candidateCount"
    if any(m != "TEXT" for m in config.get("responseModalities") or ()):
        return "generationConfig.responseModalities"
    for key in ("responseLogprobs", "speechConfig"):
        if config.get(key):
            return f"generationConfig.{key}"
    return None


#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("generationConfig", "maxOutputTokens"),)
#: request headers forwarded to Gemini upstreams: none changes the API's meaning
FORWARD_HEADERS: tuple[bytes, ...] = ()

#: This format's extras that refuse a route to another upstream format (400, naming the
#: field): a cached context only Gemini holds, several candidates, logprobs, audio or image
#: output. Every other extra (``safetySettings``, ``labels``, Gemini-only tools, ``seed``,
#: penalties, ``mediaResolution`` …) is dropped on such a route.
REFUSED_ACROSS = {
    "cachedContent": lambda v: "cachedContent" if v else None,
    "generationConfig": _refused_generation,
}

__all__ = [
    "FORWARD_HEADERS",
    "FRAMING",
    "MAX_TOKENS_PATHS",
    "NAME",
    "OVERLOADED_STATUS",
    "REFUSED_ACROSS",
    "StreamDecoder",
    "StreamEncoder",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_model_list",
    "encode_request",
    "encode_response",
    "encode_stream_error",
]

_CHOICE_MODES = {
    ToolChoiceMode.AUTO: "AUTO",
    ToolChoiceMode.NONE: "NONE",
    ToolChoiceMode.REQUIRED: "ANY",
    ToolChoiceMode.TOOL: "ANY",
}
_IMAGE_MAGIC = (("iVBORw0KGgo", "image/png"), ("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))


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
    """The ``thoughtSignature`` of a block's part (see ``gemini_wire``)."""
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


def _encode_tools(req: Request) -> list[dict[str, Any]]:
    decls = []
    for tool in req.tools:
        params = gemini_schema.to_gemini(tool.parameters) if tool.parameters else None
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


def decode_response(body: bytes) -> Response:
    """An upstream ``generateContent`` answer → ``Response`` (first candidate only)."""
    try:
        resp = RESPONSE_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"Gemini answer is not valid: {exc}") from None
    response_id = resp.response_id or synth_id(body[:512].decode("utf-8", "replace"), "resp_")
    candidate = resp.candidates[0] if resp.candidates else None
    parts = candidate.content.parts if candidate and candidate.content else []
    blocks = decode_parts(parts, response_id)
    if candidate is not None:
        has_calls = any(type(b) is ToolCallBlock for b in blocks)
        stop = decode_finish(candidate.finish_reason or "STOP", has_calls)
    else:
        blocked = resp.prompt_feedback is not None and resp.prompt_feedback.block_reason
        stop = StopReason.CONTENT_FILTER if blocked else StopReason.ERROR
    usage = decode_usage(resp.usage_metadata) if resp.usage_metadata else None
    return Response(id=response_id, model=resp.model_version or "", content=blocks, stop_reason=stop, usage=usage)


def encode_response(resp: Response) -> bytes:
    """Canonical → a ``GenerateContentResponse`` body as the ``google-genai`` SDK parses it."""
    parts = encode_parts(resp.content, {}, "content", client=True)
    finish = STOP_REASONS.get(resp.stop_reason, "STOP") if resp.stop_reason else "STOP"
    candidate = Candidate(content=Content(parts=parts, role="model"), finish_reason=finish, index=0)
    usage = encode_usage(resp.usage) if resp.usage is not None else None
    body = GenerateContentResponse(
        candidates=[candidate], usage_metadata=usage, model_version=resp.model, response_id=resp.id
    )
    return ENCODER.encode(body)


#: what Gemini says when a prompt is over the window
CONTEXT_WORDS = ("The input token count ({tokens}) exceeds the maximum number of tokens allowed ({limit}).",
                 "The input token count exceeds the maximum number of tokens allowed: {message}")


def encode_error(err: GatewayError) -> bytes:
    message, status = err.message, err.status
    if err.kind is ErrorKind.CONTEXT_LENGTH:
        message = context_message(err, *CONTEXT_WORDS)
    elif err.kind is ErrorKind.OVERLOADED:
        status = OVERLOADED_STATUS
    return ENCODER.encode(ErrorBody(ErrorDetail(code=status, message=message, status=ERROR_STATUSES[err.kind])))


def encode_stream_error(err: GatewayError) -> bytes:
    """The SSE event ending a failed ``alt=sse`` stream (the ``google-genai`` SDK raises on it).
    For the JSON-array framing feed a ``StreamError`` to the ``StreamEncoder`` instead: only it
    knows whether the array is open."""
    return encode_sse(encode_error(err))


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    """An upstream error body (also the ``[{"error": ...}]`` array form) → ``GatewayError``."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        value = body[:500].decode("utf-8", "replace").strip()
    if isinstance(value, list) and value:
        value = value[0]
    detail = value.get("error") if isinstance(value, dict) else None
    message = (
        str(detail.get("message") or "") if isinstance(detail, dict) else str(value if isinstance(value, str) else "")
    )
    err = GatewayError.from_status(status, message or f"upstream answered HTTP {status}", provider)
    rpc = detail.get("status") if isinstance(detail, dict) else None
    if err.kind is ErrorKind.UPSTREAM_ERROR and rpc in STATUS_KINDS:
        err.kind = STATUS_KINDS[rpc]
    return recognise(err, None, rpc if isinstance(rpc, str) else None)


def encode_model_list(models: list[str]) -> bytes:
    """``GET /v1beta/models``: the body the ``google-genai`` SDK's ``models.list()`` reads."""
    items = [
        ModelInfo(name=m if m.startswith("models/") else f"models/{m}", display_name=m.removeprefix("models/"))
        for m in models
    ]
    return ENCODER.encode(ModelList(items))
