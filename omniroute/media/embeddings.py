"""Embeddings: OpenAI's request checked, and translated to and from Gemini and Ollama.

The client speaks OpenAI's ``POST /v1/embeddings``. An OpenAI-dialect upstream gets the
client's bytes (model renamed) and its answer comes back untouched; the others:

=====================  ==================================  ==================================
OpenAI                 Gemini                              Ollama ``/api/embed``
=====================  ==================================  ==================================
``input`` (a string)   ``:embedContent`` ``content.parts``  ``input``
``input`` (strings)    ``:batchEmbedContents`` one          ``input`` (list)
                       ``requests[]`` entry each
token arrays           400 (no text to send)               400
``dimensions``         ``outputDimensionality``            ``dimensions``
``data[i].embedding``  ``embedding.values`` /              ``embeddings[i]``
                       ``embeddings[i].values``
``usage``              estimated: ~4 characters a token    ``prompt_eval_count``
=====================  ==================================  ==================================

``encoding_format: "base64"`` (the openai SDK's default) answers each vector as the base64 of
its little-endian float32 values, as OpenAI does; translated answers honour it.
"""

from __future__ import annotations

import base64
import re
import sys
from array import array
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError

MAX_INPUTS = 2048
ENCODINGS = ("float", "base64")


class EmbeddingsView(msgspec.Struct):
    """The fields of an OpenAI embeddings body the gateway reads (others pass through)."""

    model: str | None = None
    input: Any = None
    encoding_format: str | None = None
    dimensions: int | None = None


class _TextView(EmbeddingsView):
    """The common case, checked by msgspec in C: text input (a string or strings)."""

    input: str | list[str] | None = None


_view = msgspec.json.Decoder(EmbeddingsView)
_text_view = msgspec.json.Decoder(_TextView)
_encode = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


def _bad(message: str, param: str, code: str | None = None) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param, code=code)


def decode_request(body: bytes) -> EmbeddingsView:
    """The checked view of a client body: 400 naming the field that is missing or wrong."""
    try:
        view: EmbeddingsView = _text_view.decode(body)
        count = len(view.input) if isinstance(view.input, list) and view.input and "" not in view.input else None
    except msgspec.ValidationError:
        view, count = _decode_any(body), None
    except msgspec.DecodeError:
        raise _bad("request body is not valid JSON", "body") from None
    if not view.model:
        raise _bad("'model' is required", "model")
    if count is None:
        count = input_count(view.input)
    if count > MAX_INPUTS:
        raise _bad(f"too many inputs: {count} (at most {MAX_INPUTS} per request)", "input", "too_many_inputs")
    if view.encoding_format is not None and view.encoding_format not in ENCODINGS:
        raise _bad(f"'encoding_format' must be 'float' or 'base64', not {view.encoding_format!r}", "encoding_format")
    if view.dimensions is not None and view.dimensions < 1:
        raise _bad("'dimensions' must be a positive integer", "dimensions")
    return view


def _decode_any(body: bytes) -> EmbeddingsView:
    """Token arrays, or input of a wrong type: decoded loosely, then checked field by field."""
    try:
        return _view.decode(body)
    except msgspec.ValidationError as exc:
        raise _bad(f"invalid embeddings request: {exc}", "body") from None


def input_count(value: Any) -> int:
    """How many inputs ``input`` holds: a string, strings, a token array or token arrays."""
    if value is None:
        raise _bad("'input' is required", "input")
    if isinstance(value, str):
        if not value:
            raise _bad("'input' must not be an empty string", "input")
        return 1
    if not isinstance(value, list) or not value:
        raise _bad("'input' must be a string, an array of strings or an array of token arrays, and not empty",
                   "input")
    first = value[0]
    if isinstance(first, int):
        return _check_all(value, int, "tokens") and 1
    if isinstance(first, str):
        _check_all(value, str, "strings")
        if not all(value):
            raise _bad(f"'input[{value.index('')}]' must not be an empty string", f"input[{value.index('')}]")
        return len(value)
    if isinstance(first, list):
        _check_all(value, list, "token arrays")
        for i, tokens in enumerate(value):
            if not tokens or not all(isinstance(t, int) for t in tokens):
                raise _bad(f"'input[{i}]' must be a non-empty array of integer tokens", f"input[{i}]")
        return len(value)
    raise _bad("'input' must be a string, an array of strings or an array of token arrays", "input")


def _check_all(value: list[Any], kind: type, what: str) -> int:
    bad = next((i for i, item in enumerate(value) if not isinstance(item, kind) or isinstance(item, bool)), None)
    if bad is not None:
        raise _bad(f"'input' mixes types: input[{bad}] is not like input[0] (an array of {what})", f"input[{bad}]")
    return len(value)


def texts(view: EmbeddingsView, provider: str) -> list[str]:
    """The inputs as texts, for an upstream that takes only text (token arrays: 400)."""
    value = view.input
    if isinstance(value, str):
        return [value]
    if isinstance(value[0], str):
        return value
    raise _bad(f"provider '{provider}' embeds text only: token-array input cannot be sent to it", "input",
               "unsupported_input")


# -- Gemini ----------------------------------------------------------------------------------
def gemini_request(view: EmbeddingsView, model: str, provider: str) -> tuple[str, bytes]:
    """(path suffix, body) for Gemini: ``:embedContent`` for one string, else a batch."""
    items = texts(view, provider)
    extra = {"outputDimensionality": view.dimensions} if view.dimensions else {}
    if isinstance(view.input, str):
        return ":embedContent", _encode.encode({"content": {"parts": [{"text": items[0]}]}, **extra})
    requests = [{"model": f"models/{model}", "content": {"parts": [{"text": text}]}, **extra} for text in items]
    return ":batchEmbedContents", _encode.encode({"requests": requests})


def gemini_vectors(body: bytes) -> list[list[float]]:
    data = _decode.decode(body)
    if "embedding" in data:
        return [data["embedding"]["values"]]
    return [item["values"] for item in data["embeddings"]]


# -- Ollama ----------------------------------------------------------------------------------
def ollama_request(view: EmbeddingsView, model: str, provider: str) -> bytes:
    items = texts(view, provider)
    body: dict[str, Any] = {"model": model, "input": view.input if isinstance(view.input, str) else items}
    if view.dimensions:
        body["dimensions"] = view.dimensions
    return _encode.encode(body)


def ollama_vectors(body: bytes) -> tuple[list[list[float]], int | None]:
    data = _decode.decode(body)
    return data["embeddings"], data.get("prompt_eval_count")


# -- OpenAI answers ----------------------------------------------------------------------------
def estimate_tokens(view: EmbeddingsView) -> int:
    """~4 characters a token, at least one per input (for upstreams that count none)."""
    items = [view.input] if isinstance(view.input, str) else view.input
    return sum(max(1, len(t) // 4) if isinstance(t, str) else len(t) for t in items)


def _b64(vector: list[float]) -> str:
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def encode_answer(vectors: list[list[float]], model: str, tokens: int, encoding: str | None) -> bytes:
    """OpenAI's embeddings answer for ``vectors`` (``encoding``: ``base64`` or float)."""
    as_b64 = encoding == "base64"
    data = [{"object": "embedding", "index": i, "embedding": _b64(v) if as_b64 else v}
            for i, v in enumerate(vectors)]
    return _encode.encode({"object": "list", "data": data, "model": model,
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


_PROMPT_TOKENS = re.compile(rb'"prompt_tokens"\s*:\s*(\d+)')


class _UsageView(msgspec.Struct):
    usage: dict[str, Any] | None = None


_usage_view = msgspec.json.Decoder(_UsageView)


def prompt_tokens(body: bytes) -> int:
    """``usage.prompt_tokens`` of an OpenAI-shaped answer: found in its tail (where OpenAI
    and its followers put ``usage``) without decoding the vectors, else by a view decode."""
    found = _PROMPT_TOKENS.search(body, max(0, len(body) - 512))
    if found is not None:
        return int(found.group(1))
    try:
        usage = _usage_view.decode(body).usage or {}
    except msgspec.DecodeError:
        return 0
    value = usage.get("prompt_tokens") or usage.get("total_tokens") or 0
    return value if isinstance(value, int) else 0
