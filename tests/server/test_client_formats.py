"""Every client format against an OpenAI-format upstream, with each format's official SDK.

This covers the client side of the cross-format matrix (Anthropic, Responses, Gemini and
Ollama clients translated to OpenAI Chat upstream): text, streaming text, usage and errors in
the client's own dialect.
"""

from __future__ import annotations

import anthropic
import ollama
import openai
import pytest
from google import genai
from google.genai import types as gtypes

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream

TEXT = "Hello from the mock upstream."


def test_anthropic_sdk(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key="x", max_retries=0)
    msg = client.messages.create(
        model="mock/gpt-4o-mini", max_tokens=64, system="be brief", messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.content[0].text == TEXT and msg.stop_reason == "end_turn" and msg.usage.output_tokens == 6
    sent = upstream.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "be brief"} and 64 in (
        sent.get("max_tokens"),
        sent.get("max_completion_tokens"),
    )
    with client.messages.stream(
        model="mock/gpt-4o-mini", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == TEXT and final.usage.output_tokens == 6
    assert upstream.requests[-1]["stream_options"] == {"include_usage": True}  # asked for, for message_delta
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model="mock/error-429", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    assert info.value.body["type"] == "error" and "mock says 429" in info.value.message
    bad = gateway.http.post("/v1/messages", json={"model": "mock/gpt-4o-mini", "max_tokens": "lots", "messages": []})
    assert bad.status_code == 400
    assert bad.json()["type"] == "error" and bad.json()["error"]["type"] == "invalid_request_error"
    assert (
        client.messages.count_tokens(
            model="mock/gpt-4o-mini", messages=[{"role": "user", "content": "hi " * 40}]
        ).input_tokens
        > 10
    )


def test_openai_responses_sdk(gateway: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0)
    answer = client.responses.create(model="mock/gpt-4o-mini", input="hi", instructions="be brief")
    assert answer.output_text == TEXT and answer.usage.output_tokens == 6
    events = list(client.responses.create(model="mock/gpt-4o-mini", input="hi", stream=True))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == TEXT
    assert events[-1].type == "response.completed"
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="mock/error-500", input="hi")


def test_gemini_sdk(gateway: RunningGateway) -> None:
    client = genai.Client(api_key="x", http_options=gtypes.HttpOptions(base_url=gateway.url))
    answer = client.models.generate_content(model="mock/gpt-4o-mini", contents="hi")
    assert answer.text == TEXT and answer.usage_metadata.candidates_token_count == 6
    pieces = [c.text or "" for c in client.models.generate_content_stream(model="mock/gpt-4o-mini", contents="hi")]
    assert "".join(pieces) == TEXT
    with pytest.raises(genai.errors.APIError) as info:
        client.models.generate_content(model="mock/error-404", contents="hi")
    assert info.value.code == 404


def test_ollama_sdk(gateway: RunningGateway) -> None:
    client = ollama.Client(host=gateway.url)
    answer = client.chat(model="mock/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=False)
    assert answer.message.content == TEXT and answer.eval_count == 6 and answer.done
    parts = list(client.chat(model="mock/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(p.message.content for p in parts) == TEXT and parts[-1].done
    assert isinstance(client.list().models, list)  # /api/tags parses
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="nosuch", messages=[{"role": "user", "content": "hi"}], stream=False)
    assert info.value.status_code == 404 and "nosuch" in info.value.error


def test_stream_fault_reaches_anthropic_client_as_error_event(gateway: RunningGateway) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key="x", max_retries=0)
    with (
        pytest.raises(anthropic.APIStatusError),
        client.messages.stream(
            model="mock/drop", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        for _ in stream.text_stream:
            pass


def test_images_to_a_text_only_row_are_a_clear_400(gateway: RunningGateway, upstream: OpenAIUpstream) -> None:
    conn = gateway.api(
        "POST", "/api/providers", {"provider": "deepseek", "apiKey": "sk-upstream", "baseUrl": upstream.base_url}
    ).json()
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    try:
        sdk = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.BadRequestError) as info:
            sdk.chat.completions.create(
                model="deepseek/deepseek-chat",
                messages=[{"role": "user", "content": [{"type": "text", "text": "what is this"}, image]}],
            )
        assert "does not accept images" in info.value.message
        claude = anthropic.Anthropic(base_url=gateway.url, api_key="x", max_retries=0)
        picture = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
        with pytest.raises(anthropic.BadRequestError) as refused:
            claude.messages.create(
                model="deepseek/deepseek-chat", max_tokens=16, messages=[{"role": "user", "content": [picture]}]
            )
        assert "does not accept images" in refused.value.message
        text = sdk.chat.completions.create(model="deepseek/deepseek-chat", messages=[{"role": "user", "content": "hi"}])
        assert text.choices[0].message.content == TEXT  # text still goes through
    finally:
        gateway.api("DELETE", f"/api/providers/{conn['id']}")
