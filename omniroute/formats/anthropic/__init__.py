"""Anthropic Messages (``/v1/messages``, ``/v1/messages/count_tokens``), client and upstream.

This package holds the contract of ``omniroute.formats``, split by role: ``wire`` (validation,
usage, stop reasons), ``content`` (content blocks), ``request``, ``response``, ``stream``
(decoder), ``encode`` (stream encoder), ``errors``, ``count_tokens`` (the token-count endpoint)
and ``mid_conversation`` (system messages for rows without the beta).

Request fields (wire ↔ canonical ``Request``):

==========================================  ===============================================
Anthropic                                   canonical
==========================================  ===============================================
model / stream / temperature / top_p        same (encode clamps temperature to 0–1; with
/ top_k                                     thinking on drops top_k, temperature ≠ 1, top_p
                                            < 0.95, which Anthropic rejects)
max_tokens (required on decode)             max_tokens; encode default 4096 + thinking budget
                                            (+16384 for adaptive thinking)
system: str | [text blocks]                 system: [TextBlock] (cache_control kept)
messages[].content: str | [blocks]          messages[].content (str → one TextBlock); encode
                                            merges consecutive same-role messages, puts
                                            tool_result blocks first in a user turn, drops
                                            empty text and unsigned thinking blocks
tools[] {name, description, input_schema,   tools[] {name, description, parameters, strict}
strict}
tools[] server tools (type web_search_…,    extra["tools"], verbatim; appended to tools on
bash_…, text_editor_…)                      encode (other formats cannot run them)
tool_choice auto / any / tool / none        ToolChoice AUTO / REQUIRED / TOOL(name) / NONE
disable_parallel_tool_use                   ToolChoice.parallel (inverted)
stop_sequences                              stop
thinking enabled {budget_tokens}            Reasoning(enabled, budget_tokens)
thinking adaptive                           Reasoning(enabled), no budget; effort from
                                            output_config.effort
thinking disabled                           Reasoning(enabled=False)
thinking display summarized / omitted       Reasoning.include_thoughts True / False (decode
                                            only: older models reject ``display``)
output_config.effort (with thinking on)     Reasoning.effort (else kept in extra)
output_config.format / beta output_format   ResponseFormat(json_schema, schema); encoded as
{type: json_schema, schema}                 output_config.format
metadata.user_id                            user (other metadata keys → metadata)
anything else (service_tier, container …)   extra, merged back on encode
==========================================  ===============================================

Encoding reasoning: an explicit budget is sent as is (raised to Anthropic's minimum 1024);
effort without a budget uses ``EFFORT_BUDGETS`` — minimal/low 1024, medium 4096, high 16384,
xhigh/max 32768 — cut to ``max_tokens - 1`` when the client set a smaller ``max_tokens``
(thinking omitted if that leaves < 1024); neither → ``{"type": "adaptive"}``; effort
``none`` or budget 0 → ``{"type": "disabled"}``. Thinking is left out of a request whose last
assistant turn calls a tool without starting with a signed thinking block (history from a
format that does not sign thinking): Anthropic refuses thinking in that tool loop. Lossy:
adaptive thinking *with* an effort comes back as an enabled budget (``Reasoning`` has no
"adaptive" flag), and ``display`` is not re-sent.

Content blocks (wire ↔ canonical):

==============================================  ===========================================
text {text, cache_control}                      TextBlock (citations dropped)
image source base64 / url                       ImageBlock(data, media_type) / (url); a
                                                ``data:`` URL in ``url`` is sent as base64
document source base64 / url / text, title      DocumentBlock(data) / (url) / (text)
                                                (context, citations dropped)
tool_use {id, name, input}                      ToolCallBlock(arguments = compact JSON of
                                                input; encode: "" → {}, other text must be
                                                a JSON object, sent verbatim)
tool_result {tool_use_id, content, is_error}    ToolResultBlock (str content → TextBlock)
thinking {thinking, signature}                  ThinkingBlock
redacted_thinking {data}                        RedactedThinkingBlock
anything else (server_tool_use, search_result,  UnknownBlock(raw, source="anthropic"): sent
image/document with a file source, …)           back to Anthropic verbatim, dropped by others
==============================================  ===========================================

Reasoning state (``omniroute.canonical.envelope``). As an upstream format: thinking goes out
only with an Anthropic signature (``signature_source`` ``anthropic`` or unknown); thinking
signed by another provider is dropped like unsigned thinking (Anthropic would refuse the
signature), and a tool call's Gemini signature is not sent. As a client format: Anthropic's own
signatures reach the client byte-identical; another provider's state rides in the thinking
``signature`` as ``omr1.<source>.<item id>.<payload>`` (a Responses reasoning item keeps its
id there, even one without encrypted content), and a Gemini call signature rides in the
``tool_use`` id (``<id>__omr1g…``, still ``[a-zA-Z0-9_-]``). ``decode_request`` unpacks both
(also ``tool_result.tool_use_id``); answers from an Anthropic upstream are labelled
Anthropic's and never unpacked. Lossy: ``redacted_thinking`` reaches only Anthropic (other
clients drop it).

``cache_control`` survives on text blocks (system and messages); a tool_result's hint moves to
its last text block (the same prompt position). The canonical form has no slot for it on
images, documents, tool_use or tools, so there it is lost — as are custom tools' other keys
(``cache_control``, ``input_examples``, ``defer_loading`` …).

Stop reasons: end_turn ↔ END_TURN, max_tokens ↔ MAX_TOKENS, stop_sequence ↔ STOP_SEQUENCE,
tool_use ↔ TOOL_USE, pause_turn ↔ PAUSE_TURN, refusal ↔ CONTENT_FILTER;
model_context_window_exceeded → MAX_TOKENS; unknown → END_TURN; ERROR → end_turn.

Usage: canonical ``input_tokens`` = Anthropic ``input_tokens`` + ``cache_read_input_tokens`` +
``cache_creation_input_tokens`` (added on decode, subtracted on encode); ``cached_tokens`` ↔
``cache_read_input_tokens``, ``cache_creation_tokens`` ↔ ``cache_creation_input_tokens``,
``reasoning_tokens`` ↔ ``output_tokens_details.thinking_tokens``.

Errors: ``{"type": "error", "error": {"type", "message"}}``; kinds ↔ types in
``errors.ERROR_TYPES`` / ``ERROR_KINDS`` (529 ``overloaded_error`` stays itself).
Streams: see ``stream`` (the event table) and ``encode``.
"""

from __future__ import annotations

from omniroute.formats.anthropic.count_tokens import decode_count_tokens, encode_count_tokens, estimate_tokens
from omniroute.formats.anthropic.encode import StreamEncoder
from omniroute.formats.anthropic.errors import OVERLOADED_STATUS, decode_error, encode_error, encode_stream_error
from omniroute.formats.anthropic.mid_conversation import MID_CONVERSATION_BETA, fold_system_messages
from omniroute.formats.anthropic.request import (
    EFFORT_BUDGETS,
    decode_count_tokens_request,
    decode_request,
    encode_request,
)
from omniroute.formats.anthropic.response import decode_response, encode_response
from omniroute.formats.anthropic.stream import StreamDecoder
from omniroute.formats.anthropic.wire import NAME

__all__ = [
    "EFFORT_BUDGETS",
    "FORWARD_HEADERS",
    "FRAMING",
    "MAX_TOKENS_PATHS",
    "MID_CONVERSATION_BETA",
    "NAME",
    "OVERLOADED_STATUS",
    "REFUSED_ACROSS",
    "StreamDecoder",
    "StreamEncoder",
    "decode_count_tokens",
    "decode_count_tokens_request",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_count_tokens",
    "encode_error",
    "encode_request",
    "encode_response",
    "encode_stream_error",
    "estimate_tokens",
    "fold_system_messages",
]

FRAMING = "sse"

#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("max_tokens",),)
#: request headers that change this API's meaning: forwarded to upstreams of this format only
#: (the client's ``anthropic-version`` replaces the row's); credentials and hop-by-hop
#: headers never are
FORWARD_HEADERS = (b"anthropic-beta", b"anthropic-version")

#: This format's extras that refuse a route to another upstream format (400, naming the
#: field): state or tools only Anthropic's servers hold, where dropping them would change the
#: answer. Every other extra (``context_management``, ``service_tier``, ``inference_geo``,
#: server ``tools``, leftover ``output_config`` keys …) is dropped on such a route.
REFUSED_ACROSS = {
    "mcp_servers": lambda v: "mcp_servers" if v else None,  # tools run by Anthropic's MCP connector
    "container": lambda v: "container" if v else None,  # a code-execution container's state
}
