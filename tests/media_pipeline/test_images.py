"""``/v1/images/generations`` through the real gateway with the openai SDK: OpenAI's body
passes through, xAI / Together / Fireworks are translated both ways."""

from __future__ import annotations

import base64

import openai
import pytest

from tests.media_pipeline.conftest import hook_records
from tests.support.gateway import RunningGateway
from tests.support.media_upstream import MediaUpstream, png


def test_openai_passes_through(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    result = client.images.generate(model="openai/dall-e-3", prompt="a red fox", n=1, size="1024x1024",
                                    quality="hd", style="vivid")
    assert result.data[0].url == "https://openai.example/0.png" and result.created == 1732650000
    assert media.paths[-1] == "/openai/v1/images/generations"
    assert media.requests[-1] == {"model": "dall-e-3", "prompt": "a red fox", "n": 1, "size": "1024x1024",
                                  "quality": "hd", "style": "vivid"}


def test_xai_drops_what_it_does_not_take(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    result = client.images.generate(model="xai/grok-2-image-1212", prompt="a cat", n=2, size="1024x1024",
                                    response_format="b64_json", quality="hd")
    assert len(result.data) == 2 and base64.b64decode(result.data[0].b64_json) == png()
    assert result.data[0].revised_prompt == "revised: a cat" and result.created > 0
    assert media.paths[-1] == "/xai/v1/images/generations"
    assert media.requests[-1] == {"model": "grok-2-image-1212", "prompt": "a cat", "n": 2,
                                  "response_format": "b64_json"}


@pytest.mark.parametrize(("fmt", "sent", "key"), [("url", "url", "url"), ("b64_json", "base64", "b64_json")])
def test_together_flux(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI, fmt: str, sent: str,
                       key: str) -> None:
    result = client.images.generate(model="together/black-forest-labs/FLUX.1-schnell", prompt="a boat",
                                    size="1792x1024", response_format=fmt)  # type: ignore[arg-type]
    assert getattr(result.data[0], key)
    assert media.paths[-1] == "/together/v1/images/generations"
    assert media.requests[-1] == {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "a boat", "n": 1,
                                  "response_format": sent, "width": 1792, "height": 1024}


def test_fireworks_flux_one_call_per_image(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    before = len(media.paths)
    raw = client.images.with_raw_response.generate(model="fireworks/flux-1-schnell-fp8", prompt="hills", n=2,
                                                   size="1792x1024", response_format="b64_json")
    result = raw.parse()
    assert [base64.b64decode(d.b64_json) for d in result.data] == [png(), png()]
    assert media.paths[before:] == ["/inference/v1/workflows/accounts/fireworks/models/flux-1-schnell-fp8/"
                                    "text_to_image"] * 2
    assert media.requests[-1] == {"prompt": "hills", "aspect_ratio": "16:9"}
    assert media.headers[-1]["Accept"] == "image/png"
    url = client.images.generate(model="fireworks/flux-1-schnell-fp8", prompt="hills").data[0].url
    assert url is not None and url.startswith("data:image/png;base64,")


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"model": "openai/dall-e-3"}, "prompt", "'prompt' is required"),
    ({"prompt": "x"}, "model", "'model' is required"),
    ({"model": "openai/dall-e-3", "prompt": "x", "n": 11}, "n", "from 1 to 10"),
    ({"model": "openai/dall-e-3", "prompt": "x", "response_format": "png"}, "response_format", "'url' or 'b64_json'"),
    ({"model": "openai/dall-e-3", "prompt": "x", "size": "big"}, "size", "WIDTHxHEIGHT"),
    ({"model": "openai/text-embedding-3-small", "prompt": "x"}, "model", "is an embedding model, not an image model"),
    ({"model": "mistral/mistral-small-latest", "prompt": "x"}, "model", "offers no image generation endpoint"),
])
def test_bad_input_is_a_400_naming_it(gw: RunningGateway, body: dict, param: str, words: str) -> None:
    resp = gw.http.post("/v1/images/generations", json=body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["param"] == param and words in error["message"], error


def test_upstream_error_and_fallback(gw: RunningGateway, client: openai.OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError):
        client.images.generate(model="openai/error-401", prompt="x")
    combo = gw.api("POST", "/api/combos", {"name": "img-fallback", "models": [
        "xai/error-500", "together/black-forest-labs/FLUX.1-schnell"]})
    assert combo.status_code == 201, combo.text
    raw = client.images.with_raw_response.generate(model="img-fallback", prompt="x")
    assert raw.headers["x-omniroute-model"] == "together/black-forest-labs/FLUX.1-schnell"
    assert raw.parse().data[0].url == "https://together.example/0.png"


def test_listing_pinned_route_and_units(gw: RunningGateway, media: MediaUpstream) -> None:
    ids = {m["id"] for m in gw.http.get("/v1/images/generations").json()["data"]}
    assert {"openai/dall-e-3", "openai/gpt-image-1", "xai/grok-2-image-1212", "fireworks/flux-1-schnell-fp8",
            "together/black-forest-labs/FLUX.1-schnell"} <= ids and "openai/gpt-4o" not in ids
    resp = gw.http.post("/v1/providers/xai/images/generations", json={"model": "grok-2-image", "prompt": "x", "n": 3})
    assert resp.status_code == 200 and media.requests[-1]["model"] == "grok-2-image"
    resp = gw.http.post("/v1/providers/xai/images/generations", json={"model": "openai/dall-e-3", "prompt": "x"})
    assert resp.status_code == 400
    record = next(r for r in reversed(hook_records(gw)) if r["operation"] == "images" and r["units"])
    assert record["units"] == {"images": 3} and record["served"] == "xai/grok-2-image"


def test_images_spend_a_keys_budget(gw: RunningGateway) -> None:
    created = gw.api("POST", "/api/keys", {"name": "image-budget"}).json()
    assert gw.api("POST", "/api/usage/budget", {"keyId": created["id"], "limit": 0.05, "period": "daily"}
                  ).status_code in (200, 201)
    headers = {"Authorization": f"Bearer {created['key']}"}
    body = {"model": "openai/dall-e-3", "prompt": "x", "n": 2}  # 2 × $0.04
    assert gw.http.post("/v1/images/generations", json=body, headers=headers).status_code == 200
    for _ in range(20):  # the spend is written by a post-hook, after the answer
        resp = gw.http.post("/v1/images/generations", json=body, headers=headers)
        if resp.status_code == 402:
            break
    assert resp.status_code == 402 and resp.json()["error"]["code"] == "budget_exceeded"
