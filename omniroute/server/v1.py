"""Client-facing OpenAI endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

from omniroute.formats import openai_chat
from omniroute.formats.openai_chat_view import decode_chat_view
from omniroute.gateway import Gateway
from omniroute.pipeline import attempt, relay_json, relay_stream, rewrite_model
from omniroute.server.http import HttpRequest, send_json
from omniroute.translate import check_capabilities, translated


async def chat_completions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    view = decode_chat_view(body)
    route = gw.registry.resolve(view.model)
    if route.spec.format != openai_chat.NAME:
        await translated(gw, send, req.receive, openai_chat, openai_chat.decode_request(body), route)
        return
    if route.spec.text_only:  # the pass-through path decodes contents only for such rows
        check_capabilities(route, openai_chat.decode_request(body))
    upstream = rewrite_model(body, view.model, route.model)
    target, resp = await attempt(gw, route, upstream, bool(view.stream))
    if view.stream:
        await relay_stream(send, req.receive, resp, target, openai_chat)
    else:
        await relay_json(send, resp, target)


async def list_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    created = int(gw.started)
    data = [
        {"id": model_id, "object": "model", "created": created, "owned_by": owner}
        for model_id, owner in gw.registry.model_ids()
    ]
    await send_json(send, 200, {"object": "list", "data": data})


