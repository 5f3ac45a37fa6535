"""Rows that speak another wire format than OpenAI Chat, and the audio-only services.

Anthropic-format rows post to ``<base>/messages`` with the ``anthropic-version`` header;
Gemini-format rows to ``<base>/models/{model}:generateContent``; Ollama to ``/api/chat``.
Deepgram and AssemblyAI offer transcription only (no ``chat_path``).
"""

from __future__ import annotations

from omniroute.providers.row import OPENAI_FAMILIES, AuthStyle, MediaPath, ProviderSpec

ANTHROPIC_VERSION = (("anthropic-version", "2023-06-01"),)


def anthropic_row(id: str, name: str, base_url: str, *prefixes: str, auth: AuthStyle = AuthStyle.X_API_KEY,
                  **kw: object) -> ProviderSpec:
    return ProviderSpec(id, name, "anthropic", base_url, auth=auth, prefixes=(id, *prefixes),  # type: ignore[arg-type]
                        chat_path="/messages", count_tokens_path="/messages/count_tokens", headers=ANTHROPIC_VERSION,
                        cache_hints=True, **kw)


def gemini_row(id: str, name: str, base_url: str, *prefixes: str, **kw: object) -> ProviderSpec:
    return ProviderSpec(id, name, "gemini", base_url, prefixes=(id, *prefixes),  # type: ignore[arg-type]
                        chat_path="/models/{model}:generateContent",
                        stream_path="/models/{model}:streamGenerateContent?alt=sse", **kw)


ROWS: tuple[ProviderSpec, ...] = (
    anthropic_row(
        "anthropic", "Anthropic", "https://api.anthropic.com/v1", "claude",
        models=("claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"), families=("claude-",),
        mid_conversation_system=True,
    ),
    anthropic_row("glm", "Z.ai GLM (Anthropic API)", "https://api.z.ai/api/anthropic/v1", "glmt", "zai",
                  models=("glm-4.6", "glm-4.5-air")),
    anthropic_row("minimax", "MiniMax", "https://api.minimax.io/anthropic/v1", auth=AuthStyle.BEARER,
                  models=("MiniMax-M2",)),
    anthropic_row("minimax-cn", "MiniMax (China)", "https://api.minimaxi.com/anthropic/v1", auth=AuthStyle.BEARER,
                  models=("MiniMax-M2",)),
    anthropic_row("bailian-coding-plan", "Alibaba Bailian Coding Plan",
                  "https://coding-intl.dashscope.aliyuncs.com/apps/anthropic/v1", "bcp", models=("qwen3-coder-plus",)),
    anthropic_row("agentrouter", "AgentRouter", "https://agentrouter.org/v1"),
    gemini_row(
        "gemini", "Google Gemini", "https://generativelanguage.googleapis.com/v1beta", "google",
        auth=AuthStyle.GOOG_API_KEY, models=("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"),
        families=("gemini-",),
        embeddings=MediaPath("/models/{model}", "gemini"),
        embedding_models=("gemini-embedding-001", "text-embedding-004"),
    ),
    gemini_row(  # the key is an OAuth access token of the service account (docs/providers.md)
        "vertex", "Google Vertex AI",
        "https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google",
        fields=("project", "location"), models=("gemini-2.5-pro", "gemini-2.5-flash"), models_path=None,
        embeddings=MediaPath("/models/{model}", "gemini"), embedding_models=("gemini-embedding-001",),
    ),
    ProviderSpec(
        "ollama", "Ollama", "ollama", "http://127.0.0.1:11434", auth=AuthStyle.NONE, prefixes=("ollama",),
        chat_path="/api/chat", models_path="/api/tags",
        embeddings=MediaPath("/api/embed", "ollama"),
        embedding_models=("nomic-embed-text", "mxbai-embed-large", "all-minilm"),
    ),
    ProviderSpec(
        "openai-responses", "OpenAI (Responses API)", "openai_responses", "https://api.openai.com/v1",
        prefixes=("openai-responses", "responses"), chat_path="/responses",
        models=("gpt-5", "gpt-5-mini", "o3", "o4-mini", "gpt-4.1"), families=OPENAI_FAMILIES,
    ),
    ProviderSpec(
        "openai-compatible", "OpenAI-compatible", "openai_chat", "http://127.0.0.1:8000/v1",
        prefixes=("openai-compatible", "compat"), key_optional=True,
        embeddings=MediaPath("/embeddings"), images=MediaPath("/images/generations"),
        audio=MediaPath("/audio/transcriptions"),
    ),
    ProviderSpec(
        "deepgram", "Deepgram", "openai_chat", "https://api.deepgram.com", auth=AuthStyle.TOKEN,
        prefixes=("deepgram", "dg"), chat_path=None, models_path="/v1/models",
        audio=MediaPath("/v1/listen", "deepgram"), audio_models=("nova-3", "nova-2", "whisper-large"),
    ),
    ProviderSpec(
        "assemblyai", "AssemblyAI", "openai_chat", "https://api.assemblyai.com", auth=AuthStyle.RAW,
        prefixes=("assemblyai", "aai"), chat_path=None, models_path=None,
        audio=MediaPath("/v2", "assemblyai"), audio_models=("best", "universal", "slam-1", "nano"),
    ),
)
