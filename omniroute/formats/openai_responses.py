"""OpenAI Responses (``/v1/responses``), both as client and upstream format.

The module is split by concern, all re-exported here (this is the format module):
``openai_responses`` (request decoding), ``openai_responses_input`` (input items → messages),
``openai_responses_request`` (canonical → request body), ``openai_responses_output`` (the
response object), ``openai_responses_stream`` (stream decoder) and
``openai_responses_stream_encode`` (stream encoder).

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

from typing import Any

import msgspec

from omniroute.canonical import (
    Reasoning,
    Request,
    ResponseFormat,
    TextBlock,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from omniroute.formats.openai_chat import OVERLOADED_STATUS, decode_error, encode_error
from omniroute.formats.openai_responses_input import InputReader, decode_at, from_validation, invalid, type_of
from omniroute.formats.openai_responses_output import ITEM_SOURCE, NAME, decode_response, encode_response
from omniroute.formats.openai_responses_request import PASSTHROUGH, encode_request
from omniroute.formats.openai_responses_stream import StreamDecoder, StreamEncoder, encode_stream_error

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


class _ToolDef(msgspec.Struct):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class _ReasoningCfg(msgspec.Struct):
    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class _FormatCfg(msgspec.Struct):
    type: str = "text"
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


class _TextCfg(msgspec.Struct):
    format: _FormatCfg | None = None
    verbosity: str | None = None


_FIELD_TYPES: dict[str, Any] = {
    "model": str,
    "input": str | list[msgspec.Raw] | None,
    "instructions": str | None,
    "tools": list[msgspec.Raw] | None,
    "tool_choice": str | dict[str, Any] | None,
    "parallel_tool_calls": bool | None,
    "max_output_tokens": int | None,
    "temperature": float | None,
    "top_p": float | None,
    "stream": bool | None,
    "reasoning": _ReasoningCfg | None,
    "text": _TextCfg | None,
    "user": str | None,
    "metadata": dict[str, Any] | None,
}
_field_decoders = {k: msgspec.json.Decoder(t) for k, t in _FIELD_TYPES.items()}
_top_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_tool_decoder = msgspec.json.Decoder(_ToolDef)

_CHOICE_MODES = {"auto": ToolChoiceMode.AUTO, "none": ToolChoiceMode.NONE, "required": ToolChoiceMode.REQUIRED}


def _decode_fields(body: bytes) -> dict[str, Any]:
    """Top-level fields: known ones typed, the rest decoded as plain JSON (they go to ``extra``)."""
    try:
        top = _top_decoder.decode(body)
    except msgspec.ValidationError:
        raise invalid("request body must be a JSON object", None) from None
    except msgspec.DecodeError as exc:
        raise invalid(f"request body is not valid JSON: {exc}", None) from None
    fields: dict[str, Any] = {}
    for key, raw in top.items():
        decoder = _field_decoders.get(key)
        fields[key] = decode_at(decoder, raw, key) if decoder else msgspec.json.decode(raw)
    return fields


def decode_request(body: bytes) -> Request:
    """A client's ``/v1/responses`` body → canonical ``Request``."""
    f = _decode_fields(body)
    if "model" not in f:
        raise invalid("missing required field `model`", "model")
    extra: dict[str, Any] = {}
    reader = InputReader()
    if f.get("instructions"):
        reader.system.append(TextBlock(f["instructions"]))
    reader.read(f.get("input"))
    req = Request(
        model=f.pop("model"),
        messages=reader.messages,
        system=reader.system,
        tools=_tools(f.get("tools") or [], extra),
        tool_choice=_tool_choice(f.get("tool_choice"), f.get("parallel_tool_calls"), extra),
        max_tokens=f.get("max_output_tokens"),
        temperature=f.get("temperature"),
        top_p=f.get("top_p"),
        stream=bool(f.get("stream")),
        include_usage=bool(f.get("stream")),
        reasoning=_reasoning(f.get("reasoning"), extra),
        response_format=_text_format(f.get("text"), extra),
        user=f.get("user"),
        metadata=f.get("metadata"),
    )
    extra.update((k, v) for k, v in f.items() if k not in _FIELD_TYPES)
    req.extra = {NAME: extra} if extra else {}
    return req


def _tools(raws: list[msgspec.Raw], extra: dict[str, Any]) -> list[Tool]:
    tools: list[Tool] = []
    builtin: list[Any] = []
    for i, raw in enumerate(raws):
        path = f"tools.{i}"
        try:
            tool = _tool_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            if type_of(raw, path) in ("function", None):
                raise from_validation(exc, path) from None
            tool = None
        if tool is None or tool.type != "function":
            builtin.append(msgspec.json.decode(raw))
            continue
        if not tool.name:
            raise invalid("a function tool needs a `name`", f"{path}.name")
        tools.append(Tool(tool.name, tool.description, tool.parameters, tool.strict))
    if builtin:
        extra["tools_builtin"] = builtin
    return tools


def _tool_choice(value: str | dict[str, Any] | None, parallel: bool | None, extra: dict[str, Any]) -> ToolChoice | None:
    if value is None:
        return ToolChoice(parallel=parallel) if parallel is not None else None
    if isinstance(value, str):
        if value not in _CHOICE_MODES:
            raise invalid(f"tool_choice must be auto, none or required, not {value!r}", "tool_choice")
        return ToolChoice(_CHOICE_MODES[value], parallel=parallel)
    if value.get("type") == "function":
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("tool_choice of type function needs a `name`", "tool_choice.name")
        return ToolChoice(ToolChoiceMode.TOOL, name, parallel)
    extra["tool_choice_raw"] = value  # allowed_tools, a built-in tool type, mcp, custom …
    return ToolChoice(_CHOICE_MODES.get(value.get("mode"), ToolChoiceMode.AUTO), parallel=parallel)


def _reasoning(cfg: _ReasoningCfg | None, extra: dict[str, Any]) -> Reasoning | None:
    if cfg is None:
        return None
    summary = cfg.summary or cfg.generate_summary
    if summary:
        extra["reasoning_summary"] = summary
    thoughts = None if summary is None else summary != "none"
    return Reasoning(enabled=cfg.effort != "none", effort=cfg.effort, include_thoughts=thoughts)


def _text_format(text: _TextCfg | None, extra: dict[str, Any]) -> ResponseFormat | None:
    if text is None:
        return None
    if text.verbosity:
        extra["text_verbosity"] = text.verbosity
    fmt = text.format
    if fmt is None:
        return None
    if fmt.type not in ("text", "json_object", "json_schema"):
        raise invalid(f"unknown text.format type {fmt.type!r}", "text.format.type")
    if fmt.type == "json_schema" and fmt.schema is None:
        raise invalid("a json_schema format needs a `schema`", "text.format.schema")
    return ResponseFormat(fmt.type, fmt.schema, fmt.name, fmt.strict)  # type: ignore[arg-type]
