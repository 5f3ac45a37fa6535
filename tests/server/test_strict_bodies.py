"""Strict upstream bodies, end to end (docs/formats.md, "Strict upstream bodies"): each client
format's full documented parameter set, sent through the real gateway on all 25 routes, reaches
every upstream as a body holding only the fields that upstream's API documents.

The full requests are the golden fixtures (``tests/fixtures/<format>/request_full.json``)
completed here with every documented parameter they lack (a test keeps them complete against
each mock's field list), the parameters that refuse a cross-format route set to values that do
refuse it, and the content trimmed to what all five formats carry (image URLs, PDFs and file
ids are refused by some formats by design — docs/formats.md, "Other lossy points" — and tested
in the format unit tests).

* Same format in and out: the body is relayed as sent, only ``model`` renamed.
* Across formats: every field of the client's ``REFUSED_ACROSS`` (and ``stop`` sequences to a
  Responses upstream, which has none) is a 400 in the client's dialect naming it, before
  anything reaches the upstream; once those are taken out the route answers in full, and the
  upstream got only fields its API documents (top level, and Gemini's nested messages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omniroute.formats.registry import FORMATS
from tests.support import anthropic_upstream, gemini_upstream, ollama_upstream, openai_upstream, responses_upstream
from tests.support.client_wire import CLIENT_FORMATS, FORMAT_OF, STREAM_ENDS, error_of, post
from tests.support.fleet import UPSTREAMS, sent_headers
from tests.support.gateway import RunningGateway

FIXTURES = Path(__file__).parents[1] / "fixtures"
ANTHROPIC_BETAS = "context-management-2025-06-27,mcp-client-2025-04-04"

#: client → the fields (dotted paths, as its 400 names them) that refuse a route to another format
REFUSED = {
    "openai": ("n", "logprobs", "top_logprobs", "modalities", "audio", "web_search_options", "functions"),
    "anthropic": ("mcp_servers", "container"),
    "responses": ("previous_response_id", "conversation", "prompt", "background", "top_logprobs", "tool_choice"),
    "gemini": ("cachedContent", "generationConfig.candidateCount", "generationConfig.responseModalities",
               "generationConfig.responseLogprobs", "generationConfig.speechConfig"),
    "ollama": (),
}
#: a Responses upstream has no stop sequences (a 400 with these words): client → where it keeps them
STOP_PATHS = {"openai": "stop", "anthropic": "stop_sequences", "gemini": "generationConfig.stopSequences",
              "ollama": "options.stop"}
NO_STOP = "the Responses API has no stop sequences"
#: documented parameters the full bodies leave out, and why
NOT_SENT = {
    "gemini": {"responseJsonSchema": "the API takes one schema: responseSchema is sent",
               "_responseJsonSchema": "an internal alias of responseJsonSchema"},
}


# ── the full requests ────────────────────────────────────────────────────────────────────


def _fixture(fmt: str) -> dict[str, Any]:
    return json.loads((FIXTURES / fmt / "request_full.json").read_text())


def _portable(parts: list[dict[str, Any]], drop: Any) -> list[dict[str, Any]]:
    kept = [p for p in parts if not drop(p)]
    assert len(kept) < len(parts)  # the fixture still holds what is trimmed
    return kept


def _chat() -> dict[str, Any]:
    body = _fixture("openai_chat")
    user = body["messages"][2]  # image URL (Ollama takes base64 only) and a PDF file part (Ollama: text only)
    user["content"] = _portable(user["content"], lambda p: p["type"] == "file" or (
        p["type"] == "image_url" and p["image_url"]["url"].startswith("https:")))
    body.update(
        n=2, logprobs=True, top_logprobs=2, modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"},
        web_search_options={"search_context_size": "low"},
        functions=[{"name": "legacy_lookup", "parameters": {"type": "object", "properties": {}}}],
        function_call="auto", frequency_penalty=0.1, prediction={"type": "content", "content": "Paris is warmer."},
        prompt_cache_key="weather-v1", prompt_cache_retention="24h", safety_identifier="user-hash-1",
        service_tier="auto", store=False, verbosity="low",
    )
    return body


def _anthropic() -> dict[str, Any]:
    body = _fixture("anthropic")
    user = body["messages"][0]  # image by URL, PDF documents (Ollama takes base64 images and text only)
    user["content"] = _portable(user["content"], lambda b: "source" in b and (
        b["source"]["type"] == "url" or (b["type"] == "document" and b["source"]["type"] != "text")))
    body.update(
        top_k=40, top_p=0.95, mcp_servers=[{"type": "url", "url": "https://mcp.example.com/sse", "name": "example"}],
        context_management={"edits": [{"type": "clear_tool_uses_20250919"}]}, output_config={"effort": "medium"},
        output_format={"type": "json_schema", "schema": {"type": "object", "properties": {"answer": {"type": "string"}},
                                                         "required": ["answer"], "additionalProperties": False}},
        inference_geo="us",
    )
    return body


def _responses() -> dict[str, Any]:
    body = _fixture("openai_responses")
    user = body["input"][1]  # image URL / file id and input files (not every format carries them)
    user["content"] = _portable(user["content"], lambda p: p["type"] == "input_file" or (
        p["type"] == "input_image" and not p.get("image_url", "").startswith("data:")))
    body["input"] = _portable(body["input"], lambda i: i.get("type") == "item_reference")  # stored state
    body.update(
        previous_response_id="resp_prev01", conversation="conv_01", prompt={"id": "pmpt_01", "version": "2"},
        background=True, top_logprobs=2, tool_choice={"type": "web_search"}, max_tool_calls=4,
        prompt_cache_retention="24h", safety_identifier="user-hash-1", stream_options={"include_obfuscation": False},
        context_management=[{"type": "compaction", "compact_threshold": 200000}],
    )
    return body


def _gemini() -> dict[str, Any]:
    body = _fixture("gemini")
    user = body["contents"][0]  # a file by URI (OpenAI Chat file parts take inline data only)
    user["parts"] = _portable(user["parts"], lambda p: "fileData" in p)
    body.update(cachedContent="cachedContents/abc123", labels={"team": "travel"})
    body["generationConfig"].update(
        candidateCount=2, responseModalities=["TEXT", "IMAGE"], responseLogprobs=True, logprobs=3,
        speechConfig={"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}, presencePenalty=0.1,
        frequencyPenalty=0.1, enableEnhancedCivicAnswers=True, mediaResolution="MEDIA_RESOLUTION_LOW",
        imageConfig={"aspectRatio": "16:9"},
    )
    body["stream"] = True  # client_wire.post: the streaming method
    return body


def _ollama() -> dict[str, Any]:
    body = _fixture("ollama")
    body.update(stream=True, logprobs=True, top_logprobs=2)
    return body


FULL = {"openai": _chat, "anthropic": _anthropic, "responses": _responses, "gemini": _gemini, "ollama": _ollama}
HEADERS = {"anthropic": {"anthropic-beta": ANTHROPIC_BETAS}}


def _documented(client: str) -> tuple[frozenset[str], ...]:
    """The client format's documented parameters: top level (and Gemini's generationConfig)."""
    return {
        "openai": (openai_upstream.FIELDS,),
        "anthropic": (anthropic_upstream.FIELDS,),
        "responses": (responses_upstream.FIELDS,),
        "gemini": (gemini_upstream.TOP_FIELDS, gemini_upstream.GENERATION_FIELDS),
        "ollama": (ollama_upstream.FIELDS,),
    }[client]


# ── what the upstream may receive ────────────────────────────────────────────────────────


def assert_documented(upstream: str, body: dict[str, Any], headers: dict[str, list[str]]) -> None:
    """Every field of ``body`` is one the upstream's API documents (its mock's field lists)."""
    if upstream == "gemini":
        assert set(body) <= gemini_upstream.TOP_FIELDS, set(body) - gemini_upstream.TOP_FIELDS
        gen = body.get("generationConfig") or {}
        assert set(gen) <= gemini_upstream.GENERATION_FIELDS, set(gen) - gemini_upstream.GENERATION_FIELDS
        assert set(gen.get("thinkingConfig") or {}) <= gemini_upstream.THINKING_FIELDS
        parts = [p for c in body["contents"] for p in c["parts"]]
        assert all(set(p) <= gemini_upstream.PART_FIELDS for p in parts), parts
        return
    fields = {"openai": openai_upstream.FIELDS, "anthropic": anthropic_upstream.FIELDS,
              "responses": responses_upstream.FIELDS, "ollama": ollama_upstream.FIELDS}[upstream]
    assert set(body) <= fields, set(body) - fields
    if upstream == "anthropic" and "context_management" in body:  # a beta field: only with its beta
        assert anthropic_upstream.BETA_FIELDS["context_management"] in headers["anthropic-beta"][0], headers


def _pop(body: dict[str, Any], path: str) -> None:
    *outer, last = path.split(".")
    holder = body
    for key in outer:
        holder = holder[key]
    del holder[last]


def _has(body: dict[str, Any], path: str) -> bool:
    holder: Any = body
    for key in path.split("."):
        if not isinstance(holder, dict) or key not in holder:
            return False
        holder = holder[key]
    return True


def _named(client: str, error: dict[str, Any], field: str) -> bool:
    """Whether ``error`` is the client's provider's refusal of ``field`` (error_words.py)."""
    message = error["message"]
    if client in ("openai", "responses"):
        return (message.startswith(f"Unsupported parameter: '{field}' is not supported on this route")
                and error["param"] == field and error["code"] == "unsupported_parameter")
    if client == "anthropic":
        return message.startswith(f"{field}: Extra inputs are not permitted")
    return message.startswith(f'Invalid JSON payload received. Unknown name "{field}"')


# ── the tests ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("client", CLIENT_FORMATS)
def test_full_bodies_carry_every_documented_parameter(client: str) -> None:
    body = FULL[client]()
    levels = _documented(client)
    if client == "gemini":
        assert set(body) - {"stream"} == levels[0]
        assert set(body["generationConfig"]) == levels[1] - NOT_SENT["gemini"].keys()
    else:
        assert set(body) == levels[0]
    for path in REFUSED[client]:
        assert _has(body, path), path


@pytest.mark.parametrize("client", CLIENT_FORMATS)
def test_same_format_route_relays_every_field(
    matrix_gateway: RunningGateway, mocks: dict[str, Any], client: str
) -> None:
    upstream = client  # the upstream of the client's own format
    u = UPSTREAMS[upstream]
    body = FULL[client]()
    resp = post(matrix_gateway, client, u.id(), body, HEADERS.get(client))
    assert resp.status_code == 200, resp.text
    STREAM_ENDS[client](resp.content)
    sent, headers = mocks[upstream].requests[-1], sent_headers(mocks[upstream])
    if client == "gemini":
        del body["stream"]
        assert sent == gemini_upstream.normalise(body)
    else:
        assert sent == {**body, "model": u.model}
    assert_documented(upstream, sent, headers)


CROSS = [pytest.param(c, u, id=f"{c}->{u}") for c in CLIENT_FORMATS for u in UPSTREAMS if c != u]


@pytest.mark.parametrize(("client", "upstream"), CROSS)
def test_cross_format_route_refuses_or_sends_documented_fields(
    matrix_gateway: RunningGateway, mocks: dict[str, Any], client: str, upstream: str
) -> None:
    """Send the full body; on each 400, check it names one pending refused field, take that
    field out and send again, until the route answers."""
    u, mock = UPSTREAMS[upstream], mocks[upstream]
    body = FULL[client]()
    stop = STOP_PATHS.get(client) if upstream == "responses" else None
    pending = {*REFUSED[client], *([stop] if stop else [])}
    for _ in range(len(pending) + 1):
        before = len(mock.requests)
        resp = post(matrix_gateway, client, u.id(), body, HEADERS.get(client))
        if resp.status_code != 400:
            break
        assert len(mock.requests) == before, "a refused request reached the upstream"
        error = error_of(client, resp)
        hits = [path for path in pending
                if (error["message"].startswith(NO_STOP) if path == stop else _named(client, error, path))]
        assert len(hits) == 1, (error, sorted(pending))
        pending.remove(hits[0])
        _pop(body, hits[0])
    assert resp.status_code == 200, resp.text
    assert not pending, f"never refused: {sorted(pending)}"
    STREAM_ENDS[client](resp.content)
    assert_documented(upstream, mock.requests[-1], sent_headers(mock))


def test_refused_field_names_the_route_in_each_dialect(matrix_gateway: RunningGateway) -> None:
    """The refusal says why: the provider the route reaches and the format it speaks."""
    resp = post(matrix_gateway, "openai", UPSTREAMS["anthropic"].id(),
                {"messages": [{"role": "user", "content": "hi"}], "n": 3})
    assert resp.status_code == 400
    error = error_of("openai", resp)
    assert error["type"] == "invalid_request_error" and error["param"] == "n"
    assert "provider 'anthropic' speaks anthropic" in error["message"]
    resp = post(matrix_gateway, "gemini", UPSTREAMS["ollama"].id(),
                {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"candidateCount": 2}})
    assert resp.status_code == 400
    error = error_of("gemini", resp)
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith('Invalid JSON payload received. Unknown name "generationConfig.candidateCount"')
    assert "provider 'ollama' speaks ollama" in error["message"]


def test_refusal_table_matches_the_format_modules() -> None:
    """The fields this module expects refused are those of each format's ``REFUSED_ACROSS``, so
    a field added there is added to the full bodies here."""
    for client in CLIENT_FORMATS:
        keys = {"tool_choice" if k == "tool_choice_raw" else k for k in FORMATS[FORMAT_OF[client]].REFUSED_ACROSS}
        assert keys == {path.split(".")[0] for path in REFUSED[client]}, client
