"""Client endpoints of the non-OpenAI-Chat formats: Anthropic, OpenAI Responses, Gemini, Ollama.

Each handler decodes the body with its format's ``decode_request`` (so bad input is answered
in that dialect, naming the field), resolves the model, and then either relays bytes (the
upstream speaks the same format: only the model is renamed) or translates through the
canonical form (``omniroute.translate``).

=============================================  ==========  ==========================================
path                                           format      notes
=============================================  ==========  ==========================================
POST /v1/messages                              anthropic
POST /v1/messages/count_tokens                 anthropic   upstream count when it has one, else the
                                                           documented local estimate
POST /v1/responses                             responses
GET  /v1beta/models                            gemini      model list
POST /v1beta/models/{model}:generateContent    gemini      ``{model}`` may contain ``/``; also
     …:streamGenerateContent[?alt=sse]                     under ``/v1/models/``; JSON-array stream
                                                           unless ``alt=sse``
POST /api/chat, /v1/api/chat                   ollama      NDJSON stream (the default)
GET  /api/tags, /v1/api/tags; POST /api/show   ollama
=============================================  ==========  ==========================================
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from omniroute.canonical import Request
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import anthropic, gemini, ollama, openai_responses
from omniroute.gateway import Gateway
from omniroute.pipeline import attempt, resolve, serve
from omniroute.relay import JSON_HEADERS, relay_json, rewrite_model
from omniroute.server.http import HttpRequest, send_bytes


async def _serve(
    gw: Gateway, req: HttpRequest, send: Any, fmt: ModuleType, creq: Request, body: bytes,
    make_encoder: Callable[[], Any] | None = None, model_in_body: bool = True,
) -> None:
    ctx = req.ctx
    ctx.client, ctx.body, ctx.request = fmt, body, creq
    ctx.model, ctx.stream, ctx.max_tokens, ctx.temperature = creq.model, creq.stream, creq.max_tokens, creq.temperature
    ctx.forward, ctx.options = req.client_headers(fmt.FORWARD_HEADERS)
    await serve(gw, ctx, send, req.receive, make_encoder, model_in_body)


async def messages(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    await _serve(gw, req, send, anthropic, anthropic.decode_request(body), body)


async def count_tokens(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    creq = anthropic.decode_count_tokens_request(body)
    ctx = req.ctx
    route = resolve(gw, ctx, creq.model)  # the key's policies apply here too
    path = route.spec.count_tokens_path
    if route.spec.format == anthropic.NAME and path:
        prepared = rewrite_model(body, creq.model, route.model), req.pick_headers(anthropic.FORWARD_HEADERS)
        won = await attempt(gw, ctx, route, lambda _f, _s, _l: prepared, lambda t, _leg: t.url(path))
        await relay_json(send, won.first, ctx)
        return
    await send_bytes(send, 200, anthropic.encode_count_tokens(anthropic.estimate_tokens(creq)), JSON_HEADERS)


async def responses(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    await _serve(gw, req, send, openai_responses, openai_responses.decode_request(body), body)


async def gemini_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_bytes(send, 200, gemini.encode_model_list([m for m, _owner in gw.registry.model_ids()]))


_GEMINI_ACTIONS = {"generateContent": False, "streamGenerateContent": True}


async def gemini_generate(gw: Gateway, req: HttpRequest, send: Any) -> None:
    model, _, action = req.path_params["rest"].rpartition(":")
    if action not in _GEMINI_ACTIONS or not model:
        raise GatewayError(ErrorKind.NOT_FOUND, f"unknown Gemini method '{action}'; use generateContent or "
                                                "streamGenerateContent")
    body = await req.read_body(gw.settings.max_body_bytes)
    creq = gemini.decode_request(body)
    creq.model = model.removeprefix("models/")
    creq.stream = _GEMINI_ACTIONS[action]
    creq.include_usage = True
    sse = req.query.get("alt") == "sse"
    make_encoder = None
    if creq.stream and not sse:
        def make_encoder() -> Any:
            return gemini.StreamEncoder(creq.model, True, framing="json_array")
    await _serve(gw, req, send, gemini, creq, body, make_encoder, model_in_body=False)


async def ollama_chat(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    await _serve(gw, req, send, ollama, ollama.decode_request(body), body)


async def ollama_tags(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_bytes(send, 200, ollama.encode_tags([m for m, _owner in gw.registry.model_ids()]))


async def ollama_show(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    name = payload.get("model") or payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not name:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'model' is required", param="model")
    gw.registry.resolve(name)
    await send_bytes(send, 200, ollama.encode_show(name))
