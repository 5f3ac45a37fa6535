"""Prices per model, USD per 1M tokens, and what a request cost.

``GET /api/pricing`` shows the built-in table (``PRICES``, the providers' published list
prices) merged with the operator's edits (``PUT /api/pricing``, kept in the store's settings
``pricing``); an edit wins. Keys are ``provider/model`` or a bare model id (any provider).

Lookup for a served ``provider``/``model`` (first found wins):

==========================  ==========================================================
step                        example
==========================  ==========================================================
``provider/model`` edited   ``openai/gpt-4o-mini`` in the operator's table
bare model edited           ``gpt-4o-mini``
bare model built in         ``gpt-4o-mini``; then as ``model_info`` normalises it: the
                            date suffix, a vendor prefix and ``-latest`` removed
==========================  ==========================================================

Cost of one answer, from the upstream's own usage counts (``canonical.Usage``: input counts
every prompt token, cached ones included)::

    (input − cached − cache_write) × input + cached × cachedInput
        + cache_write × cacheWrite + output × output          (all ÷ 1,000,000)

``cachedInput`` defaults to ``input`` and ``cacheWrite`` to ``input`` when a price lacks them.
Media answers add their units (``RequestContext.units``): ``images × perImage`` and
``audioSeconds / 60 × perMinute``; embeddings are priced by their input tokens.
An unpriced model costs 0 and says so (``price_of`` returns ``None``).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from omniroute.canonical import Usage
from omniroute.errors import ErrorKind, GatewayError


class Price(msgspec.Struct, frozen=True, omit_defaults=True, rename="camel"):
    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None
    cache_write: float | None = None
    per_image: float | None = None  # USD per generated image
    per_minute: float | None = None  # USD per minute of transcribed audio


def _p(input: float, output: float, cached: float | None = None, write: float | None = None) -> Price:
    return Price(input, output, cached, write)


def _unit(per_image: float | None = None, per_minute: float | None = None) -> Price:
    return Price(per_image=per_image, per_minute=per_minute)


PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-4o": _p(2.50, 10.00, 1.25),
    "gpt-4o-mini": _p(0.15, 0.60, 0.075),
    "gpt-4.1": _p(2.00, 8.00, 0.50),
    "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
    "gpt-4.1-nano": _p(0.10, 0.40, 0.025),
    "gpt-5": _p(1.25, 10.00, 0.125),
    "gpt-5-mini": _p(0.25, 2.00, 0.025),
    "gpt-5-nano": _p(0.05, 0.40, 0.005),
    "o3": _p(2.00, 8.00, 0.50),
    "o3-mini": _p(1.10, 4.40, 0.55),
    "o4-mini": _p(1.10, 4.40, 0.275),
    "text-embedding-3-small": _p(0.02, 0.0),
    "text-embedding-3-large": _p(0.13, 0.0),
    # Anthropic (cache writes: 5-minute TTL, 1.25 × input)
    "claude-opus-4-1": _p(15.00, 75.00, 1.50, 18.75),
    "claude-opus-4": _p(15.00, 75.00, 1.50, 18.75),
    "claude-opus-4-5": _p(5.00, 25.00, 0.50, 6.25),
    "claude-sonnet-4-5": _p(3.00, 15.00, 0.30, 3.75),
    "claude-sonnet-4": _p(3.00, 15.00, 0.30, 3.75),
    "claude-3-7-sonnet": _p(3.00, 15.00, 0.30, 3.75),
    "claude-haiku-4-5": _p(1.00, 5.00, 0.10, 1.25),
    "claude-3-5-haiku": _p(0.80, 4.00, 0.08, 1.00),
    # Google (prompts up to 200k tokens)
    "gemini-2.5-pro": _p(1.25, 10.00, 0.31),
    "gemini-2.5-flash": _p(0.30, 2.50, 0.075),
    "gemini-2.5-flash-lite": _p(0.10, 0.40, 0.025),
    "gemini-2.0-flash": _p(0.10, 0.40, 0.025),
    # Embeddings (input tokens only)
    "text-embedding-ada-002": _p(0.10, 0.0),
    "mistral-embed": _p(0.10, 0.0),
    "gemini-embedding-001": _p(0.15, 0.0),
    # Images (per image: DALL-E at 1024x1024, standard quality) and transcription (per minute)
    "dall-e-3": _unit(per_image=0.04),
    "dall-e-2": _unit(per_image=0.02),
    "grok-2-image-1212": _unit(per_image=0.07),
    "whisper-1": _unit(per_minute=0.006),
    "gpt-4o-transcribe": _unit(per_minute=0.006),
    "gpt-4o-mini-transcribe": _unit(per_minute=0.003),
    "nova-3": _unit(per_minute=0.0043),
    # DeepSeek, xAI, Mistral, Groq, Perplexity
    "deepseek-chat": _p(0.28, 0.42, 0.028),
    "deepseek-reasoner": _p(0.28, 0.42, 0.028),
    "grok-4": _p(3.00, 15.00, 0.75),
    "grok-3-mini": _p(0.30, 0.50, 0.075),
    "mistral-large-latest": _p(2.00, 6.00),
    "mistral-small-latest": _p(0.10, 0.30),
    "codestral-latest": _p(0.30, 0.90),
    "llama-3.3-70b-versatile": _p(0.59, 0.79),
    "llama-3.1-8b-instant": _p(0.05, 0.08),
    "sonar": _p(1.00, 1.00),
    "sonar-pro": _p(3.00, 15.00),
}

_UNKNOWN = object()
_DATED = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


class Pricing:
    """The built-in table merged with the operator's edits (decided when they change)."""

    def __init__(self, edits: dict[str, Any]) -> None:
        self.edits = {key: msgspec.convert(value, Price) for key, value in edits.items()}
        self.found: dict[tuple[str, str], Price | None] = {}  # looked up once per (provider, model)

    def price_of(self, provider: str, model: str) -> Price | None:
        held = self.found.get((provider, model), _UNKNOWN)
        if held is not _UNKNOWN:
            return held  # type: ignore[return-value]
        if len(self.found) >= 4096:  # models named by clients of open providers: bounded
            self.found.clear()
        price = self.found[(provider, model)] = self._lookup(provider, model)
        return price

    def _lookup(self, provider: str, model: str) -> Price | None:
        edits = self.edits
        found = edits.get(f"{provider}/{model}") or edits.get(model)
        if found is not None:
            return found
        base = _DATED.sub("", model.rpartition("/")[2])
        return PRICES.get(model) or PRICES.get(base) or PRICES.get(base.removesuffix("-latest"))

    def table(self) -> dict[str, dict[str, float]]:
        merged = {**PRICES, **self.edits}
        return {key: msgspec.to_builtins(price) for key, price in sorted(merged.items())}


def cost(price: Price | None, usage: Usage | None, units: dict[str, float] | None = None) -> float:
    """USD for ``usage`` at ``price`` (0 when either is unknown), plus the media ``units``
    (``RequestContext.units``): ``images`` × ``perImage``, ``audioSeconds`` / 60 × ``perMinute``."""
    if price is None:
        return 0.0
    extra = 0.0
    if units:
        extra = units.get("images", 0) * (price.per_image or 0.0) + units.get("audioSeconds", 0) / 60 * (
            price.per_minute or 0.0)
    if usage is None:
        return extra
    cached, written = usage.cached_tokens, usage.cache_creation_tokens
    fresh = max(usage.input_tokens - cached - written, 0)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    write_price = price.cache_write if price.cache_write is not None else price.input
    total = fresh * price.input + cached * cached_price + written * write_price + usage.output_tokens * price.output
    return total / 1_000_000 + extra


def estimate(price: Price | None, input_tokens: int, output_tokens: int) -> float | None:
    """USD a request of that size would cost (for ``cost-optimized``); ``None``: no price."""
    if price is None:
        return None
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def validate_edits(edits: Any) -> dict[str, dict[str, float]]:
    """``PUT /api/pricing`` body → checked edits (USD per 1M tokens, ≥ 0)."""
    table = edits.get("pricing", edits) if isinstance(edits, dict) else None
    if not isinstance(table, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "body must be {\"pricing\": {\"provider/model\": {...}}}",
                           param="pricing")
    out = {}
    for key, value in table.items():
        try:
            price = msgspec.convert(value, Price)
        except msgspec.ValidationError as exc:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"pricing.{key}: {exc}", param=f"pricing.{key}") from None
        per_unit = price.per_image is not None or price.per_minute is not None
        if not per_unit and not (isinstance(value, dict) and "input" in value and "output" in value):
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"pricing.{key}: needs 'input' and 'output' (USD per 1M "
                               "tokens), or a media price ('perImage', 'perMinute')", param=f"pricing.{key}")
        values = (price.input, price.output, price.cached_input, price.cache_write, price.per_image, price.per_minute)
        if min(v for v in values if v is not None) < 0:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"pricing.{key}: prices must be >= 0",
                               param=f"pricing.{key}")
        out[key] = msgspec.to_builtins(price)
    return out
