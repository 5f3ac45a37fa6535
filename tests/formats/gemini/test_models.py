"""Gemini model list: what the google-genai SDK's ``models.list()`` reads."""

from __future__ import annotations

import httpx

from omniroute.formats import gemini as fmt
from tests.formats.gemini.harness import sdk_client


def test_sdk_lists_models() -> None:
    body = fmt.encode_model_list(["gemini-2.5-flash", "models/gemini-2.5-pro"])
    client = sdk_client(lambda request: httpx.Response(200, content=body))
    models = list(client.models.list())
    assert [m.name for m in models] == ["models/gemini-2.5-flash", "models/gemini-2.5-pro"]
    assert "generateContent" in models[0].supported_actions
