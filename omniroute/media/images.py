"""Image generation: OpenAI's request checked, and translated for xAI, Together and Fireworks.

An ``openai``-dialect upstream (OpenAI, Nebius, custom nodes) gets the client's bytes with
the model renamed, and its answer back untouched. The others:

====================  ====================  ===========================  ============================
OpenAI request        xAI                   Together                     Fireworks (FLUX workflow)
====================  ====================  ===========================  ============================
``prompt``            ``prompt``            ``prompt``                   ``prompt``
``n``                 ``n``                 ``n``                        one call per image
``size`` WxH          (not taken: dropped)  ``width``, ``height``        ``aspect_ratio`` (nearest)
``quality``,          (dropped)             (dropped)                    (dropped)
``style``
``response_format``   ``response_format``   ``url`` / ``base64``         ``Accept: image/png``: the
                                                                         image bytes are the answer
====================  ====================  ===========================  ============================

Answers become OpenAI's ``{"created", "data": [{"url"} | {"b64_json"}, ...]}`` (with
``revised_prompt`` when the upstream gives one). Fireworks answers image bytes, so its
``url`` answer is a ``data:image/png;base64,…`` URL.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError

MAX_N = 10
FORMATS = ("url", "b64_json")
#: Fireworks' FLUX aspect ratios, https://docs.fireworks.ai (text_to_image)
ASPECTS = ("1:1", "21:9", "16:9", "3:2", "5:4", "4:5", "2:3", "9:16", "9:21")


class ImagesView(msgspec.Struct):
    """The fields of an OpenAI images body the gateway reads (others pass through)."""

    prompt: Any = None
    model: str | None = None
    n: Any = None
    size: str | None = None
    quality: str | None = None
    response_format: str | None = None
    style: str | None = None
    user: str | None = None


_view = msgspec.json.Decoder(ImagesView)
_encode = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


def _bad(message: str, param: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def decode_request(body: bytes) -> ImagesView:
    """The checked view of a client body: 400 naming the field that is missing or wrong."""
    try:
        view = _view.decode(body)
    except msgspec.ValidationError as exc:
        raise _bad(f"invalid images request: {exc}", "body") from None
    except msgspec.DecodeError:
        raise _bad("request body is not valid JSON", "body") from None
    if not view.model:
        raise _bad("'model' is required", "model")
    if not isinstance(view.prompt, str) or not view.prompt.strip():
        raise _bad("'prompt' is required and must be a non-empty string", "prompt")
    if view.n is not None and (not isinstance(view.n, int) or isinstance(view.n, bool) or not 1 <= view.n <= MAX_N):
        raise _bad(f"'n' must be an integer from 1 to {MAX_N}", "n")
    if view.response_format is not None and view.response_format not in FORMATS:
        raise _bad(f"'response_format' must be 'url' or 'b64_json', not {view.response_format!r}", "response_format")
    if view.size is not None and view.size != "auto" and _dimensions(view.size) is None:
        raise _bad(f"'size' must be WIDTHxHEIGHT (such as 1024x1024) or 'auto', not {view.size!r}", "size")
    return view


def _dimensions(size: str | None) -> tuple[int, int] | None:
    width, sep, height = (size or "").partition("x")
    if sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
        return int(width), int(height)
    return None


def count(view: ImagesView) -> int:
    return view.n if isinstance(view.n, int) else 1


# -- requests ----------------------------------------------------------------------------------
def xai_request(view: ImagesView, model: str) -> bytes:
    body: dict[str, Any] = {"model": model, "prompt": view.prompt, "n": count(view)}
    if view.response_format:
        body["response_format"] = view.response_format
    if view.user:
        body["user"] = view.user
    return _encode.encode(body)


def together_request(view: ImagesView, model: str) -> bytes:
    body: dict[str, Any] = {"model": model, "prompt": view.prompt, "n": count(view),
                            "response_format": "base64" if view.response_format == "b64_json" else "url"}
    dims = _dimensions(view.size)
    if dims is not None:
        body["width"], body["height"] = dims
    return _encode.encode(body)


def fireworks_request(view: ImagesView) -> bytes:
    """One image's body (the exchange makes ``n`` calls)."""
    return _encode.encode({"prompt": view.prompt, "aspect_ratio": aspect_ratio(view.size)})


def fireworks_model(model: str) -> str:
    """Fireworks' full model path (``flux-1-schnell-fp8`` → ``accounts/fireworks/models/…``)."""
    return model if model.startswith("accounts/") else f"accounts/fireworks/models/{model}"


def aspect_ratio(size: str | None) -> str:
    """The Fireworks aspect ratio nearest to ``size`` (``1:1`` when none is asked)."""
    dims = _dimensions(size)
    if dims is None:
        return "1:1"
    wanted = dims[0] / dims[1]
    return min(ASPECTS, key=lambda a: abs(int(a.split(":")[0]) / int(a.split(":")[1]) - wanted))


# -- answers -----------------------------------------------------------------------------------
def _answer(items: list[dict[str, Any]], created: int | None = None) -> bytes:
    return _encode.encode({"created": created or int(time.time()), "data": items})


def openai_like_answer(body: bytes) -> tuple[bytes, int]:
    """An xAI answer (OpenAI's shape, ``created`` sometimes missing): (answer, images)."""
    data = _decode.decode(body)
    items = [{k: v for k, v in item.items() if k in ("url", "b64_json", "revised_prompt")}
             for item in data.get("data") or []]
    return _answer(items, data.get("created")), len(items)


def together_answer(body: bytes) -> tuple[bytes, int]:
    items = []
    for item in _decode.decode(body).get("data") or []:
        if item.get("b64_json") is not None:
            items.append({"b64_json": item["b64_json"]})
        elif item.get("url") is not None:
            items.append({"url": item["url"]})
    return _answer(items), len(items)


def bytes_answer(images: list[tuple[bytes, str]], response_format: str | None) -> tuple[bytes, int]:
    """Image bytes (with their MIME types) as OpenAI's answer: ``b64_json``, or a data URL."""
    items = []
    for raw, mime in images:
        encoded = base64.b64encode(raw).decode("ascii")
        items.append({"b64_json": encoded} if response_format == "b64_json" else
                     {"url": f"data:{mime};base64,{encoded}"})
    return _answer(items), len(items)


def openai_count(body: bytes) -> int:
    """How many images an OpenAI answer holds (for usage records)."""
    try:
        return len(_decode.decode(body).get("data") or [])
    except (msgspec.DecodeError, AttributeError):
        return 0
