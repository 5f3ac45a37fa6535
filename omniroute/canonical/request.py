"""The canonical request: what every decoded client request becomes.

Field map (canonical ← format):

====================  ===============  ==================  ===================  ==================  ===============
canonical             OpenAI Chat      Anthropic           Responses            Gemini              Ollama
====================  ===============  ==================  ===================  ==================  ===============
model                 model            model               model                URL path            model
system                system/developer system               instructions,        systemInstruction   system msgs
                      messages                             system/developer in
messages              messages         messages            input items          contents            messages
tools                 tools[].function tools               tools (function)     functionDeclarations tools
tool_choice           tool_choice      tool_choice         tool_choice          toolConfig          —
max_tokens            max_(completion_ max_tokens          max_output_tokens    maxOutputTokens     num_predict
                      )tokens
temperature / top_p   same             same                same                 same (generationCfg) options
stop                  stop             stop_sequences      —                    stopSequences       options.stop
stream                stream           stream              stream               :streamGenerate…    stream
include_usage         stream_options   (always)            (always)             (always)            (always)
reasoning             reasoning_effort thinking            reasoning.effort     thinkingConfig      think
response_format       response_format  output_format       text.format          responseMimeType/   format
                                                                                responseSchema
====================  ===============  ==================  ===================  ==================  ===============

Roles: ``user``, ``assistant`` and ``system``. The system prompt — every system/developer
message before the first user or assistant turn — lives in ``Request.system``; a ``system``
*message* is one that comes later, mid-conversation (Anthropic ``role: "system"`` under the
``mid-conversation-system`` beta, an OpenAI/Responses/Ollama system or developer message after
the first turn). Encoders put it at its position where the format has a place for one
(OpenAI Chat, Responses and Ollama system messages) and fold it into the next user turn as
a ``<system-reminder>`` text block where it has none (Anthropic without the beta, Gemini):
``system_reminder``. Tool results are ``tool_result`` blocks inside a ``user`` message
(OpenAI ``tool`` messages fold into it).
``extra`` keeps top-level fields of the client body the canonical form has no slot for, under
the client format's name (``extra["anthropic"]``, ``extra["openai_chat"]`` …), so a
same-format upstream can get them back and no other format ever sees them
(each format's ``REFUSED_ACROSS`` table says which of them refuse a cross-format route).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import msgspec

from omniroute.canonical.content import Block, TextBlock


class Message(msgspec.Struct, omit_defaults=True):
    role: Literal["user", "assistant", "system"]
    content: list[Block] = msgspec.field(default_factory=list)
    name: str | None = None


class Tool(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None  # JSON Schema
    strict: bool | None = None


class ToolChoiceMode(StrEnum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"  # Anthropic "any", Gemini ANY
    TOOL = "tool"  # a named tool


class ToolChoice(msgspec.Struct, omit_defaults=True):
    mode: ToolChoiceMode = ToolChoiceMode.AUTO
    name: str | None = None  # with mode TOOL
    parallel: bool | None = None  # parallel_tool_calls / disable_parallel_tool_use (inverted)


class Reasoning(msgspec.Struct, omit_defaults=True):
    """Reasoning request: ``effort`` (low/medium/high/minimal) and/or a token budget."""

    enabled: bool = True
    effort: str | None = None
    budget_tokens: int | None = None
    include_thoughts: bool | None = None


class ResponseFormat(msgspec.Struct, omit_defaults=True):
    type: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None


class Request(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[Message] = msgspec.field(default_factory=list)
    system: list[TextBlock] = msgspec.field(default_factory=list)
    tools: list[Tool] = msgspec.field(default_factory=list)
    tool_choice: ToolChoice | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = msgspec.field(default_factory=list)
    stream: bool = False
    include_usage: bool = False  # client asked for usage in the stream
    reasoning: Reasoning | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


def system_reminder(msg: Message) -> TextBlock:
    """A mid-conversation system message as a text block of a user turn, for formats that
    have no system message at that position (the shape Claude Code itself falls back to)."""
    text = "".join(b.text for b in msg.content if type(b) is TextBlock)
    return TextBlock(f"<system-reminder>\n{text}\n</system-reminder>")
