"""Progress events: what a streaming request is waiting on, told while it waits.

A streaming request with ``X-OmniRoute-Progress: true`` gets its stages as they happen
(nothing extra is sent without the header, nor for a non-streaming request):

================  =============================================================================
stage             data
================  =============================================================================
``queued``        ``reason`` when it waits for an identical request (coalescing) or for the
                  request holding its idempotency key; else it is about to be routed
``routed``        ``provider``, ``connection``, ``model``, ``attempt`` (1, 2, …): an account is
                  being asked
``fallback``      ``provider``, ``model``, ``error`` (kind), ``status``: that account failed,
                  the next is tried
``first_token``   ``ms`` since the request arrived: the upstream's first event is here
``cache_hit``     ``match`` (``exact``, ``semantic`` with ``similarity``, ``coalesced``,
                  ``idempotent``): answered without an upstream
================  =============================================================================

How each client format carries them:

==================================  ===============================================================
client format                       carried as
==================================  ===============================================================
OpenAI Chat, Responses, Anthropic   SSE comment lines, ``: progress {"stage": "routed", …}`` + a
                                    blank line, sent the moment each stage happens. The stream's
                                    head (200, ``X-OmniRoute-Progress: enabled``) goes out at the
                                    first event, so a failure before the first token arrives as
                                    the format's stream error event (which the SDKs raise as they
                                    raise an error status), not as a 4xx/5xx status. The SDKs skip
                                    comment lines.
Gemini, Ollama                      no extra bytes in the body: the google-genai SDK hands every
                                    non-``data:`` line to its JSON parser and Ollama's NDJSON has
                                    no comments, so either would break. The head says
                                    ``X-OmniRoute-Progress: headers`` and carries the stages that
                                    happened before the answer began (all of them but the
                                    stream itself) as a JSON array in ``X-OmniRoute-Progress-Events``.
==================================  ===============================================================
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from omniroute.context import RequestContext
from omniroute.relay import SSE_HEADERS, start

#: client formats whose stream parsers skip SSE comments
COMMENT_FORMATS = frozenset({"openai_chat", "openai_responses", "anthropic"})
ASKED = b"x-omniroute-progress"
EVENTS = b"x-omniroute-progress-events"
_json = msgspec.json.Encoder()


class Progress:
    """One request's progress; ``send`` is the ASGI send it writes comments to (events mode)."""

    __slots__ = ("comments", "ctx", "head_sent", "pending", "send", "sent")

    def __init__(self, ctx: RequestContext, send: Any, comments: bool) -> None:
        self.ctx = ctx
        self.send = send
        self.comments = comments
        self.pending: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.head_sent = False
        ctx.add_header(ASKED, "enabled" if comments else "headers")

    @classmethod
    def of(cls, ctx: RequestContext, send: Any) -> Progress | None:
        """The request's progress when it asked for it on a stream, else ``None``."""
        options = ctx.options
        if not ctx.stream or options is None or options.get(ASKED, b"").lower() not in (b"true", b"1"):
            return None
        return cls(ctx, send, ctx.client_format in COMMENT_FORMATS)

    def note(self, stage: str, **data: Any) -> None:
        """Record a stage; it is sent with the next ``emit`` or the answer's head."""
        event = {"stage": stage, **{k: v for k, v in data.items() if v is not None}}
        self.pending.append(event)

    async def emit(self, stage: str, **data: Any) -> None:
        """Record a stage and, for a comment format, send it now (the head first)."""
        self.note(stage, **data)
        if self.comments:
            await self.flush()

    async def flush(self) -> None:
        if not self.comments or not self.pending:
            return
        if not self.head_sent:
            self.head_sent = True
            await self.send(start(self.ctx, SSE_HEADERS))
        body = self.lines()
        await self.send({"type": "http.response.body", "body": body, "more_body": True})

    def lines(self) -> bytes:
        """The pending stages as comment lines (and now sent)."""
        out = b"".join(b": progress " + _json.encode(e) + b"\n\n" for e in self.pending)
        self.sent.extend(self.pending)
        self.pending = []
        return out

    def head(self) -> list[tuple[bytes, bytes]]:
        """Headers for the answer's head (headers mode: every stage so far)."""
        if self.comments or not self.pending:
            return []
        self.sent.extend(self.pending)
        events, self.pending = self.pending, []
        return [(EVENTS, _json.encode(events))]

    async def sender(self, message: dict[str, Any]) -> None:
        """The ASGI send of a request whose head may already be out: a second head is dropped."""
        if message["type"] == "http.response.start":
            if self.head_sent:
                return
            self.head_sent = True
        await self.send(message)

    def since(self) -> float:
        return round((time.perf_counter() - self.ctx.started) * 1000, 3)
