"""Images from the google-genai SDK reach every other upstream format as standard base64.

``types.Part.from_bytes`` makes the SDK send ``inlineData.data`` in URL-safe base64 (``-``
and ``_``), which Google accepts and OpenAI, Anthropic and Ollama refuse (each mock checks,
as its service does: ``mock_server.base64_error``). Sent with the SDK through the real gateway
to OpenAI Chat, Responses, Anthropic and Ollama upstreams, the image arrives there as standard
base64 whose bytes are the original's, with its media type; to a Gemini upstream it is relayed
as the SDK wrote it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import pytest
from google import genai
from google.genai import types as gtypes

from tests.support.fleet import UPSTREAMS
from tests.support.gateway import RunningGateway
from tests.support.mock_server import TEXT

#: a PNG signature, then bytes whose base64 holds ``+`` and ``/`` (``-`` and ``_`` URL-safe)
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes([0xFB, 0xFF, 0xBF, 0x3E, 0x3F]) * 12


def _standard(data: str) -> bytes:
    """``data`` decoded as strict standard base64 (raises on ``-``/``_`` or bad padding)."""
    return base64.b64decode(data, validate=True)


def _image_sent(upstream: str, body: dict[str, Any]) -> tuple[str, str]:
    """(media type, base64 data) of the one image the upstream received."""
    if upstream == "ollama":
        (image,) = [i for m in body["messages"] for i in m.get("images") or []]
        return "image/png", image  # Ollama takes bare base64 and sniffs the type
    if upstream == "anthropic":
        (block,) = [b for m in body["messages"] for b in m["content"] if b["type"] == "image"]
        return block["source"]["media_type"], block["source"]["data"]
    if upstream == "responses":
        (part,) = [p for i in body["input"] for p in i["content"] if p["type"] == "input_image"]
        url = part["image_url"]
    else:
        (part,) = [p for m in body["messages"] for p in m["content"] if p["type"] == "image_url"]
        url = part["image_url"]["url"]
    head, _, data = url.partition(",")
    assert head.startswith("data:") and head.endswith(";base64"), head
    return head[5:-7], data


@pytest.fixture(scope="module")
def sdk(matrix_gateway: RunningGateway) -> genai.Client:
    return genai.Client(api_key="x", http_options=gtypes.HttpOptions(base_url=matrix_gateway.url))


def _ask(sdk: genai.Client, model: str) -> None:
    part = gtypes.Part.from_bytes(data=IMAGE, mime_type="image/png")
    answer = sdk.models.generate_content(model=model, contents=[part, "What is in this image?"])
    assert answer.text == TEXT


def test_the_sdk_sends_url_safe_base64(sdk: genai.Client, mocks: dict[str, Any]) -> None:
    """What the other tests rely on: relayed to Gemini, the data is the SDK's URL-safe form."""
    _ask(sdk, UPSTREAMS["gemini"].id())
    (part,) = [p for c in mocks["gemini"].requests[-1]["contents"] for p in c["parts"] if "inlineData" in p]
    data = part["inlineData"]["data"]
    assert set(data) & {"-", "_"}
    assert base64.urlsafe_b64decode(data) == IMAGE
    with pytest.raises(binascii.Error):
        _standard(data)


@pytest.mark.parametrize("upstream", ["openai", "responses", "anthropic", "ollama"])
def test_image_arrives_as_standard_base64(sdk: genai.Client, mocks: dict[str, Any], upstream: str) -> None:
    before = len(mocks[upstream].requests)
    _ask(sdk, UPSTREAMS[upstream].id())
    assert len(mocks[upstream].requests) == before + 1
    media_type, data = _image_sent(upstream, mocks[upstream].requests[-1])
    assert media_type == "image/png"
    assert _standard(data) == IMAGE
