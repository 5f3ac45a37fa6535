"""One question asked by each official SDK with the same canonical request (temperature 0,
64 output tokens, one user turn), streamed or not; each answers (text, (prompt, answer) tokens)
as its SDK parsed them. The caching tests use them to show that an answer cached from one
format serves the others, and that a replayed stream satisfies each SDK's parser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import ollama
import openai
from google import genai
from google.genai import types as gtypes

Asker = Callable[[str, str, str, bool, dict[str, str] | None], tuple[str, tuple[int, int] | None]]


def ask_openai(url: str, model: str, q: str, stream: bool, headers: dict[str, str] | None = None) -> Any:
    sdk = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, default_headers=headers)
    kw: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": q}], "temperature": 0,
                          "max_tokens": 64}
    if not stream:
        c = sdk.chat.completions.create(**kw)
        return c.choices[0].message.content, (c.usage.prompt_tokens, c.usage.completion_tokens)
    with sdk.chat.completions.stream(**kw, stream_options={"include_usage": True}) as s:
        for _ in s:
            pass
        c = s.get_final_completion()
    return c.choices[0].message.content, (c.usage.prompt_tokens, c.usage.completion_tokens)


def ask_anthropic(url: str, model: str, q: str, stream: bool, headers: dict[str, str] | None = None) -> Any:
    sdk = anthropic.Anthropic(base_url=url, api_key="x", max_retries=0, default_headers=headers)
    # this SDK version no longer names ``temperature``; the Messages API still takes it
    kw: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": q}], "max_tokens": 64,
                          "extra_body": {"temperature": 0}}
    if not stream:
        m = sdk.messages.create(**kw)
    else:
        with sdk.messages.stream(**kw) as s:
            for _ in s:
                pass
            m = s.get_final_message()
    return "".join(b.text for b in m.content if b.type == "text"), (m.usage.input_tokens, m.usage.output_tokens)


def ask_responses(url: str, model: str, q: str, stream: bool, headers: dict[str, str] | None = None) -> Any:
    sdk = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, default_headers=headers)
    kw: dict[str, Any] = {"model": model, "input": q, "temperature": 0, "max_output_tokens": 64}
    if not stream:
        r = sdk.responses.create(**kw)
    else:
        with sdk.responses.stream(**kw) as s:
            for _ in s:
                pass
            r = s.get_final_response()
    return r.output_text, (r.usage.input_tokens, r.usage.output_tokens)


def ask_gemini(url: str, model: str, q: str, stream: bool, headers: dict[str, str] | None = None) -> Any:
    sdk = genai.Client(api_key="x", http_options=gtypes.HttpOptions(base_url=url, headers=headers))
    config = gtypes.GenerateContentConfig(temperature=0, max_output_tokens=64)
    if not stream:
        r = sdk.models.generate_content(model=model, contents=q, config=config)
        return r.text, (r.usage_metadata.prompt_token_count, r.usage_metadata.candidates_token_count)
    chunks = list(sdk.models.generate_content_stream(model=model, contents=q, config=config))
    usage = chunks[-1].usage_metadata
    return "".join(c.text or "" for c in chunks), (usage.prompt_token_count, usage.candidates_token_count)


def ask_ollama(url: str, model: str, q: str, stream: bool, headers: dict[str, str] | None = None) -> Any:
    sdk = ollama.Client(host=url, headers=headers)
    kw: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": q}],
                          "options": {"temperature": 0, "num_predict": 64}}
    if not stream:
        r = sdk.chat(**kw)
        return r.message.content, (r.prompt_eval_count, r.eval_count)
    parts = list(sdk.chat(**kw, stream=True))
    return "".join(p.message.content or "" for p in parts), (parts[-1].prompt_eval_count, parts[-1].eval_count)


ASKERS: dict[str, Asker] = {"openai": ask_openai, "anthropic": ask_anthropic, "responses": ask_responses,
                            "gemini": ask_gemini, "ollama": ask_ollama}
