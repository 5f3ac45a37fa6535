"""Format name → format module, decided at import time (no lookups by string elsewhere)."""

from __future__ import annotations

from types import ModuleType

from omniroute.formats import openai_chat

FORMATS: dict[str, ModuleType] = {
    openai_chat.NAME: openai_chat,
}
