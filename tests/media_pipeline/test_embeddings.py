"""``/v1/embeddings`` through the real gateway, the openai SDK as client, mock services that
follow each provider's documented shape (``tests.support.media_upstream``)."""

from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest

from tests.media_pipeline.conftest import hook_records
from tests.support.accounts import fresh_window
from tests.support.gateway import RunningGateway
from tests.support.media_upstream import MediaUpstream, vector


def post(gw: RunningGateway, body: dict, path: str = "/v1/embeddings", **kw: object) -> httpx.Response:
    return gw.http.post(path, json=body, **kw)


@pytest.mark.parametrize(("model", "path", "upstream_model"), [
    ("openai/text-embedding-3-small", "/openai/v1/embeddings", "text-embedding-3-small"),
    ("text-embedding-3-large", "/openai/v1/embeddings", "text-embedding-3-large"),
    ("nebius/Qwen/Qwen3-Embedding-8B", "/nebius/v1/embeddings", "Qwen/Qwen3-Embedding-8B"),
    ("mistral/mistral-embed", "/mistral/v1/embeddings", "mistral-embed"),
    ("together/BAAI/bge-large-en-v1.5", "/together/v1/embeddings", "BAAI/bge-large-en-v1.5"),
    ("fireworks/nomic-ai/nomic-embed-text-v1.5", "/inference/v1/embeddings", "nomic-ai/nomic-embed-text-v1.5"),
    ("nvidia/nvidia/nv-embedqa-e5-v5", "/nvidia/v1/embeddings", "nvidia/nv-embedqa-e5-v5"),
])
def test_openai_shaped_upstreams_get_the_body_unchanged(gw: RunningGateway, media: MediaUpstream,
                                                        client: openai.OpenAI, model: str, path: str,
                                                        upstream_model: str) -> None:
    result = client.embeddings.create(model=model, input=["one two", "three"])  # the SDK asks for base64
    assert [d.embedding for d in result.data] == [pytest.approx(vector(0, 4)), pytest.approx(vector(1, 4))]
    assert result.usage.prompt_tokens == 3
    assert media.paths[-1] == path
    assert media.requests[-1] == {"model": upstream_model, "input": ["one two", "three"], "encoding_format": "base64"}


def test_float_vectors_and_dimensions_pass_through(gw: RunningGateway, media: MediaUpstream,
                                                   client: openai.OpenAI) -> None:
    raw = client.embeddings.with_raw_response.create(model="openai/text-embedding-3-small", input="hi",
                                                     encoding_format="float", dimensions=3)
    assert raw.parse().data[0].embedding == vector(0, 3)
    assert raw.headers["x-omniroute-provider"] == "openai"
    assert media.requests[-1]["dimensions"] == 3


def test_a_large_answer_is_relayed_whole_and_counted(gw: RunningGateway, media: MediaUpstream) -> None:
    resp = post(gw, {"model": "openai/text-embedding-3-large", "input": ["w"] * 30, "dimensions": 3072,
                     "encoding_format": "float"})
    assert resp.status_code == 200 and len(resp.content) > 64 * 1024
    data = resp.json()["data"]
    assert len(data) == 30 and data[29]["embedding"] == vector(29, 3072)
    record = next(r for r in reversed(hook_records(gw)) if r["operation"] == "embeddings")
    assert record["usage"] == [30, 0]


def test_a_large_answer_that_is_not_json_falls_back(gw: RunningGateway) -> None:
    assert gw.api("POST", "/api/combos", {"name": "html-first", "models": [
        "openai/html", "ollama/nomic-embed-text"]}).status_code == 201
    resp = post(gw, {"model": "html-first", "input": "a"})
    assert resp.status_code == 200 and resp.headers["x-omniroute-model"] == "ollama/nomic-embed-text"
    assert resp.headers["x-omniroute-attempts"] == "2"


def test_token_arrays_pass_to_openai(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="openai/text-embedding-3-small", input=[[1, 2, 3], [4]])
    assert len(result.data) == 2 and media.requests[-1]["input"] == [[1, 2, 3], [4]]


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_gemini_batch_translated_both_ways(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI,
                                           encoding: str) -> None:
    result = client.embeddings.create(model="gemini/gemini-embedding-001", input=["a", "b", "c"],
                                      encoding_format=encoding, dimensions=5)  # type: ignore[arg-type]
    vectors = [d.embedding if encoding == "float" else list(struct.unpack("<5f", base64.b64decode(d.embedding)))
               for d in result.data]  # asked explicitly, base64 stays a string in the SDK
    assert vectors == [pytest.approx(vector(i, 5)) for i in range(3)]
    assert [d.index for d in result.data] == [0, 1, 2] and result.model == "gemini/gemini-embedding-001"
    assert media.paths[-1] == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert media.requests[-1] == {"requests": [{"model": "models/gemini-embedding-001", "content": {
        "parts": [{"text": t}]}, "outputDimensionality": 5} for t in "abc"]}
    assert media.headers[-1]["x-goog-api-key"] == "sk-upstream"


def test_gemini_single_string_uses_embed_content(gw: RunningGateway, media: MediaUpstream,
                                                 client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="gemini/text-embedding-004", input="just one")
    assert result.data[0].embedding == pytest.approx(vector(0, 4)) and result.usage.prompt_tokens == 2
    assert media.paths[-1] == "/v1beta/models/text-embedding-004:embedContent"
    assert media.requests[-1] == {"content": {"parts": [{"text": "just one"}]}}


def test_ollama_embed_translated(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="ollama/nomic-embed-text", input=["x", "y"])
    assert [d.embedding for d in result.data] == [pytest.approx(vector(0, 4)), pytest.approx(vector(1, 4))]
    assert result.usage.prompt_tokens == 6  # the mock's prompt_eval_count
    assert media.paths[-1] == "/api/embed" and media.requests[-1] == {"model": "nomic-embed-text", "input": ["x", "y"]}


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"model": "openai/text-embedding-3-small"}, "input", "'input' is required"),
    ({"input": "hi"}, "model", "'model' is required"),
    ({"model": "openai/text-embedding-3-small", "input": ""}, "input", "empty"),
    ({"model": "openai/text-embedding-3-small", "input": []}, "input", "not empty"),
    ({"model": "openai/text-embedding-3-small", "input": ["a", 3]}, "input[1]", "mixes types"),
    ({"model": "openai/text-embedding-3-small", "input": ["a"] * 2049}, "input", "too many inputs: 2049"),
    ({"model": "openai/text-embedding-3-small", "input": "a", "encoding_format": "int8"}, "encoding_format",
     "'float' or 'base64'"),
    ({"model": "openai/text-embedding-3-small", "input": "a", "dimensions": 0}, "dimensions", "positive"),
    ({"model": "openai/gpt-4o-mini", "input": "a"}, "model", "is a chat model, not an embedding model"),
    ({"model": "groq/whisper-large-v3", "input": "a"}, "model", "offers no embeddings endpoint"),
    ({"model": "gemini/gemini-embedding-001", "input": [[1, 2]]}, "input", "token-array input"),
])
def test_bad_input_is_a_400_naming_it(gw: RunningGateway, body: dict, param: str, words: str) -> None:
    resp = post(gw, body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["param"] == param and words in error["message"], error


def test_not_json_and_unknown_model(gw: RunningGateway) -> None:
    resp = gw.http.post("/v1/embeddings", content=b"{nope", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "not valid JSON" in resp.json()["error"]["message"]
    resp = post(gw, {"model": "no-such-model", "input": "a"})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "model_not_found"


def test_upstream_errors_keep_their_status(gw: RunningGateway, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="mock says 400"):
        client.embeddings.create(model="openai/error-400", input="a")
    with pytest.raises(openai.BadRequestError, match="mock says 400"):
        client.embeddings.create(model="gemini/error-400", input="a")


def test_listing_has_embedding_models_only(gw: RunningGateway) -> None:
    ids = {m["id"] for m in gw.http.get("/v1/embeddings").json()["data"]}
    assert {"openai/text-embedding-3-small", "nebius/Qwen/Qwen3-Embedding-8B", "gemini/gemini-embedding-001",
            "ollama/nomic-embed-text", "mistral/mistral-embed"} <= ids
    assert not ids & {"openai/gpt-4o", "openai/dall-e-3", "deepgram/nova-3"}
    models = {m["id"] for m in gw.http.get("/v1/models").json()["data"]}
    assert {"nebius/Qwen/Qwen3-Embedding-8B", "openai/dall-e-3", "openai/gpt-4o"} <= models


def test_provider_pinned_route(gw: RunningGateway, media: MediaUpstream) -> None:
    for model in ("Qwen/Qwen3-Embedding-8B", "nebius/Qwen/Qwen3-Embedding-8B"):
        resp = post(gw, {"model": model, "input": "a"}, "/v1/providers/nebius/embeddings")
        assert resp.status_code == 200, resp.text
        assert media.requests[-1]["model"] == "Qwen/Qwen3-Embedding-8B"
    resp = post(gw, {"model": "openai/text-embedding-3-small", "input": "a"}, "/v1/providers/nebius/embeddings")
    assert resp.status_code == 400 and "belongs to provider 'openai'" in resp.json()["error"]["message"]


def test_combo_falls_back_and_aliases_resolve(gw: RunningGateway, media: MediaUpstream) -> None:
    combo = gw.api("POST", "/api/combos", {"name": "embed-fallback", "models": [
        "openai/error-503", "gemini/gemini-embedding-001"]})
    assert combo.status_code == 201, combo.text
    resp = post(gw, {"model": "embed-fallback", "input": ["a", "b"], "encoding_format": "float"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-omniroute-model"] == "gemini/gemini-embedding-001"
    assert resp.headers["x-omniroute-attempts"] == "2"
    assert gw.api("POST", "/api/models/alias", {"alias": "house-embed", "model": "ollama/nomic-embed-text"}
                  ).status_code in (200, 201)
    resp = post(gw, {"model": "house-embed", "input": "a"})
    assert resp.status_code == 200 and media.paths[-1] == "/api/embed"


def test_usage_recorded_by_post_hooks(gw: RunningGateway) -> None:
    resp = post(gw, {"model": "nebius/Qwen/Qwen3-Embedding-8B", "input": ["alpha beta gamma", "delta"]})
    assert resp.status_code == 200
    record = next(r for r in reversed(hook_records(gw)) if r["operation"] == "embeddings")
    assert record["usage"] == [4, 0] and record["served"] == "nebius/Qwen/Qwen3-Embedding-8B"


def test_key_rate_limits_apply(gw: RunningGateway) -> None:
    fresh_window()
    key = gw.api("POST", "/api/keys", {"name": "media-rpm", "rpm": 1}).json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    first = post(gw, {"model": "openai/text-embedding-3-small", "input": "a"}, headers=headers)
    second = post(gw, {"model": "openai/text-embedding-3-small", "input": "a"}, headers=headers)
    assert first.status_code == 200 and second.status_code == 429, second.text


def test_custom_nodes_offer_the_openai_media_endpoints(gw: RunningGateway, media: MediaUpstream) -> None:
    node = gw.api("POST", "/api/provider-nodes", {"prefix": "localai", "baseUrl": media.url("/openai/v1")})
    assert node.status_code == 201, node.text
    conn = gw.api("POST", "/api/providers", {"provider": node.json()["node"]["id"], "apiKey": "sk-upstream"})
    assert conn.status_code == 201, conn.text
    resp = post(gw, {"model": "localai/bge-small", "input": "a"})
    assert resp.status_code == 200 and media.paths[-1] == "/openai/v1/embeddings"
    assert media.requests[-1]["model"] == "bge-small"
    resp = gw.http.post("/v1/images/generations", json={"model": "localai/sdxl", "prompt": "x"})
    assert resp.status_code == 200 and media.paths[-1] == "/openai/v1/images/generations"
