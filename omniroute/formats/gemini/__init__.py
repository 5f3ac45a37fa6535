"""Google Gemini ``generateContent`` / ``streamGenerateContent``, as client and upstream format.

The contract (``omniroute.formats``) is re-exported from the package's modules: ``wire``
(Structs and tables), ``content`` (parts ↔ blocks), ``request``, ``response``, ``stream``
(decoder), ``encode`` (stream encoder), ``errors``, ``schema`` (JSON Schema ↔ Gemini Schema)
and ``models`` (the model list). The model is in the URL (``models/{id}:generateContent``):
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
(parameters | parametersJsonSchema)      ``schema``; parametersJsonSchema kept as is)
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

Finish reasons (``wire.FINISH_REASONS``):

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

from typing import Any

from omniroute.formats.gemini.encode import StreamEncoder
from omniroute.formats.gemini.errors import OVERLOADED_STATUS, decode_error, encode_error, encode_stream_error
from omniroute.formats.gemini.models import encode_model_list
from omniroute.formats.gemini.request import decode_request, encode_request
from omniroute.formats.gemini.response import decode_response, encode_response
from omniroute.formats.gemini.stream import StreamDecoder
from omniroute.formats.gemini.wire import NAME

FRAMING = "sse"


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
