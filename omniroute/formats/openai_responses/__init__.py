"""OpenAI Responses (``/v1/responses``), both as client and upstream format.

The package is split by role, the contract re-exported here: ``wire`` (Structs, validation),
``request`` (request bodies both ways), ``input`` (input items ↔ messages), ``output`` (output
items, usage, status ↔ stop reason), ``response`` (answers), ``stream`` (stream decoder),
``encode`` (stream encoder) and ``errors``.

Request fields (Responses ↔ canonical ``Request``):

==============================================  ==============================================
Responses                                       canonical
==============================================  ==============================================
model, stream, temperature, top_p, user,        same names
metadata
instructions; input messages with role          ``system`` (text blocks, in order; encoded back
system/developer                                as one ``instructions`` string)
input: a string                                 one user message
input messages user / assistant                 ``Message`` (consecutive assistant items —
                                                reasoning, message, function_call — form one
                                                assistant message)
parts input_text / output_text / refusal        ``TextBlock``
input_image (data: URL / http URL / file_id)    ``ImageBlock`` (data / url) / ``UnknownBlock``
input_file (file_data / file_url / file_id)     ``DocumentBlock`` (data / url) / ``UnknownBlock``
function_call {call_id, name, arguments}        ``ToolCallBlock(id=call_id)`` (assistant)
function_call_output {call_id, output}          ``ToolResultBlock`` in a user message (``name``
                                                looked up from the matching function_call)
reasoning {id, summary[], encrypted_content}    ``ThinkingBlock(thinking, signature, id)``
item_reference, any other item                  ``UnknownBlock(raw, source=ITEM_SOURCE)``
tools (type function)                           ``tools`` (name, description, parameters, strict)
tools of any other type (web_search, mcp, …)    ``extra["tools_builtin"]`` (raw list)
tool_choice auto/none/required/{function,name}  ``ToolChoice`` (AUTO/NONE/REQUIRED/TOOL)
tool_choice of another shape                    ``extra["tool_choice_raw"]`` (+ mode from it)
parallel_tool_calls                             ``tool_choice.parallel``
max_output_tokens                               ``max_tokens``
reasoning {effort, summary}                     ``Reasoning(effort, include_thoughts)``;
                                                summary style in ``extra["reasoning_summary"]``
text.format text/json_object/json_schema        ``ResponseFormat``; ``text.verbosity`` in
                                                ``extra["text_verbosity"]``
store, previous_response_id, include, …         ``extra`` (the raw value)
==============================================  ==============================================

Stop reasons (status ↔ canonical, see ``canonical.response``): completed → end_turn, or
tool_use when the output holds a function_call; incomplete(max_output_tokens) → max_tokens;
incomplete(content_filter) → content_filter; incomplete(steered) → pause_turn; another
incomplete reason → max_tokens; failed / cancelled → error. Encoding: max_tokens and
content_filter → incomplete with that reason, error → failed, every other reason → completed.

Lossy, and why:

* Built-in tools (web_search, file_search, mcp, custom, …) have no canonical form; they ride in
  ``extra["tools_builtin"]``. Only this module's encoder sends them back; an encoder of another
  format must raise ``UNSUPPORTED`` when that key is present (the decoder cannot know the
  upstream).
* Message/function_call item ids, message ``phase``, ``is_error`` of tool results, function
  tool fields beyond name/description/parameters/strict and ``text.format.description`` have
  no canonical slot and are dropped. System messages lose their position (hoisted into
  ``system``) and system/developer are not told apart.
* Several summary parts of one reasoning item become one thinking text joined by a blank line;
  a reasoning item decodes with ``id=""`` when it has none, so it is still sent back.
* ``refusal`` parts become plain text (what the user should see); the refusal flag is lost.
* ``UnknownBlock.source`` tells a whole item (``ITEM_SOURCE``, re-sent as an item) from an
  unknown content part (``NAME``, re-sent inside its message).
* Reasoning state (``omniroute.canonical.envelope``): decoded reasoning is labelled Responses'
  (``signature_source``). As a client format, a reasoning item of another provider gets a
  fresh item id and its signature packed (``omr1.<source>..<signature>``) in
  ``encrypted_content``, and a Gemini call signature rides in the ``call_id``; the decoder
  unpacks both (a ``function_call_output`` ``call_id`` too), so that state goes back to its
  provider. Unsigned thinking of another provider (OpenAI Chat, Ollama, an unsigned Gemini
  thought) gets a made-up item id and no envelope; only the byte pass-through could take that
  id to a Responses upstream.
* Encoding: thinking without an ``id``, or whose state is another provider's, is not sent —
  its signature means nothing to OpenAI; stop sequences cannot be sent (``UNSUPPORTED``); top_k is
  dropped; function tools are sent with ``strict: false`` unless strict was asked for
  (Responses defaults to strict, which rejects ordinary schemas); when encrypted reasoning is
  sent back, or reasoning is requested and ``store`` is not ``true``, the body gets
  ``store: false`` (unless given) and ``include: ["reasoning.encrypted_content"]`` so the
  exchange stays stateless and the next turn can replay the reasoning. Of ``extra`` only
  known Responses fields are sent (``PASSTHROUGH``), so another format's extras never leak.
* Redacted thinking and images have no place in a Responses answer and are dropped.

Errors: ``{"error": {"message", "type", "param", "code"}}`` as OpenAI Chat (shared code).
"""

from __future__ import annotations

from omniroute.formats.openai_responses.encode import StreamEncoder
from omniroute.formats.openai_responses.errors import OVERLOADED_STATUS, decode_error, encode_error, encode_stream_error
from omniroute.formats.openai_responses.request import PASSTHROUGH, decode_request, encode_request
from omniroute.formats.openai_responses.response import decode_response, encode_response
from omniroute.formats.openai_responses.stream import StreamDecoder
from omniroute.formats.openai_responses.wire import ITEM_SOURCE, NAME

FRAMING = "sse"

_BUILTIN_CHOICE = ("web_search", "web_search_preview", "file_search", "mcp", "custom", "image_generation",
                   "code_interpreter", "computer_use_preview", "local_shell", "shell", "apply_patch")

#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("max_output_tokens",),)
#: request headers that change this API's meaning: forwarded to Responses upstreams only
FORWARD_HEADERS = (b"openai-beta",)

#: This format's extras that refuse a route to another upstream format (400, naming the
#: field): state kept on OpenAI's servers, or a built-in tool the client forces. Every other
#: extra (``store``, ``include``, ``truncation``, ``prompt_cache_key``, ``safety_identifier``,
#: ``service_tier``, ``client_metadata``, offered built-in tools, ``text.verbosity``,
#: ``reasoning.summary`` style …) is dropped on such a route.
REFUSED_ACROSS = {
    "previous_response_id": lambda v: "previous_response_id" if v else None,
    "conversation": lambda v: "conversation" if v else None,
    "prompt": lambda v: "prompt" if v else None,  # a stored prompt template
    "background": lambda v: "background" if v is True else None,
    "top_logprobs": lambda v: "top_logprobs" if v else None,
    "tool_choice_raw": lambda v: "tool_choice" if isinstance(v, dict) and v.get("type") in _BUILTIN_CHOICE else None,
}

__all__ = [
    "FORWARD_HEADERS",
    "FRAMING",
    "ITEM_SOURCE",
    "MAX_TOKENS_PATHS",
    "NAME",
    "OVERLOADED_STATUS",
    "PASSTHROUGH",
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
