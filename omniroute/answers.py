"""Answers that did not come through a relay, and answers assembled after the fact.

``send_answer`` tells a pre-hook's answer (a cache hit, an idempotent replay) in the client's
format: one JSON body, or — for a streaming request — the client's own stream
(``canonical.assemble.replay`` fed to its stream encoder, usage included), after any progress
stages still pending. ``collect_answer`` assembles ``ctx.response`` from the upstream bytes a
hook asked to keep (``ctx.captured``), for post-hooks, off the request path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from omniroute.canonical import Response
from omniroute.canonical.assemble import Assembler, replay
from omniroute.context import RequestContext
from omniroute.formats.framing import NDJSONDecoder, SSEDecoder
from omniroute.formats.registry import FORMATS
from omniroute.relay import JSON_HEADERS, STREAM_HEADERS, start


async def send_answer(send: Any, ctx: RequestContext, answer: Response,
                      make_encoder: Callable[[], Any] | None = None) -> None:
    """A pre-hook's answer in the client's format: one JSON body, or — for a streaming
    request — told again as the client's own stream (usage included)."""
    answer = msgspec.structs.replace(answer, model=ctx.model)
    client = ctx.client
    if not ctx.stream:
        await send(start(ctx, JSON_HEADERS))
        await send({"type": "http.response.body", "body": client.encode_response(answer)})
        return
    encoder = make_encoder() if make_encoder else client.StreamEncoder(ctx.model, ctx.canonical().include_usage)
    body = b"".join(encoder.encode(event) for event in replay(answer))
    progress = ctx.progress
    if progress is not None and progress.comments and progress.pending:
        await progress.flush()
    ctx.first_byte = time.perf_counter()
    await send(start(ctx, STREAM_HEADERS[client.FRAMING]))
    await send({"type": "http.response.body", "body": body})


def collect_answer(ctx: RequestContext) -> None:
    """Assemble ``ctx.response`` from the captured upstream bytes (post-hooks, off the
    request path): decoded by the served format's own decoders, usage included."""
    if ctx.response is not None or not ctx.captured or ctx.upstream_format is None:
        return
    upstream = FORMATS[ctx.upstream_format]
    if not ctx.stream:
        ctx.response = upstream.decode_response(b"".join(ctx.captured))
        return
    framer = SSEDecoder() if upstream.FRAMING == "sse" else NDJSONDecoder()
    decoder = upstream.StreamDecoder()
    assembler = Assembler()
    for chunk in ctx.captured:
        for frame in framer.feed(chunk):
            for event in decoder.feed(frame):
                assembler.feed(event)
    for frame in framer.close():
        for event in decoder.feed(frame):
            assembler.feed(event)
    for event in decoder.close():
        assembler.feed(event)
    ctx.response = assembler.response
