"""``POST /v1/embeddings``'s job: the client's bytes to an OpenAI-dialect row (model renamed,
answer untouched), Gemini's and Ollama's shapes translated (``media.embeddings``).

Usage: ``ctx.response.usage.input_tokens`` is the upstream's ``usage.prompt_tokens``
(Ollama: ``prompt_eval_count``; Gemini counts none: ~4 characters a token). A pass-through
answer over 64 KiB (a thousand vectors) is relayed to the client as it arrives
(``media_pipeline.post_head``), its usage read from its last bytes once relayed.
"""

from __future__ import annotations

from omniroute.canonical import Response, Usage
from omniroute.context import RequestContext
from omniroute.gateway import Gateway
from omniroute.media import embeddings as emb
from omniroute.media_pipeline import MediaJob, post, post_head, translated
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
        url = target.media_url(EMBEDDING, leg.model) + suffix
        dialect = target.spec.embeddings.dialect  # type: ignore[union-attr]
        if dialect == "openai":  # pass-through: a large answer is relayed as it arrives
            whole = await post_head(gw, ctx, target, job, url, body)
            if whole is not None:
                _record(ctx, leg, emb.prompt_tokens(whole))
                return whole
            job.on_tail = lambda tail: _record(ctx, leg, emb.prompt_tokens(tail))
            return job.first
        raw, _ctype = await post(gw, ctx, target, url, body)
        answer, tokens = translated(lambda: _translate(dialect, raw, view, ctx.model), target.provider)
        _record(ctx, leg, tokens)
        return answer

    job = MediaJob(EMBEDDING, prepare, exchange)
    return job


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
