"""Subscription rows: accounts logged in through ``/api/oauth/{oauth}`` (docs/subscriptions.md).

Headers are the ones each service documents for its own clients.
"""

from __future__ import annotations

from omniroute.providers.row import AuthStyle, ProviderSpec

ROWS: tuple[ProviderSpec, ...] = (
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
