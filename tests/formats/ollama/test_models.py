"""Ollama ``/api/tags`` and ``/api/show`` as the ollama SDK reads them."""

from __future__ import annotations

import httpx

from omniroute.formats import ollama as fmt
from tests.formats.ollama.harness import sdk_client


def test_sdk_list_and_show() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, content=fmt.encode_tags(["llama3.2", "openai/gpt-4o"]))
        return httpx.Response(200, content=fmt.encode_show("llama3.2"))

    client = sdk_client(handler)
    listed = client.list()
    assert [m.model for m in listed.models] == ["llama3.2", "openai/gpt-4o"]
    assert len(listed.models[0].digest) == 64 and listed.models[0].details.format == "gguf"
    shown = client.show("llama3.2")
    assert "completion" in shown.capabilities and shown.modelinfo == {}
