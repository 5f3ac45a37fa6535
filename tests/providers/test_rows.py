"""The provider table, row by row: each row's documented chat URL, auth header and aliases,
checked on the compiled target and then through a real gateway against a mock that records
what arrives (path, auth header, the model with its prefix stripped)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from omniroute.providers.specs import SPECS, ProviderSpec
from omniroute.routing.targets import compile_target
from omniroute.store import Connection
from tests.support.echo_upstream import TEXT, EchoUpstream
from tests.support.gateway import RunningGateway

KEY = "sk-row"
FIELDS = {"accountId": "acc123", "host": "adb-42.7.azuredatabricks.net", "account": "org-acct",
          "project": "proj-1", "location": "us-central1"}
BEARER, XKEY, GOOG = ("authorization", f"Bearer {KEY}"), ("x-api-key", KEY), ("x-goog-api-key", KEY)

#: row → (its chat URL for model ``m`` with the FIELDS above, the auth header)
EXPECTED: dict[str, tuple[str, tuple[str, str] | None]] = {
    "openai": ("https://api.openai.com/v1/chat/completions", BEARER),
    "openrouter": ("https://openrouter.ai/api/v1/chat/completions", BEARER),
    "deepseek": ("https://api.deepseek.com/v1/chat/completions", BEARER),
    "groq": ("https://api.groq.com/openai/v1/chat/completions", BEARER),
    "xai": ("https://api.x.ai/v1/chat/completions", BEARER),
    "mistral": ("https://api.mistral.ai/v1/chat/completions", BEARER),
    "codestral": ("https://codestral.mistral.ai/v1/chat/completions", BEARER),
    "perplexity": ("https://api.perplexity.ai/chat/completions", BEARER),
    "together": ("https://api.together.xyz/v1/chat/completions", BEARER),
    "fireworks": ("https://api.fireworks.ai/inference/v1/chat/completions", BEARER),
    "cerebras": ("https://api.cerebras.ai/v1/chat/completions", BEARER),
    "cohere": ("https://api.cohere.ai/compatibility/v1/chat/completions", BEARER),
    "nvidia": ("https://integrate.api.nvidia.com/v1/chat/completions", BEARER),
    "nebius": ("https://api.tokenfactory.nebius.com/v1/chat/completions", BEARER),
    "siliconflow": ("https://api.siliconflow.com/v1/chat/completions", BEARER),
    "hyperbolic": ("https://api.hyperbolic.xyz/v1/chat/completions", BEARER),
    "huggingface": ("https://router.huggingface.co/v1/chat/completions", BEARER),
    "moonshot": ("https://api.moonshot.ai/v1/chat/completions", BEARER),
    "glm-cn": ("https://open.bigmodel.cn/api/coding/paas/v4/chat/completions", BEARER),
    "qianfan": ("https://qianfan.baidubce.com/v2/chat/completions", BEARER),
    "alibaba": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions", BEARER),
    "alicode": ("https://coding.dashscope.aliyuncs.com/v1/chat/completions", BEARER),
    "alicode-intl": ("https://coding-intl.dashscope.aliyuncs.com/v1/chat/completions", BEARER),
    "crof": ("https://crof.ai/v1/chat/completions", BEARER),
    "blackbox": ("https://api.blackbox.ai/v1/chat/completions", BEARER),
    "ollamacloud": ("https://ollama.com/v1/chat/completions", BEARER),
    "synthetic": ("https://api.synthetic.new/openai/v1/chat/completions", BEARER),
    "kilo-gateway": ("https://api.kilo.ai/api/gateway/chat/completions", BEARER),
    "longcat": ("https://api.longcat.chat/openai/v1/chat/completions", BEARER),
    "pollinations": ("https://text.pollinations.ai/openai", None),
    "puter": ("https://api.puter.com/puterai/openai/v1/chat/completions", BEARER),
    "cloudflare-ai": ("https://api.cloudflare.com/client/v4/accounts/acc123/ai/v1/chat/completions", BEARER),
    "scaleway": ("https://api.scaleway.ai/v1/chat/completions", BEARER),
    "deepinfra": ("https://api.deepinfra.com/v1/openai/chat/completions", BEARER),
    "vercel-ai-gateway": ("https://ai-gateway.vercel.sh/v1/chat/completions", BEARER),
    "lambda": ("https://api.lambda.ai/v1/chat/completions", BEARER),
    "sambanova": ("https://api.sambanova.ai/v1/chat/completions", BEARER),
    "nscale": ("https://inference.api.nscale.com/v1/chat/completions", BEARER),
    "ovh": ("https://oai.endpoints.kepler.ai.cloud.ovh.net/v1/chat/completions", BEARER),
    "baseten": ("https://inference.baseten.co/v1/chat/completions", BEARER),
    "publicai": ("https://api.publicai.co/v1/chat/completions", BEARER),
    "meta": ("https://api.llama.com/compat/v1/chat/completions", BEARER),
    "v0": ("https://api.v0.dev/v1/chat/completions", BEARER),
    "morph": ("https://api.morphllm.com/v1/chat/completions", BEARER),
    "featherless": ("https://api.featherless.ai/v1/chat/completions", BEARER),
    "friendli": ("https://api.friendli.ai/dedicated/v1/chat/completions", BEARER),
    "llamagate": ("https://llamagate.ai/v1/chat/completions", BEARER),
    "heroku": ("https://us.inference.heroku.com/v1/chat/completions", BEARER),
    "galadriel": ("https://api.galadriel.ai/v1/chat/completions", BEARER),
    "databricks": ("https://adb-42.7.azuredatabricks.net/serving-endpoints/chat/completions", BEARER),
    "snowflake": ("https://org-acct.snowflakecomputing.com/api/v2/cortex/v1/chat/completions", BEARER),
    "wandb": ("https://api.inference.wandb.ai/v1/chat/completions", BEARER),
    "volcengine": ("https://ark.cn-beijing.volces.com/api/v3/chat/completions", BEARER),
    "ai21": ("https://api.ai21.com/studio/v1/chat/completions", BEARER),
    "gigachat": ("https://gigachat.devices.sberbank.ru/api/v1/chat/completions", BEARER),
    "venice": ("https://api.venice.ai/api/v1/chat/completions", BEARER),
    "upstage": ("https://api.upstage.ai/v1/chat/completions", BEARER),
    "maritalk": ("https://chat.maritaca.ai/api/chat/completions", ("authorization", f"Key {KEY}")),
    "mimo": ("https://api.xiaomimimo.com/v1/chat/completions", BEARER),
    "inference-net": ("https://api.inference.net/v1/chat/completions", BEARER),
    "nanogpt": ("https://nano-gpt.com/api/v1/chat/completions", BEARER),
    "predibase": ("https://serving.app.predibase.com/v1/chat/completions", BEARER),
    "bytez": ("https://api.bytez.com/models/v2/openai/v1/chat/completions", BEARER),
    "aiml": ("https://api.aimlapi.com/v1/chat/completions", BEARER),
    "nous": ("https://inference-api.nousresearch.com/v1/chat/completions", BEARER),
    "reka": ("https://api.reka.ai/v1/chat/completions", BEARER),
    "opencode-zen": ("https://opencode.ai/zen/v1/chat/completions", BEARER),
    "opencode-go": ("https://opencode.ai/zen/go/v1/chat/completions", BEARER),
    "anthropic": ("https://api.anthropic.com/v1/messages", XKEY),
    "glm": ("https://api.z.ai/api/anthropic/v1/messages", XKEY),
    "minimax": ("https://api.minimax.io/anthropic/v1/messages", BEARER),
    "minimax-cn": ("https://api.minimaxi.com/anthropic/v1/messages", BEARER),
    "bailian-coding-plan": ("https://coding-intl.dashscope.aliyuncs.com/apps/anthropic/v1/messages", XKEY),
    "agentrouter": ("https://agentrouter.org/v1/messages", XKEY),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta/models/m:generateContent", GOOG),
    "vertex": ("https://us-central1-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-central1/publishers/"
               "google/models/m:generateContent", BEARER),
    "ollama": ("http://127.0.0.1:11434/api/chat", None),
    "openai-responses": ("https://api.openai.com/v1/responses", BEARER),
    "openai-compatible": ("http://127.0.0.1:8000/v1/chat/completions", BEARER),
}
#: aliases providers.md names, each → its row
ALIASES = {"ds": "deepseek", "pplx": "perplexity", "hyp": "hyperbolic", "hf": "huggingface", "kimi": "moonshot",
           "ali": "alibaba", "bb": "blackbox", "kg": "kilo-gateway", "lc": "longcat", "pol": "pollinations",
           "pu": "puter", "cf": "cloudflare-ai", "scw": "scaleway", "vag": "vercel-ai-gateway", "samba": "sambanova",
           "inet": "inference-net", "glmt": "glm", "zai": "glm", "bcp": "bailian-coding-plan"}
CHAT_ROWS = sorted(EXPECTED)


def _fields(spec: ProviderSpec) -> dict[str, str]:
    return {name: FIELDS[name] for name in spec.fields}


def test_the_table_covers_every_api_key_provider() -> None:
    api_key_rows = {row for row, spec in SPECS.items() if not spec.oauth}
    assert len(api_key_rows) >= 60
    assert set(EXPECTED) | {"deepgram", "assemblyai"} == api_key_rows
    assert {row for row, spec in SPECS.items() if spec.oauth} == {"claude-code", "codex", "gemini-cli", "github"}
    for alias, row in ALIASES.items():
        assert alias in SPECS[row].prefixes, (alias, row)


@pytest.mark.parametrize("row", CHAT_ROWS)
def test_default_url_and_auth(row: str) -> None:
    spec = SPECS[row]
    target = compile_target(Connection("c1", row, "n", api_key=KEY, fields=_fields(spec)), spec)
    url, auth = EXPECTED[row]
    assert target.chat_url("m", False) == url
    if auth is not None:
        assert target.headers[auth[0].title() if auth[0] == "authorization" else auth[0]] == auth[1]


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoUpstream]:
    server = EchoUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("gw-rows"))
    for row in CHAT_ROWS:
        spec = SPECS[row]
        path = urlsplit(spec.base_url.replace("{", "%7B").replace("}", "%7D")).path.replace("%7B", "{").replace(
            "%7D", "}")
        body = {"provider": row, "apiKey": KEY, "name": row, "baseUrl": echo.origin + path, "fields": _fields(spec)}
        resp = gateway.api("POST", "/api/providers", body)
        assert resp.status_code == 201, resp.text
    yield gateway
    gateway.stop()


@pytest.mark.parametrize("row", CHAT_ROWS)
def test_each_row_through_the_gateway(gw: RunningGateway, echo: EchoUpstream, row: str) -> None:
    spec = SPECS[row]
    url, auth = EXPECTED[row]
    for prefix in spec.prefixes:
        resp = gw.http.post("/v1/chat/completions", json={"model": f"{prefix}/org/test-model",
                                                          "messages": [{"role": "user", "content": "hi"}]})
        assert resp.status_code == 200, (prefix, resp.text)
        assert resp.json()["choices"][0]["message"]["content"] == TEXT
        assert resp.headers["x-omniroute-provider"] == row
        expected_path = urlsplit(url.replace("/m:", "/org/test-model:")).path
        assert echo.paths[-1].split("?")[0] == expected_path, prefix
        if auth is not None:
            assert echo.header_lists[-1].count(auth) == 1, (prefix, echo.header_lists[-1])
        sent = echo.requests[-1].get("model")
        assert sent in ("org/test-model", None), sent  # the prefix stripped (Gemini: in the path)


def test_media_only_rows_refuse_chat(gw: RunningGateway) -> None:
    gw.api("POST", "/api/providers", {"provider": "deepgram", "apiKey": KEY, "name": "dg"})
    resp = gw.http.post("/v1/chat/completions", json={"model": "deepgram/nova-3",
                                                      "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 400 and "offers no chat endpoint" in resp.json()["error"]["message"]


@pytest.mark.parametrize(("body", "param"), [
    ({"provider": "cloudflare-ai", "apiKey": KEY}, "fields.accountId"),
    ({"provider": "cloudflare-ai", "apiKey": KEY, "fields": {"accountId": "a/../b"}}, "fields.accountId"),
    ({"provider": "openai", "apiKey": KEY, "fields": {"accountId": "x"}}, "fields.accountId"),
    ({"provider": "vertex", "apiKey": KEY, "fields": {"project": "p"}}, "fields.location"),
])
def test_connection_fields_are_checked_when_written(gw: RunningGateway, body: dict, param: str) -> None:
    resp = gw.api("POST", "/api/providers", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text
