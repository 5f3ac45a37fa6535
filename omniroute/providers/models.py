"""What the gateway knows about models: output-token limit, context window, reasoning, images.

``model_info(model_id)`` answers for an upstream model id as a provider names it, dated or
not, with or without an OpenRouter-style vendor prefix (``anthropic/claude-sonnet-4-5``):

=====================================  ====================================================
lookup step                            example
=====================================  ====================================================
exact id                               ``gpt-4o-mini``
date suffix removed                    ``claude-sonnet-4-5-20250929`` → ``claude-sonnet-4-5``,
                                       ``gpt-4o-2024-08-06`` → ``gpt-4o``
vendor prefix removed                  ``openai/gpt-4o-mini`` → ``gpt-4o-mini``
``-latest`` removed                    ``claude-3-5-haiku-latest`` → ``claude-3-5-haiku``
=====================================  ====================================================

An unknown model gets ``None``: nothing is clamped or dropped for it (a model newer than this
table works with what the client sent). ``reasoning`` means the model takes its API's
reasoning parameter (``reasoning_effort``, Anthropic ``thinking``, Gemini ``thinkingConfig``,
Ollama ``think``) — DeepSeek's reasoner and grok-4 reason but refuse or ignore the
parameter, so they are ``False`` here. Figures are the providers' published limits.
"""

from __future__ import annotations

import re

import msgspec


class ModelInfo(msgspec.Struct, frozen=True):
    max_output: int | None  # largest max_tokens the model accepts
    context: int | None  # context window, tokens
    reasoning: bool = False  # takes the API's reasoning parameter
    vision: bool = True  # takes image input


def _m(max_output: int | None, context: int | None, reasoning: bool = False, vision: bool = True) -> ModelInfo:
    return ModelInfo(max_output, context, reasoning, vision)


_GPT5 = _m(128_000, 400_000, True)
_O_SERIES = _m(100_000, 200_000, True)
_GPT41 = _m(32_768, 1_047_576)
_CLAUDE_64K = _m(64_000, 200_000, True)
_CLAUDE_OPUS_4 = _m(32_000, 200_000, True)
_GEMINI_25 = _m(65_536, 1_048_576, True)

MODELS: dict[str, ModelInfo] = {
    # OpenAI
    "gpt-4o": _m(16_384, 128_000),
    "gpt-4o-mini": _m(16_384, 128_000),
    "chatgpt-4o-latest": _m(16_384, 128_000),
    "gpt-4.1": _GPT41,
    "gpt-4.1-mini": _GPT41,
    "gpt-4.1-nano": _GPT41,
    "gpt-4-turbo": _m(4_096, 128_000),
    "gpt-3.5-turbo": _m(4_096, 16_385, vision=False),
    "o1": _O_SERIES,
    "o3": _O_SERIES,
    "o3-pro": _O_SERIES,
    "o3-mini": _m(100_000, 200_000, True, vision=False),
    "o4-mini": _O_SERIES,
    "gpt-5": _GPT5,
    "gpt-5-mini": _GPT5,
    "gpt-5-nano": _GPT5,
    "gpt-5.1": _GPT5,
    "gpt-5-codex": _GPT5,
    "gpt-5.1-codex": _GPT5,
    "gpt-oss-120b": _m(131_072, 131_072, True, vision=False),
    "gpt-oss-20b": _m(131_072, 131_072, True, vision=False),
    # Anthropic
    "claude-opus-4-5": _CLAUDE_64K,
    "claude-opus-4-1": _CLAUDE_OPUS_4,
    "claude-opus-4-0": _CLAUDE_OPUS_4,
    "claude-opus-4": _CLAUDE_OPUS_4,
    "claude-sonnet-4-5": _CLAUDE_64K,
    "claude-sonnet-4-0": _CLAUDE_64K,
    "claude-sonnet-4": _CLAUDE_64K,
    "claude-haiku-4-5": _CLAUDE_64K,
    "claude-3-7-sonnet": _CLAUDE_64K,
    "claude-3-5-sonnet": _m(8_192, 200_000),
    "claude-3-5-haiku": _m(8_192, 200_000),
    "claude-3-haiku": _m(4_096, 200_000),
    # Google
    "gemini-2.5-pro": _GEMINI_25,
    "gemini-2.5-flash": _GEMINI_25,
    "gemini-2.5-flash-lite": _GEMINI_25,
    "gemini-2.0-flash": _m(8_192, 1_048_576),
    "gemini-2.0-flash-lite": _m(8_192, 1_048_576),
    # DeepSeek
    "deepseek-chat": _m(8_192, 128_000, vision=False),
    "deepseek-reasoner": _m(64_000, 128_000, vision=False),
    # Groq, Cerebras, Meta models
    "llama-3.3-70b-versatile": _m(32_768, 131_072, vision=False),
    "llama-3.1-8b-instant": _m(131_072, 131_072, vision=False),
    "llama-3.3-70b": _m(65_536, 65_536, vision=False),
    "qwen-3-32b": _m(32_768, 65_536, True, vision=False),
    # Mistral
    "mistral-large-latest": _m(None, 131_072, vision=False),
    "mistral-small-latest": _m(None, 131_072),
    "codestral-latest": _m(None, 256_000, vision=False),
    # xAI
    "grok-4": _m(None, 256_000),
    "grok-3-mini": _m(None, 131_072, True, vision=False),
    # Perplexity
    "sonar": _m(None, 127_072, vision=False),
    "sonar-pro": _m(8_000, 200_000, vision=False),
}

_DATED = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


def model_info(model: str) -> ModelInfo | None:
    """The table's entry for an upstream model id (see the module table), else ``None``."""
    info = MODELS.get(model)
    if info is not None:
        return info
    base = model.rpartition("/")[2]
    base = _DATED.sub("", base)
    return MODELS.get(base) or MODELS.get(base.removesuffix("-latest"))


_TYPE_WORDS = (
    ("embedding", ("embed", "bge-", "/bge", "minilm", "/e5-", "multilingual-e5")),
    ("image", ("dall-e", "gpt-image", "flux", "imagen", "-image", "stable-diffusion")),
    ("audio", ("whisper", "transcribe", "nova-", "tts", "universal")),
)


def model_type(model: str) -> str:
    """``chat``, ``embedding``, ``image`` or ``audio`` by the id's words (for listings; a custom
    model's declared type wins)."""
    name = model.lower()
    for kind, words in _TYPE_WORDS:
        if any(word in name for word in words):
            return kind
    return "chat"
