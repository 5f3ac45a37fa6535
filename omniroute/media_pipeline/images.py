"""``POST /v1/images/generations``'s job: the client's bytes to an OpenAI-dialect row (model
renamed, answer untouched); xAI, Together and Fireworks requests and answers translated
(``media.images``). ``ctx.units = {"images": n}``: the images the answer holds.
"""

from __future__ import annotations

from omniroute.canonical import Response, Usage
from omniroute.context import RequestContext
from omniroute.gateway import Gateway
from omniroute.media import images as img
from omniroute.media_pipeline import IMAGE, MediaJob, post, translated
from omniroute.providers.row import IMAGE as IMAGE_KIND
from omniroute.relay import rewrite_model
from omniroute.routing.registry import Leg
from omniroute.routing.targets import Target

_REQUESTS = {"xai": img.xai_request, "together": img.together_request}
_ANSWERS = {"xai": img.openai_like_answer, "together": img.together_answer}


def images_job(gw: Gateway, ctx: RequestContext, view: img.ImagesView) -> MediaJob:
    def prepare(target: Target, leg: Leg) -> bytes:
        dialect = target.spec.images.dialect  # type: ignore[union-attr]  # checked by check_route
        if dialect == "fireworks":
            return img.fireworks_request(view)
        if dialect in _REQUESTS:
            return _REQUESTS[dialect](view, leg.model)
        return rewrite_model(ctx.body, ctx.model, leg.model)

    async def exchange(target: Target, leg: Leg, body: bytes) -> bytes:
        dialect = target.spec.images.dialect  # type: ignore[union-attr]
        if dialect == "fireworks":
            return await _fireworks(gw, ctx, target, leg, body, view)
        raw, _ctype = await post(gw, ctx, target, target.media_url(IMAGE_KIND, leg.model), body)
        if dialect in _ANSWERS:
            answer, count = translated(lambda: _ANSWERS[dialect](raw), target.provider)
        else:
            answer, count = raw, img.openai_count(raw)
        _record(ctx, leg, count)
        return answer

    return MediaJob(IMAGE_KIND, prepare, exchange)


async def _fireworks(gw: Gateway, ctx: RequestContext, target: Target, leg: Leg, body: bytes,
                     view: img.ImagesView) -> bytes:
    """One workflow call per image; each answers the image's bytes."""
    url = target.media_url(IMAGE_KIND, img.fireworks_model(leg.model))
    pictures = []
    for _ in range(img.count(view)):
        raw, ctype = await post(gw, ctx, target, url, body, {"Accept": "image/png"}, expect=IMAGE)
        pictures.append((raw, ctype.split(";")[0].strip()))
    answer, count = img.bytes_answer(pictures, view.response_format)
    _record(ctx, leg, count)
    return answer


def _record(ctx: RequestContext, leg: Leg, count: int) -> None:
    ctx.units = {"images": count}
    ctx.response = Response(id="images", model=leg.model, usage=Usage())
