"""``POST /v1/providers/{provider}/chat/completions`` through the real gateway: the path's
provider (id or prefix) is added to a model without it, kept on a model that has it, and a
model of another provider is a 400 naming both.
"""

from __future__ import annotations

from tests.support.accounts import add_account, omni, provider_with, sdk, unique
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


def pinned(gw: RunningGateway, provider: str, model: str, **kw: object):
    return gw.http.post(f"/v1/providers/{provider}/chat/completions",
                        json={"model": model, "messages": [{"role": "user", "content": "hi"}], **kw})


def test_prefix_is_added_when_missing(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    prefix, node, _ = provider_with(gw, flaky, key)
    for provider in (prefix, node):
        for model in ("m1", f"{prefix}/m1", f"{node}/m1"):
            resp = pinned(gw, provider, model)
            assert resp.status_code == 200, (provider, model, resp.text)
            assert omni(resp)["model"] == f"{node}/m1"
    resp = pinned(gw, prefix, "org/model-x")
    assert omni(resp)["model"] == f"{node}/org/model-x" and flaky.requests[-1]["model"] == "org/model-x"


def test_openai_sdk_with_a_provider_base_url(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    key = unique("ok~")
    add_account(gw, "openai", key, baseUrl=flaky.base_url)
    client = sdk(gw)
    client.base_url = f"{gw.url}/v1/providers/oai"
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                           messages=[{"role": "user", "content": "hi"}])
    assert omni(raw)["model"] == "openai/gpt-4o-mini"
    assert raw.parse().choices[0].message.content == f"served by {key} as gpt-4o-mini"
    stream = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                            stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == f"served by {key} as gpt-4o"


def test_another_providers_model_is_a_400_naming_both(gw: RunningGateway, flaky: FlakyUpstream) -> None:
    p1, n1, _ = provider_with(gw, flaky, unique("ok~"))
    p2, n2, _ = provider_with(gw, flaky, unique("ok~"))
    resp = pinned(gw, p1, f"{p2}/m1")
    assert resp.status_code == 400
    message = resp.json()["error"]["message"]
    assert n1 in message and n2 in message
    unknown = pinned(gw, "no-such-provider", "m1")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "provider_not_found"
