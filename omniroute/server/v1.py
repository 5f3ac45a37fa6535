"""Client-facing OpenAI endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Chat requests decode only a small view (model, stream, max tokens) — the full canonical
request is decoded only when the route or a hook needs it (``pipeline``).
"""

from __future__ import annotations

from typing import Any

from omniroute.formats import openai_chat
from omniroute.formats.openai_chat_view import decode_chat_view
from omniroute.gateway import Gateway
from omniroute.pipeline import serve
from omniroute.server.http import HttpRequest, send_json


async def chat_completions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    view = decode_chat_view(body)
    ctx = req.ctx
    ctx.client, ctx.body, ctx.model, ctx.stream = openai_chat, body, view.model, bool(view.stream)
    ctx.max_tokens = max(view.max_tokens or 0, view.max_completion_tokens or 0) or None
    ctx.forward = req.pick_headers(openai_chat.FORWARD_HEADERS)
    await serve(gw, ctx, send, req.receive)


async def list_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    created = int(gw.started)
    data = [
        {"id": model_id, "object": "model", "created": created, "owned_by": owner}
        for model_id, owner in gw.registry.model_ids()
    ]
    await send_json(send, 200, {"object": "list", "data": data})
