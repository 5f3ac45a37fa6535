"""Client-facing media endpoints (OpenAI's shapes): embeddings, image generation, audio
transcription, their provider-pinned forms and the model lists of each kind.

Each handler checks the request (a 400 naming the field: ``media.embeddings``,
``media.images``, ``media.audio``, ``media.sniff``), fills the request context and hands
the request to ``media_pipeline.serve_media`` with its job. A transcription's form is
read as it arrives and its file spooled to a temporary file (``media.multipart``), at most
``max_audio_bytes`` (413); the spool is removed when the answer is sent.
"""

from __future__ import annotations

from typing import Any

from omniroute.formats import openai_chat
from omniroute.gateway import Gateway
from omniroute.media import embeddings as emb
from omniroute.media import images as img
from omniroute.media.audio import check_fields
from omniroute.media.multipart import boundary_of, read_form
from omniroute.media.sniff import MIME, check_audio
from omniroute.media_pipeline import serve_media
from omniroute.media_pipeline.audio import AudioRequest, audio_job
from omniroute.media_pipeline.embeddings import embeddings_job
from omniroute.media_pipeline.images import images_job
from omniroute.providers.row import EMBEDDING, IMAGE
from omniroute.server.http import HttpRequest, send_json
from omniroute.server.v1 import pinned_model


def _fill(req: HttpRequest, body: bytes, model: str, operation: str) -> None:
    ctx = req.ctx
    ctx.client, ctx.body, ctx.model, ctx.operation = openai_chat, body, model, operation
    ctx.forward, ctx.options = req.client_headers(())


async def _embeddings(gw: Gateway, req: HttpRequest, send: Any, pinned: str | None) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    view = emb.decode_request(body)
    _fill(req, body, view.model or "", "embeddings")
    route_model = pinned_model(gw, pinned, req.ctx.model) if pinned else None
    await serve_media(gw, req.ctx, send, req.receive, embeddings_job(gw, req.ctx, view), route_model)


async def embeddings(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await _embeddings(gw, req, send, None)


async def provider_embeddings(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await _embeddings(gw, req, send, req.path_params["provider"])


async def _images(gw: Gateway, req: HttpRequest, send: Any, pinned: str | None) -> None:
    body = await req.read_body(gw.settings.max_body_bytes)
    view = img.decode_request(body)
    _fill(req, body, view.model or "", "images")
    route_model = pinned_model(gw, pinned, req.ctx.model) if pinned else None
    await serve_media(gw, req.ctx, send, req.receive, images_job(gw, req.ctx, view), route_model)


async def images(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await _images(gw, req, send, None)


async def provider_images(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await _images(gw, req, send, req.path_params["provider"])


async def transcriptions(gw: Gateway, req: HttpRequest, send: Any) -> None:
    settings = gw.settings
    boundary = boundary_of(req.header(b"content-type"))
    form = await read_form(req.stream_body(settings.max_audio_bytes), boundary, settings.spool_dir)
    try:
        upload = form.files.get("file")
        fmt = check_fields(form.fields, upload is not None)
        assert upload is not None
        kind = check_audio(upload.filename, upload.head, upload.size)
        _fill(req, b"", form.fields["model"], "transcription")
        job = audio_job(gw, req.ctx, AudioRequest(form.fields, upload, fmt, MIME[kind]))
        await serve_media(gw, req.ctx, send, req.receive, job)
    finally:
        form.close()


def _listing(gw: Gateway, kind: str) -> dict[str, Any]:
    created = int(gw.started)
    data = [{"id": model_id, "object": "model", "created": created, "owned_by": owner}
            for model_id, owner in gw.registry.models_of_kind(kind)]
    return {"object": "list", "data": data}


async def list_embedding_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, _listing(gw, EMBEDDING))


async def list_image_models(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, _listing(gw, IMAGE))


