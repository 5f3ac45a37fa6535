"""The canonical response, stop reasons and usage.

Stop reasons (canonical → each format; each format module repeats its own column):

================  ==============  ==============  ===================  ============  ==========
canonical         OpenAI Chat     Anthropic       Responses status     Gemini        Ollama
================  ==============  ==============  ===================  ============  ==========
end_turn          stop            end_turn        completed            STOP          stop
max_tokens        length          max_tokens      incomplete           MAX_TOKENS    length
                                                  (max_output_tokens)
stop_sequence     stop            stop_sequence   completed            STOP          stop
tool_use          tool_calls      tool_use        completed            STOP          stop
content_filter    content_filter  refusal         incomplete           SAFETY        stop
                                                  (content_filter)
pause_turn        stop            pause_turn      completed            STOP          stop
error             stop            end_turn        failed               OTHER         stop
================  ==============  ==============  ===================  ============  ==========

Usage: ``input_tokens`` counts *all* prompt tokens including cached ones (OpenAI and Gemini
convention); Anthropic's ``input_tokens`` excludes cache reads/writes, so its module adds
``cache_read_input_tokens`` + ``cache_creation_input_tokens`` on decode and subtracts on
encode. ``reasoning_tokens`` are part of ``output_tokens``.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from omniroute.canonical.content import Block


class StopReason(StrEnum):
    END_TURN = "end_turn"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"
    TOOL_USE = "tool_use"
    CONTENT_FILTER = "content_filter"
    PAUSE_TURN = "pause_turn"
    ERROR = "error"


class Usage(msgspec.Struct, omit_defaults=True):
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens read from the provider's prompt cache
    cache_creation_tokens: int = 0  # prompt tokens written to it (Anthropic)
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Response(msgspec.Struct, omit_defaults=True):
    id: str
    model: str
    content: list[Block] = msgspec.field(default_factory=list)
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage | None = None
    created: int = 0  # unix seconds
