"""OpenAI Chat Completions (``/v1/chat/completions``), both as client and upstream format.

Request fields ↔ canonical (``decode_request`` / ``encode_request``):

================================  ============================================================
wire                              canonical
================================  ============================================================
``system`` / ``developer`` msgs   ``system`` (text blocks, hoisted to the top; encoded back as
                                  ``system`` messages — lossy: role name and position)
``user`` content string / parts   ``user`` message: ``text`` → text (``cache_control`` kept),
                                  ``image_url`` data: URL → image(data, media_type), other URL
                                  → image(url), ``file.file_data`` → document, ``file.file_id``
                                  and ``input_audio`` and unknown parts → unknown (raw part; only
                                  an OpenAI Chat upstream gets it back)
``assistant``                     ``reasoning_content`` → thinking, content/``refusal`` → text,
                                  ``tool_calls[].function`` → tool_call (arguments raw)
``tool`` messages                 tool_result blocks; consecutive ones fold into one ``user``
                                  message; ``name`` filled from the matching tool call
``tools[].function`` (+strict)    ``tools``; other tool types raise UNSUPPORTED
``tool_choice``                   auto / none / required / {function} → ``ToolChoice`` mode
``parallel_tool_calls``           ``ToolChoice.parallel``
``max_completion_tokens``         ``max_tokens`` (``max_completion_tokens`` wins when both are
/ ``max_tokens``                  sent; encoded as ``max_completion_tokens``, which OpenAI
                                  reasoning models require — a provider row renames it for
                                  upstreams that only know ``max_tokens``)
``temperature``, ``top_p``        same
``stop`` (string or list)         ``stop`` (list)
``stream``                        ``stream``; encoding a stream *always* asks for usage
``stream_options.include_usage``  ``include_usage`` (what the client asked for)
``reasoning_effort``              ``reasoning.effort`` (``"none"`` → ``enabled=False``); a
                                  budget-only reasoning request encodes as an effort:
                                  < 2048 low, < 8192 medium, else high
``response_format``               ``ResponseFormat`` (``json_schema.description`` is lost)
``user``, ``metadata``            same
anything else (``seed``, ``n``,   ``extra["openai_chat"]``, sent back verbatim by
``top_k``, vendor fields...)      ``encode_request``; the canonical ``top_k`` (from other
                                  formats) is not sent: OpenAI rejects it
================================  ============================================================

Extras are namespaced (as Gemini's are) because ``Request.extra`` does not record which format
it came from: flat keys from another client (Anthropic ``output_config``, Gemini's
``gemini``) would otherwise reach an OpenAI upstream and be rejected.

Encoding history: thinking blocks become ``reasoning_content`` on the assistant message
(DeepSeek style, joined); signatures and redacted thinking are dropped (Chat has no slot for
them, and clients do not reliably return ``reasoning_content``). Tool calls with empty
arguments are sent as ``"{}"``. A tool call's Gemini signature is packed into the call ``id``
given to a Chat client (``<id>__omr1g…``, ``omniroute.canonical.envelope``) and unpacked
from ``tool_calls[].id`` and ``tool_call_id`` on decode; it is never sent to a Chat upstream.
Tool-result images/documents move
to a ``user`` message right after the ``tool`` messages (tool messages take text only);
``is_error`` is lost. A document given by URL raises UNSUPPORTED (Chat ``file`` parts take
inline data only). Legacy ``function_call``/``function`` messages and assistant ``audio``
raise UNSUPPORTED rather than vanish.

Answers: choice 0 only; ``reasoning_content`` (or ``reasoning``) → thinking, ``content`` and
``refusal`` → text (refusal is lossy: it becomes plain text), ``tool_calls`` → tool_call
blocks. Encoded answers join text blocks into ``content``, put thinking into
``reasoning_content`` (signatures dropped) and drop images. A 200 body holding ``error``
raises it.

Finish reason ↔ ``StopReason`` (stop sequence, pause and error have no Chat value):

==================  ================  ===================================================
finish_reason       → canonical       canonical → finish_reason
==================  ================  ===================================================
stop                end_turn          end_turn, stop_sequence, pause_turn, error, None
length              max_tokens        max_tokens
tool_calls          tool_use          tool_use; also end_turn/None when tool calls were
                                      sent (clients loop on ``tool_calls``)
function_call       tool_use          —
content_filter      content_filter    content_filter
error (OpenRouter)  error             —
anything else       end_turn          —
==================  ================  ===================================================

Usage ↔ canonical: ``prompt_tokens`` ↔ ``input_tokens``, ``completion_tokens`` ↔
``output_tokens``, ``prompt_tokens_details.cached_tokens`` (or DeepSeek's
``prompt_cache_hit_tokens``) ↔ ``cached_tokens``, ``prompt_tokens_details.cache_write_tokens``
↔ ``cache_creation_tokens``, ``completion_tokens_details.reasoning_tokens`` ↔
``reasoning_tokens``; ``total_tokens`` is recomputed.

Modules: ``wire`` (shared vocabulary: finish reasons, usage, validation), ``content`` (content
parts), ``request``, ``response`` (answers), ``stream`` (stream decoder and the stream's own
table), ``encode`` (stream encoder), ``errors`` (error body, upstream errors) and ``view`` (the
pass-through path's validating view); this package re-exports the contract.

Error body: ``{"error": {"message", "type", "param", "code"}}``. Mid-stream errors are a
``data: {"error": {...}}`` event (the ``openai`` SDK raises ``APIError`` on it) followed by
``data: [DONE]``.
"""

from __future__ import annotations

from omniroute.formats.openai_chat.encode import StreamEncoder
from omniroute.formats.openai_chat.errors import (
    ERROR_TYPES,
    OVERLOADED_STATUS,
    decode_error,
    encode_error,
    encode_stream_error,
)
from omniroute.formats.openai_chat.request import decode_request, encode_request
from omniroute.formats.openai_chat.response import decode_response, encode_response
from omniroute.formats.openai_chat.stream import StreamDecoder
from omniroute.formats.openai_chat.wire import NAME

FRAMING = "sse"

#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("max_completion_tokens",), ("max_tokens",))
#: request headers that change this API's meaning: forwarded to OpenAI-format upstreams only
FORWARD_HEADERS = (b"openai-beta",)

#: This format's extras that refuse a route to another upstream format (400, naming the
#: field): answers of a shape only OpenAI Chat gives. Every other extra (``seed``,
#: penalties, ``logit_bias``, ``prediction``, ``store``, ``service_tier``, ``verbosity``,
#: ``prompt_cache_key``, ``safety_identifier``, vendor fields …) is dropped on such a route.
REFUSED_ACROSS = {
    "n": lambda v: "n" if v not in (None, 1) else None,  # several choices
    "logprobs": lambda v: "logprobs" if v else None,
    "top_logprobs": lambda v: "top_logprobs" if v else None,
    "modalities": lambda v: "modalities" if isinstance(v, list) and "audio" in v else None,
    "audio": lambda v: "audio" if v else None,
    "web_search_options": lambda v: "web_search_options" if v is not None else None,
    "functions": lambda v: "functions" if v else None,  # legacy function calling
}

__all__ = [
    "ERROR_TYPES",
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
    "encode_stream_error",
]
