"""Format name → format package, decided at import time (no lookups by string elsewhere)."""

from __future__ import annotations

from types import ModuleType

from omniroute.formats import anthropic, gemini, gemini_cli, ollama, openai_chat, openai_responses

FORMATS: dict[str, ModuleType] = {
    module.NAME: module for module in (openai_chat, anthropic, openai_responses, gemini, ollama, gemini_cli)
}
