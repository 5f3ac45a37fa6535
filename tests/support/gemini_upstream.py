"""A mock Gemini upstream: ``POST /v1beta/models/{model}:generateContent`` and
``:streamGenerateContent`` (``?alt=sse``: SSE with ``\\r\\n\\r\\n`` between events, as Google
sends them; without it one JSON array), wire-exact.

Behaviour by model name and request: see ``tests.support.mock_server``. Specific to Gemini:
the key comes in ``x-goog-api-key`` (else 400 ``API_KEY_INVALID``, as Google answers); thinking
is asked with ``generationConfig.thinkingConfig.includeThoughts`` and answered with a
``thought: true`` part, the ``thoughtSignature`` riding on the first part after it (the
function call, or the answer text). Function calls carry no id (Gemini 2.5). Every stream
chunk carries running ``usageMetadata``; the last one carries ``finishReason`` together with
the last piece of content.

Requests are checked as Google checks them (400 ``INVALID_ARGUMENT``): unknown fields anywhere
the mock models (top level — ``TOP_FIELDS`` —, parts, generationConfig — ``GENERATION_FIELDS`` —,
thinkingConfig), content roles other than ``user``/``model``, parts with no data or
two, function responses that do not answer the function calls of the model turn before them
one for one, by name. snake_case and camelCase names are both accepted, as proto3 JSON parsing
does; ``requests`` records bodies camelCased at those levels.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aiohttp import web

from tests.support.mock_server import (
    ANSWER_TOKENS,
    API_KEY,
    OVERLOADED,
    PROMPT_TOKENS,
    THOUGHT,
    THOUGHTS,
    MockServer,
    Plan,
    Refused,
    breaks,
    dumps,
    error_code,
    plan,
    script,
)

SIGNATURE = "R2VtaW5pVGhvdWdodFNpZ25hdHVyZTAx"  # base64 bytes, as Gemini's are
STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
#: GenerateContentRequest, https://ai.google.dev/api/generate-content#request-body
TOP_FIELDS = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "safetySettings", "generationConfig",
                        "cachedContent", "labels"})
DATA_FIELDS = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
               "codeExecutionResult"}
PART_FIELDS = DATA_FIELDS | {"thought", "thoughtSignature", "videoMetadata", "partMetadata"}
#: GenerationConfig, https://ai.google.dev/api/generate-content#generationconfig
GENERATION_FIELDS = frozenset({
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "_responseJsonSchema",
    "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed",
    "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers",
    "speechConfig", "thinkingConfig", "mediaResolution", "imageConfig",
})
THINKING_FIELDS = {"includeThoughts", "thinkingBudget", "thinkingLevel"}


def error_body(status: int, message: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": STATUSES.get(status, "UNKNOWN")}}
    return web.json_response(body, status=status)


def _unknown(obj: dict[str, Any], known: Collection[str], path: str) -> None:
    for key in obj:
        if key not in known:
            at = f" at '{path}'" if path else ""  # Google names the message, except at the top
            raise Refused(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')


def _camel(obj: Any) -> Any:
    """One level of keys in lowerCamelCase: Google parses both spellings (proto3 JSON)."""
    if not isinstance(obj, dict):
        return obj
    return {k if k.startswith("_") else k.split("_")[0] + "".join(w.title() for w in k.split("_")[1:]): v
            for k, v in obj.items()}


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """The structural levels the mock reads, camelCased (never user data: args, schemas)."""
    body = _camel(body)
    body["contents"] = [{**_camel(c), "parts": [_camel(p) for p in _camel(c).get("parts") or []]}
                        if isinstance(c, dict) else c for c in body.get("contents") or []]
    body["tools"] = [{**_camel(t), "functionDeclarations": [_camel(d) for d in _camel(t).get("functionDeclarations")
                                                             or []]} for t in body.get("tools") or []]
    gen = _camel(body.get("generationConfig") or {})
    if "thinkingConfig" in gen:
        gen["thinkingConfig"] = _camel(gen["thinkingConfig"])
    body["generationConfig"] = gen
    return body


def validate(body: dict[str, Any]) -> None:
    _unknown(body, TOP_FIELDS, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise Refused("* GenerateContentRequest.contents: contents is not specified")
    gen = body.get("generationConfig") or {}
    _unknown(gen, GENERATION_FIELDS, "generation_config")
    _unknown(gen.get("thinkingConfig") or {}, THINKING_FIELDS, "generation_config.thinking_config")
    previous: dict[str, Any] | None = None
    for i, content in enumerate(contents):
        if content.get("role", "user") not in ("user", "model"):
            raise Refused(f"Please use a valid role: user, model. (contents[{i}])")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise Refused(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.")
        for j, part in enumerate(parts):
            _check_part(part, f"contents[{i}].parts[{j}]")
        _check_responses(content, previous, i)
        previous = content


def _check_part(part: dict[str, Any], path: str) -> None:
    _unknown(part, PART_FIELDS, path)
    data = DATA_FIELDS & part.keys()
    if len(data) != 1:
        raise Refused(f"* GenerateContentRequest.{path}.data: required oneof field 'data' must have one initialized "
                      "field")
    call = part.get("functionCall")
    if call is not None and not (call.get("name") and isinstance(call.get("args", {}), dict)):
        raise Refused(f"* GenerateContentRequest.{path}.function_call: name and an args object are required")
    response = part.get("functionResponse")
    if response is not None and not (response.get("name") and isinstance(response.get("response"), dict)):
        raise Refused(f"* GenerateContentRequest.{path}.function_response: name and a response object are required")


def _check_responses(content: dict[str, Any], previous: dict[str, Any] | None, index: int) -> None:
    answered = sorted(p["functionResponse"]["name"] for p in content["parts"] if "functionResponse" in p)
    if not answered:
        return
    calls = [] if previous is None or previous.get("role") != "model" else previous["parts"]
    asked = sorted(p["functionCall"]["name"] for p in calls if "functionCall" in p)
    if answered != asked:
        raise Refused(f"Please ensure that the number of function response parts is equal to the number of function "
                      f"call parts of the function call turn. (contents[{index}])")


def plan_of(body: dict[str, Any]) -> Plan:
    names = [d["name"] for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
    answered = any("functionResponse" in p for p in body["contents"][-1]["parts"])
    gen = body.get("generationConfig") or {}
    thinking = (gen.get("thinkingConfig") or {}).get("includeThoughts") is True
    user = [p for c in body["contents"] if c.get("role", "user") == "user" for p in c["parts"]]
    results = sum("functionResponse" in p for p in user)
    texts = [p["text"] for p in user if "text" in p and not p.get("thought")]
    return script(texts, names, results, thinking) or plan(names, answered, thinking, gen.get("maxOutputTokens"))


def usage(done: bool, p: Plan) -> dict[str, int]:
    meta = {"promptTokenCount": PROMPT_TOKENS, "totalTokenCount": PROMPT_TOKENS}
    if done:
        meta.update(candidatesTokenCount=ANSWER_TOKENS, totalTokenCount=PROMPT_TOKENS + ANSWER_TOKENS)
        if p.thinking:
            meta.update(thoughtsTokenCount=4, totalTokenCount=PROMPT_TOKENS + ANSWER_TOKENS + 4)
    return meta


def _signed(part: dict[str, Any], p: Plan) -> dict[str, Any]:
    return {**part, "thoughtSignature": SIGNATURE} if p.thinking else part


class GeminiUpstream(MockServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{tail}", self.generate)

    @property
    def base_url(self) -> str:
        return self.origin + "/v1beta"

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        model, _, action = request.match_info["tail"].partition(":")
        if request.headers.get("x-goog-api-key") != API_KEY:
            return error_body(400, "API key not valid. Please pass a valid API key.")
        if action not in ("generateContent", "streamGenerateContent"):
            return error_body(404, f"unknown method {action}")
        try:
            body = self.requests[-1] = normalise(body)  # recorded as Google reads it
            validate(body)
        except Refused as exc:
            return error_body(400, str(exc))
        if (code := error_code(model)) is not None:
            return error_body(code, f"mock says {code}")
        p = plan_of(body)
        if action == "generateContent":
            return web.json_response(self.chunk(model, self.parts(p), p, done=True))
        return await self.stream(request, model, p, request.query.get("alt") == "sse")

    @staticmethod
    def parts(p: Plan) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"text": THOUGHT, "thought": True}] if p.thinking else []
        if p.tool:
            return [*parts, _signed({"functionCall": {"name": p.tool, "args": p.arguments}}, p)]
        return [*parts, _signed({"text": "".join(p.words)}, p)]

    @staticmethod
    def chunk(model: str, parts: list[dict[str, Any]], p: Plan, done: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if done:
            candidate["finishReason"] = "MAX_TOKENS" if p.truncated else "STOP"
        return {"candidates": [candidate], "usageMetadata": usage(done, p), "modelVersion": model,
                "responseId": "mockGeminiResponse01"}

    async def stream(self, request: web.Request, model: str, p: Plan, sse: bool) -> web.StreamResponse:
        pieces: list[dict[str, Any]] = [{"text": t, "thought": True} for t in THOUGHTS] if p.thinking else []
        if p.tool:
            pieces.append(_signed({"functionCall": {"name": p.tool, "args": p.arguments}}, p))
        else:
            pieces += [{"text": w} for w in p.words]
            pieces[len(pieces) - len(p.words)] = _signed(pieces[len(pieces) - len(p.words)], p)
        resp = await self.sse(request, "text/event-stream" if sse else "application/json")
        for i, part in enumerate(pieces):
            data = dumps(self.chunk(model, [part], p, done=i == len(pieces) - 1), separators=(",", ": "))
            await resp.write(b"data: " + data + b"\r\n\r\n" if sse else (b"[" if i == 0 else b",\r\n") + data)
            if breaks(model, i):
                if model == "drop":
                    self.drop(request)
                    return resp
                error = dumps({"error": {"code": 503, "message": OVERLOADED, "status": "UNAVAILABLE"}})
                await resp.write(b"data: " + error + b"\r\n\r\n" if sse else b",\r\n" + error + b"]")
                await resp.write_eof()
                return resp
        if not sse:
            await resp.write(b"]")
        await resp.write_eof()
        return resp
