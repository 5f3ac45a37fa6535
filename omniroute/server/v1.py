"""Client-facing OpenAI endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

from omniroute.formats import openai_chat
from omniroute.formats.openai_chat.view import decode_chat_view
from omniroute.gateway import Gateway
from omniroute.pipeline import attempt, clamp_max_tokens, relay_json, relay_stream, rewrite_model
from omniroute.providers.fit import check_images
from omniroute.server.http import HttpRequest, send_json
from omniroute.translate import translated


async def chat_completions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    view = decode_chat_view(body)
    route = gw.registry.resolve(view.model)
    if route.spec.format != openai_chat.NAME:
        await translated(gw, send, req.receive, openai_chat, openai_chat.decode_request(body), route, None, None,
                         req.ctx)
        return
    info = route.info
    if route.spec.text_only or (info is not None and not info.vision):  # contents are decoded only here
        check_images(openai_chat.decode_request(body), route.spec, route.model, info)
    upstream = rewrite_model(body, view.model, route.model)
    limit = info.max_output if info is not None else None
    if limit is not None and max(view.max_tokens or 0, view.max_completion_tokens or 0) > limit:
        upstream = clamp_max_tokens(upstream, openai_chat, limit)
    headers = req.pick_headers(openai_chat.FORWARD_HEADERS)
    target, resp = await attempt(gw, route, upstream, bool(view.stream), headers, req.ctx)
    if view.stream:
        await relay_stream(send, req.receive, resp, target, openai_chat, req.ctx)
    else:
        await relay_json(send, resp, target)


async def list_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    created = int(gw.started)
    data = [
        {"id": model_id, "object": "model", "created": created, "owned_by": owner}
        for model_id, owner in gw.registry.model_ids()
    ]
    await send_json(send, 200, {"object": "list", "data": data})


