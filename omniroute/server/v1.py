"""Client-facing OpenAI endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Chat requests decode only a small view (model, stream, max tokens) — the full canonical
request is decoded only when the route or a hook needs it (``pipeline``).
"""

from __future__ import annotations

from typing import Any

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_chat
from omniroute.formats.openai_chat.view import decode_chat_view
from omniroute.gateway import Gateway
from omniroute.pipeline import serve
from omniroute.server.http import HttpRequest, send_json


async def chat_completions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    view = decode_chat_view(body)
    ctx = req.ctx
    ctx.client, ctx.body, ctx.model, ctx.stream = openai_chat, body, view.model, bool(view.stream)
    ctx.max_tokens = max(view.max_tokens or 0, view.max_completion_tokens or 0) or None
    ctx.temperature = view.temperature
    ctx.forward, ctx.options = req.client_headers(openai_chat.FORWARD_HEADERS)
    await serve(gw, ctx, send, req.receive)


async def provider_chat_completions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """``POST /v1/providers/{provider}/chat/completions``: pinned to one provider. A model
    without that provider's prefix gets it; a model of another provider is a 400 naming both."""
    body = await req.read_body(gw.settings.max_body_bytes)
    view = decode_chat_view(body)
    ctx = req.ctx
    ctx.client, ctx.body, ctx.model, ctx.stream = openai_chat, body, view.model, bool(view.stream)
    ctx.max_tokens = max(view.max_tokens or 0, view.max_completion_tokens or 0) or None
    ctx.temperature = view.temperature
    ctx.forward, ctx.options = req.client_headers(openai_chat.FORWARD_HEADERS)
    await serve(gw, ctx, send, req.receive, route_model=pinned_model(gw, req.path_params["provider"], view.model))


def pinned_model(gw: Gateway, provider: str, model: str) -> str:
    """``model`` as ``provider/model`` for the provider named in the path (its id or a prefix)."""
    registry = gw.registry
    owner = registry.prefixes.get(provider)
    if owner is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"unknown provider '{provider}'", param="provider",
                           code="provider_not_found")
    prefix, sep, rest = model.partition("/")
    named = registry.prefixes.get(prefix) if sep else None
    if named is not None and rest:
        if named != owner:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"model '{model}' belongs to provider '{named}', not to "
                               f"'{owner}' named in the path", param="model")
        return model
    return f"{provider}/{model}"


async def list_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    created = int(gw.started)
    data = [
        {"id": model_id, "object": "model", "created": created, "owned_by": owner}
        for model_id, owner in gw.registry.model_ids()
    ]
    await send_json(send, 200, {"object": "list", "data": data})
