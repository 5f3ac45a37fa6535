"""Media prices: embeddings by input tokens, images and audio by their units."""

from __future__ import annotations

import pytest

from omniroute.canonical import Usage
from omniroute.providers.pricing import Pricing, cost, validate_edits


def test_media_costs() -> None:
    pricing = Pricing({})
    assert cost(pricing.price_of("openai", "text-embedding-3-small"), Usage(input_tokens=1_000_000)) == \
        pytest.approx(0.02)
    assert cost(pricing.price_of("openai", "dall-e-3"), Usage(), {"images": 3}) == pytest.approx(0.12)
    assert cost(pricing.price_of("deepgram", "nova-3"), Usage(), {"audioSeconds": 120}) == pytest.approx(0.0086)
    assert cost(pricing.price_of("openai", "whisper-1"), None, {"audioSeconds": 30}) == pytest.approx(0.003)


def test_operators_price_media_units() -> None:
    edits = validate_edits({"pricing": {"together/black-forest-labs/FLUX.1-schnell": {"perImage": 0.003}}})
    price = Pricing(edits).price_of("together", "black-forest-labs/FLUX.1-schnell")
    assert cost(price, Usage(), {"images": 2}) == pytest.approx(0.006)
    with pytest.raises(Exception, match="must be >= 0"):
        validate_edits({"pricing": {"x": {"perMinute": -1}}})
