"""Ollama ``/api/chat`` (https://github.com/ollama/ollama/blob/main/docs/api.md), as client and
upstream format. The contract is re-exported from the package's modules: ``wire`` (Structs
and helpers), ``request``, ``response``, ``stream`` (decoder), ``encode`` (stream encoder),
``errors`` and ``models`` (``/api/tags`` and ``/api/show``).

Request fields (Ollama ↔ canonical):

====================================  ========================================================
Ollama                                canonical
====================================  ========================================================
model                                 model
messages[] role system                system (hoisted: a system message mid-conversation
                                      moves to the front; encode: one system message per block)
role user: content, images[] (base64) user: TextBlock, ImageBlock(data, sniffed media_type)
role assistant: thinking, content,    assistant: ThinkingBlock, TextBlock, ToolCallBlock
tool_calls[{id?, function{name,       (arguments object → raw JSON text; no id → synthesised
arguments}}]                          ``ocall_…``, never sent back to Ollama)
role tool: content, tool_name,        ToolResultBlock in a user message (id: tool_call_id,
tool_call_id?                         else the earliest unanswered call of that name, else of
                                      any name); encode: one ``tool`` message per result
tools[{type: function, function}]     tools
stream (default **true**)             stream (always written on encode)
format "json" / JSON Schema object    response_format json_object / json_schema
options temperature, top_p, top_k,    temperature, top_p, top_k, max_tokens (only > 0), stop
num_predict, stop
think true / false / "low"|"medium"|  reasoning enabled / disabled / effort (encode: other
"high"                                efforts and token budgets become ``true``)
keep_alive, other options, logprobs   extra["ollama"] (restored on encode)
====================================  ========================================================

Lossy, and why: Ollama has no tool_choice (``none`` drops the tools, ``tool`` keeps only the
named tool, ``required`` is lost), no image URLs (an ``ImageBlock`` with only a URL raises
UNSUPPORTED), no documents other than text (others raise UNSUPPORTED), no signatures or
redacted thinking (dropped; Ollama clients return no call ids either, so a Gemini call
signature — which other clients carry in the call id — is lost too), no response id
(synthesised from model + created_at), no is_error flag on tool results, no stop-sequence
distinction.

done_reason ↔ StopReason: "stop" → end_turn (tool_use when the answer calls tools), "length"
→ max_tokens, anything else ("load", "unload") → end_turn; encode: max_tokens → "length",
everything else → "stop". Usage: prompt_eval_count ↔ input_tokens, eval_count ↔
output_tokens (Ollama reports no cache or reasoning counts).

Errors: ``{"error": "message"}`` (a stream record of that shape makes the ``ollama`` SDK raise
``ResponseError``).
"""

from __future__ import annotations

from typing import Any

from omniroute.formats.ollama.encode import StreamEncoder
from omniroute.formats.ollama.errors import OVERLOADED_STATUS, decode_error, encode_error, encode_stream_error
from omniroute.formats.ollama.models import encode_show, encode_tags
from omniroute.formats.ollama.request import decode_request, encode_request
from omniroute.formats.ollama.response import decode_response, encode_response
from omniroute.formats.ollama.stream import StreamDecoder
from omniroute.formats.ollama.wire import NAME

FRAMING = "ndjson"

#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("options", "num_predict"),)
#: request headers forwarded to Ollama upstreams: none
FORWARD_HEADERS: tuple[bytes, ...] = ()

#: This format's extras that refuse a route to another upstream format: none. ``keep_alive``,
#: other ``options`` (``seed``, ``num_ctx`` …) and ``logprobs`` are dropped on such a route.
REFUSED_ACROSS: dict[str, Any] = {}

__all__ = [
    "FORWARD_HEADERS",
    "FRAMING",
    "MAX_TOKENS_PATHS",
    "NAME",
    "OVERLOADED_STATUS",
    "REFUSED_ACROSS",
    "StreamDecoder",
    "StreamEncoder",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_response",
    "encode_show",
    "encode_stream_error",
    "encode_tags",
]
