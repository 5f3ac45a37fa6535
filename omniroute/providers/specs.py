"""Providers as data: one ``ProviderSpec`` row per upstream service.

A row says where the service lives, which wire format it speaks, how it authenticates and
which model-id prefixes route to it. Nothing outside this table switches on a provider name;
the generic executor (``providers.executor``) reads rows.

Auth styles:

===============  ====================================================
``bearer``       ``Authorization: Bearer <key>``
``x-api-key``    ``x-api-key: <key>`` (+ the row's ``anthropic-version`` header)
``goog-api-key`` ``x-goog-api-key: <key>`` (Gemini)
``none``         no credential (Ollama, local servers)
``oauth``        ``Authorization: Bearer <token>`` with the account's current OAuth
                 token (subscription rows: ``oauth`` names the OAuth provider whose
                 tokens the row takes; ``routing.tokens`` keeps them fresh)
===============  ====================================================

Subscription rows (docs/subscriptions.md) are ordinary rows: their connections are made by
``/api/oauth/{provider}/…`` instead of ``POST /api/providers``, and a connection's
``baseUrl`` replaces the row's default as for any row.

Paths are appended to the connection's base URL; Gemini's contain ``{model}``.

Capabilities a row declares (decided once, read per request from the compiled route):

===========================  =================================================================
``families``                 model-id prefixes this provider owns: a bare id no listing names
                             (a dated or new id such as ``claude-sonnet-4-5-20250929``) routes
                             to the first connected provider claiming its family
``text_only``                no image input on any model (a 400 instead of a silent drop)
``cache_hints``              takes Anthropic-style ``cache_control`` hints in content (Anthropic,
                             OpenRouter); elsewhere translation drops them
``mid_conversation_system``  takes ``role: "system"`` inside ``messages`` (Anthropic's
                             ``mid-conversation-system`` beta); other Anthropic-format rows get
                             such messages folded into the user turn
===========================  =================================================================
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class AuthStyle(StrEnum):
    BEARER = "bearer"
    X_API_KEY = "x-api-key"
    GOOG_API_KEY = "goog-api-key"
    NONE = "none"
    OAUTH = "oauth"


class ProviderSpec(msgspec.Struct, frozen=True):
    id: str
    name: str
    format: str  # a module name in omniroute.formats
    base_url: str
    auth: AuthStyle = AuthStyle.BEARER
    prefixes: tuple[str, ...] = ()
    chat_path: str = "/chat/completions"
    stream_path: str | None = None  # when streaming uses another path (Gemini)
    models_path: str | None = "/models"
    count_tokens_path: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    models: tuple[str, ...] = ()
    text_only: bool = False  # no image input
    key_optional: bool = False  # self-hosted endpoints often take no key
    families: tuple[str, ...] = ()  # model-id prefixes this provider owns (see the table)
    cache_hints: bool = False  # takes cache_control hints
    mid_conversation_system: bool = False  # takes role "system" inside messages
    oauth: str = ""  # subscription row: the OAuth provider (``/api/oauth/{oauth}``) of its accounts

    @property
    def needs_key(self) -> bool:
        """Its connections cannot call it without an API key."""
        return self.auth not in (AuthStyle.NONE, AuthStyle.OAUTH) and not self.key_optional


def _openai_compatible(
    id: str, name: str, base_url: str, *prefixes: str, models: tuple[str, ...] = (), text_only: bool = False,
    families: tuple[str, ...] = (), cache_hints: bool = False,
) -> ProviderSpec:
    return ProviderSpec(id, name, "openai_chat", base_url, prefixes=(id, *prefixes), models=models, text_only=text_only,
                        families=families, cache_hints=cache_hints)


OPENAI_FAMILIES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "codex-")


#: The built-in rows. Custom nodes (``/api/provider-nodes``) become rows at run time.
BUILTIN: tuple[ProviderSpec, ...] = (
    _openai_compatible(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        "oai",
        models=("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3", "o4-mini", "gpt-5", "gpt-5-mini"),
        families=OPENAI_FAMILIES,
    ),
    _openai_compatible(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        "or",
        models=("openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash"),
        cache_hints=True,  # passed on to Anthropic and Gemini models
    ),
    _openai_compatible(
        "groq",
        "Groq",
        "https://api.groq.com/openai/v1",
        models=("llama-3.3-70b-versatile", "llama-3.1-8b-instant"),
    ),
    _openai_compatible(
        "mistral",
        "Mistral",
        "https://api.mistral.ai/v1",
        models=("mistral-large-latest", "mistral-small-latest", "codestral-latest", "mistral-embed"),
        families=("mistral-", "codestral-", "magistral-", "ministral-", "devstral-", "pixtral-", "open-mistral-"),
    ),
    _openai_compatible(
        "together",
        "Together AI",
        "https://api.together.xyz/v1",
        models=("meta-llama/Llama-3.3-70B-Instruct-Turbo", "deepseek-ai/DeepSeek-V3"),
    ),
    _openai_compatible(
        "fireworks",
        "Fireworks AI",
        "https://api.fireworks.ai/inference/v1",
        models=("accounts/fireworks/models/llama-v3p3-70b-instruct",),
    ),
    _openai_compatible(
        "nebius",
        "Nebius AI Studio",
        "https://api.studio.nebius.com/v1",
        models=("meta-llama/Meta-Llama-3.1-70B-Instruct", "Qwen/Qwen3-Embedding-8B"),
    ),
    _openai_compatible(
        "deepseek", "DeepSeek", "https://api.deepseek.com/v1", models=("deepseek-chat", "deepseek-reasoner"),
        text_only=True, families=("deepseek-",),
    ),
    _openai_compatible("xai", "xAI", "https://api.x.ai/v1", "grok", models=("grok-4", "grok-3-mini"),
                       families=("grok-",)),
    _openai_compatible(
        "nvidia",
        "NVIDIA NIM",
        "https://integrate.api.nvidia.com/v1",
        "nim",
        models=("meta/llama-3.3-70b-instruct",),
    ),
    _openai_compatible(
        "cerebras", "Cerebras", "https://api.cerebras.ai/v1", models=("llama-3.3-70b", "qwen-3-32b"), text_only=True
    ),
    _openai_compatible("perplexity", "Perplexity", "https://api.perplexity.ai", "pplx", models=("sonar", "sonar-pro"),
                       families=("sonar",)),
    ProviderSpec(
        "openai-compatible", "OpenAI-compatible", "openai_chat", "http://127.0.0.1:8000/v1",
        prefixes=("openai-compatible", "compat"), key_optional=True,
    ),
    ProviderSpec(
        "anthropic",
        "Anthropic",
        "anthropic",
        "https://api.anthropic.com/v1",
        auth=AuthStyle.X_API_KEY,
        prefixes=("anthropic", "claude"),
        chat_path="/messages",
        count_tokens_path="/messages/count_tokens",
        headers=(("anthropic-version", "2023-06-01"),),
        models=("claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"),
        families=("claude-",),
        cache_hints=True,
        mid_conversation_system=True,
    ),
    ProviderSpec(
        "gemini",
        "Google Gemini",
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta",
        auth=AuthStyle.GOOG_API_KEY,
        prefixes=("gemini", "google"),
        chat_path="/models/{model}:generateContent",
        stream_path="/models/{model}:streamGenerateContent?alt=sse",
        models=("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"),
        families=("gemini-",),
    ),
    ProviderSpec(
        "ollama",
        "Ollama",
        "ollama",
        "http://127.0.0.1:11434",
        auth=AuthStyle.NONE,
        prefixes=("ollama",),  # docs/providers.md; without one the row could not be routed to
        chat_path="/api/chat",
        models_path="/api/tags",
    ),
    ProviderSpec(
        "openai-responses",
        "OpenAI (Responses API)",
        "openai_responses",
        "https://api.openai.com/v1",
        prefixes=("openai-responses", "responses"),
        chat_path="/responses",
        models=("gpt-5", "gpt-5-mini", "o3", "o4-mini", "gpt-4.1"),
        families=OPENAI_FAMILIES,
    ),
)

#: Subscription rows: accounts logged in through ``/api/oauth/{oauth}`` (docs/subscriptions.md).
#: Headers are the ones each service documents for its own clients.
SUBSCRIPTIONS: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        "claude-code", "Claude (Pro/Max subscription)", "anthropic", "https://api.anthropic.com/v1",
        auth=AuthStyle.OAUTH, prefixes=("cc",), chat_path="/messages", count_tokens_path="/messages/count_tokens",
        headers=(("anthropic-version", "2023-06-01"), ("anthropic-beta", "oauth-2025-04-20")),
        models=("claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"), cache_hints=True,
        mid_conversation_system=True, oauth="claude",
    ),
    ProviderSpec(
        "codex", "Codex (ChatGPT subscription)", "openai_responses", "https://chatgpt.com/backend-api/codex",
        auth=AuthStyle.OAUTH, prefixes=("cx",), chat_path="/responses", models_path=None,
        headers=(("OpenAI-Beta", "responses=experimental"), ("originator", "codex_cli_rs")),
        models=("gpt-5", "gpt-5-codex"), oauth="codex",
    ),
    ProviderSpec(
        "gemini-cli", "Gemini CLI (Google account)", "gemini_cli", "https://cloudcode-pa.googleapis.com/v1internal",
        auth=AuthStyle.OAUTH, prefixes=("gc",), chat_path=":generateContent",
        stream_path=":streamGenerateContent?alt=sse", models_path=None,
        models=("gemini-2.5-pro", "gemini-2.5-flash"), oauth="gemini-cli",
    ),
    ProviderSpec(
        "github", "GitHub Copilot", "openai_chat", "https://api.githubcopilot.com", auth=AuthStyle.OAUTH,
        prefixes=("gh",), headers=(("Copilot-Integration-Id", "vscode-chat"), ("Editor-Version", "vscode/1.99.0"),
                                   ("Editor-Plugin-Version", "copilot-chat/0.26.0"),
                                   ("User-Agent", "GitHubCopilotChat/0.26.0"), ("Openai-Intent", "conversation-panel")),
        models=("gpt-4.1", "gpt-4o", "claude-sonnet-4"), oauth="github",
    ),
)

SPECS: dict[str, ProviderSpec] = {spec.id: spec for spec in (*BUILTIN, *SUBSCRIPTIONS)}

#: custom node ``type``/``api_type`` -> (format, chat path, auth, extra headers)
NODE_KINDS: dict[tuple[str, str], tuple[str, str, AuthStyle, tuple[tuple[str, str], ...]]] = {
    ("openai-compatible", "chat"): ("openai_chat", "/chat/completions", AuthStyle.BEARER, ()),
    ("openai-compatible", "responses"): ("openai_responses", "/responses", AuthStyle.BEARER, ()),
    ("anthropic-compatible", "chat"): (
        "anthropic",
        "/messages",
        AuthStyle.X_API_KEY,
        (("anthropic-version", "2023-06-01"),),
    ),
    ("anthropic-compatible", "messages"): (
        "anthropic",
        "/messages",
        AuthStyle.X_API_KEY,
        (("anthropic-version", "2023-06-01"),),
    ),
}


def node_spec(node_id: str, name: str, prefix: str, base_url: str, kind: tuple[str, str]) -> ProviderSpec:
    """The row for a user-defined provider node."""
    fmt, path, auth, headers = NODE_KINDS[kind]
    return ProviderSpec(
        node_id, name, fmt, base_url, auth=auth, prefixes=(prefix,), chat_path=path, headers=headers, key_optional=True,
        cache_hints=fmt == "anthropic",
    )
