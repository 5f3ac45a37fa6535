"""``POST /v1/embeddings``'s job: the client's bytes to an OpenAI-dialect row (model renamed,
answer untouched), Gemini's and Ollama's shapes translated (``media.embeddings``).

Usage: ``ctx.response.usage.input_tokens`` is the upstream's ``usage.prompt_tokens``
(Ollama: ``prompt_eval_count``; Gemini counts none: ~4 characters a token).
"""

from __future__ import annotations

from omniroute.canonical import Response, Usage
from omniroute.context import RequestContext
from omniroute.gateway import Gateway
from omniroute.media import embeddings as emb
from omniroute.media_pipeline import MediaJob, post, translated
from omniroute.providers.row import EMBEDDING
from omniroute.relay import rewrite_model
from omniroute.routing.registry import Leg
from omniroute.routing.targets import Target


def embeddings_job(gw: Gateway, ctx: RequestContext, view: emb.EmbeddingsView) -> MediaJob:
    def prepare(target: Target, leg: Leg) -> tuple[str, bytes]:
        dialect = target.spec.embeddings.dialect  # type: ignore[union-attr]  # checked by check_route
        if dialect == "gemini":
            return emb.gemini_request(view, leg.model, target.provider)
        if dialect == "ollama":
            return "", emb.ollama_request(view, leg.model, target.provider)
        return "", rewrite_model(ctx.body, ctx.model, leg.model)

    async def exchange(target: Target, leg: Leg, prepared: tuple[str, bytes]) -> bytes:
        suffix, body = prepared
        raw, _ctype = await post(gw, ctx, target, target.media_url(EMBEDDING, leg.model) + suffix, body)
        dialect = target.spec.embeddings.dialect  # type: ignore[union-attr]
        if dialect == "openai":
            _record(ctx, leg, emb.prompt_tokens(raw))
            return raw
        answer, tokens = translated(lambda: _translate(dialect, raw, view, ctx.model), target.provider)
        _record(ctx, leg, tokens)
        return answer

    return MediaJob(EMBEDDING, prepare, exchange)


def _translate(dialect: str, raw: bytes, view: emb.EmbeddingsView, model: str) -> tuple[bytes, int]:
    if dialect == "gemini":
        vectors, tokens = emb.gemini_vectors(raw), emb.estimate_tokens(view)
    else:
        vectors, counted = emb.ollama_vectors(raw)
        tokens = counted if isinstance(counted, int) else emb.estimate_tokens(view)
    if len(vectors) != emb.input_count(view.input):
        raise ValueError(f"{len(vectors)} vectors for {emb.input_count(view.input)} inputs")
    return emb.encode_answer(vectors, model, tokens, view.encoding_format), tokens


def _record(ctx: RequestContext, leg: Leg, tokens: int) -> None:
    ctx.response = Response(id="embeddings", model=leg.model, usage=Usage(input_tokens=tokens))
