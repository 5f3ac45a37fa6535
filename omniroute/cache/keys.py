"""Cache keys over the canonical request, after model resolution.

The exact key is xxh3-128 over a msgpack encoding of the fields that decide the answer, so
it is the same whichever wire format asked (an Anthropic client's answer serves an OpenAI,
Responses, Gemini or Ollama client with the same canonical request):

=====================  ======================================================================
keyed                  notes
=====================  ======================================================================
route                  the served model: ``provider/model`` after aliases and policies
                       (so an alias and the id it names share answers), or ``combo:<name>``
                       for a combo (any of its legs may have answered)
system, messages       every block as decoded (text, images, tool calls and results, cache
                       hints included)
tools, tool_choice     names, descriptions, JSON schemas, strictness, mode, parallelism
max_tokens             as sent (Anthropic requires one: it hits an OpenAI request only when
                       that one sends the same)
temperature, top_p,    sampling parameters as sent
top_k, stop
reasoning,             effort / budget; JSON mode or schema
response_format
extra                  the client format's own fields (``seed``, penalties, …): a request with
                       such fields hits only requests of its format with the same values
=====================  ======================================================================

Not keyed: ``stream`` and ``include_usage`` (a streamed request hits a non-streamed answer and
the other way round), ``user``, ``metadata``, headers.

The semantic key splits the request in two: the *exact part* (everything above except the
last user message, hashed to 64 bits) must match, and the last user message's text is
compared by embedding. A request whose last message is not a user message with text has no
semantic key.
"""

from __future__ import annotations

from typing import Any

import msgspec
import xxhash

from omniroute.canonical import Message, Request, StopReason, TextBlock
from omniroute.canonical.request import Reasoning, ResponseFormat, Tool, ToolChoice

#: stop reasons whose answers are not kept: a filtered or failed answer is not one to repeat
UNCACHED_STOPS = frozenset({StopReason.CONTENT_FILTER, StopReason.ERROR, None})
#: client extras whose answers the canonical form cannot hold whole (several choices,
#: log probabilities, audio): such requests are never cached
UNCACHEABLE_EXTRAS = {"n": lambda v: v not in (None, 1), "logprobs": bool, "top_logprobs": bool,
                      "audio": bool, "modalities": lambda v: isinstance(v, list) and "audio" in v}


class _Keyed(msgspec.Struct, array_like=True):
    route: str
    system: list[TextBlock]
    messages: list[Message]
    tools: list[Tool]
    tool_choice: ToolChoice | None
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    stop: list[str]
    reasoning: Reasoning | None
    response_format: ResponseFormat | None
    extra: dict[str, Any]


_encode = msgspec.msgpack.Encoder(order="deterministic").encode


def _keyed(req: Request, route: str, messages: list[Message]) -> bytes:
    temperature = float(req.temperature) if req.temperature is not None else None
    return _encode(_Keyed(route, req.system, messages, req.tools, req.tool_choice, req.max_tokens, temperature,
                          req.top_p, req.top_k, req.stop, req.reasoning, req.response_format, req.extra))


def exact_key(req: Request, route: str) -> bytes:
    """16 bytes: the exact cache key of ``req`` served by ``route`` (module table)."""
    return xxhash.xxh3_128_digest(_keyed(req, route, req.messages))


def semantic_key(req: Request, route: str) -> tuple[int, str] | None:
    """(64-bit hash of the exact part, the last user message's text), or ``None`` when the
    request does not end with a user message holding text."""
    if not req.messages:
        return None
    last = req.messages[-1]
    if last.role != "user" or any(type(b) is not TextBlock for b in last.content):
        return None
    text = "".join(b.text for b in last.content).strip()
    if not text:
        return None
    return xxhash.xxh3_64_intdigest(_keyed(req, route, req.messages[:-1])), text


def cacheable(req: Request) -> bool:
    """Whether an answer to ``req`` can be kept whole (see ``UNCACHEABLE_EXTRAS``)."""
    for fields in req.extra.values():
        if isinstance(fields, dict):
            for name, bad in UNCACHEABLE_EXTRAS.items():
                if name in fields and bad(fields[name]):
                    return False
    return True


def body_key(*parts: bytes | str) -> bytes:
    """16 bytes over ``parts`` (idempotency keys and request bodies)."""
    h = xxhash.xxh3_128()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.digest()
