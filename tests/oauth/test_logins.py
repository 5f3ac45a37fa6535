"""Logging subscription accounts in through ``/api/oauth/{provider}/{action}`` against the mock
OAuth server, then using them through the real gateway with official SDKs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import anthropic
import httpx
import openai

from tests.oauth.conftest import BASES, chat, device_login, login
from tests.support.gateway import RunningGateway
from tests.support.mock_server import TEXT
from tests.support.oauth_server import ACCOUNT_ID, EMAIL, PROJECT, MockOAuth


def test_authorize_url_carries_pkce_and_state(gw: RunningGateway, oauth: MockOAuth) -> None:
    answer = gw.api("GET", "/api/oauth/claude/authorize").json()
    url = urlsplit(answer["authUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.netloc == f"127.0.0.1:{oauth.port}" and url.path == "/authorize"
    assert query["state"] == answer["state"] and query["code_challenge_method"] == "S256"
    assert query["client_id"] == "9d1c250a-e61b-44d9-88ed-5944d1962f5e" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == answer["redirectUri"] and "user:inference" in query["scope"]


def test_claude_login_then_sdks(gw: RunningGateway, oauth: MockOAuth) -> None:
    conn = login(gw, oauth, "claude")
    assert conn["provider"] == "claude-code" and conn["oauth"] == "claude" and EMAIL in conn["name"]
    assert "at-" not in str(conn) and "rt-" not in str(conn) and conn["apiKey"] == ""
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0,
                           default_headers={"x-omniroute-connection": conn["id"]})
    answer = client.chat.completions.create(model="cc/claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == TEXT
    assert oauth.bearers[-1] in oauth.access and "oauth-2025-04-20" in oauth.headers[-1]["anthropic-beta"]
    sdk = anthropic.Anthropic(base_url=gw.url, api_key="x", max_retries=0,
                              default_headers={"x-omniroute-connection": conn["id"]})
    message = sdk.beta.messages.create(model="cc/claude-haiku-4-5", max_tokens=50, betas=["context-1m-2025-08-07"],
                                       messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == TEXT
    betas = oauth.headers[-1]["anthropic-beta"].split(",")
    assert "context-1m-2025-08-07" in betas and "oauth-2025-04-20" in betas  # the client's and the row's


def test_codex_login_sends_the_chatgpt_account(gw: RunningGateway, oauth: MockOAuth) -> None:
    conn = login(gw, oauth, "codex", name="my codex")
    assert conn["name"] == "my codex" and conn["baseUrl"] == oauth.origin + BASES["codex"]
    resp = chat(gw, "cx/gpt-5", conn["id"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == TEXT
    assert oauth.headers[-1]["chatgpt-account-id"] == ACCOUNT_ID and oauth.paths[-1] == "/codex/responses"


def test_gemini_cli_wraps_requests_in_the_code_assist_envelope(gw: RunningGateway, oauth: MockOAuth) -> None:
    conn = login(gw, oauth, "gemini-cli")  # the project comes from loadCodeAssist
    resp = chat(gw, "gc/gemini-2.5-flash", conn["id"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == TEXT
    sent = oauth.requests[-1]
    assert sent["project"] == PROJECT and sent["model"] == "gemini-2.5-flash"
    assert sent["request"]["contents"][0]["parts"][0]["text"] == "hi"
    streamed = chat(gw, "gc/gemini-2.5-flash", conn["id"], stream=True)
    assert streamed.status_code == 200 and "mock upstream." in streamed.text and "[DONE]" in streamed.text
    assert oauth.paths[-1] == "/v1internal:streamGenerateContent?alt=sse"


def test_github_device_flow_and_copilot(gw: RunningGateway, oauth: MockOAuth) -> None:
    started = gw.api("POST", "/api/oauth/github/device").json()
    assert set(started) >= {"userCode", "verificationUri", "deviceCode", "interval"}
    pending = gw.api("POST", "/api/oauth/github/poll", {"deviceCode": started["deviceCode"]})
    assert pending.json()["status"] == "pending"
    oauth.approve(started["deviceCode"])
    done = gw.api("POST", "/api/oauth/github/poll", {"deviceCode": started["deviceCode"],
                                                     "baseUrl": oauth.origin + BASES["github"]}).json()
    assert done["status"] == "complete" and done["connection"]["provider"] == "github"
    again = gw.api("POST", "/api/oauth/github/poll", {"deviceCode": started["deviceCode"]}).json()
    assert again["connection"]["id"] == done["connection"]["id"]  # completed once
    resp = chat(gw, "gh/gpt-4.1", done["connection"]["id"])
    assert resp.status_code == 200, resp.text
    assert oauth.bearers[-1].startswith("cop-") and oauth.headers[-1]["Copilot-Integration-Id"] == "vscode-chat"
    late = gw.api("POST", "/api/oauth/github/device").json()
    oauth.expire(late["deviceCode"])
    assert gw.api("POST", "/api/oauth/github/poll", {"deviceCode": late["deviceCode"]}).json()["status"] == "expired"


def test_bad_logins_are_clear_4xx(gw: RunningGateway, oauth: MockOAuth) -> None:
    def post(path: str, body: object) -> httpx.Response:
        return gw.api("POST", path, body)

    assert gw.api("GET", "/api/oauth/nope/authorize").status_code == 404
    wrong = gw.api("GET", "/api/oauth/github/authorize")
    assert wrong.status_code == 404 and "POST /api/oauth/github/device" in wrong.text
    missing = post("/api/oauth/claude/exchange", {})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "code"
    unknown = post("/api/oauth/claude/exchange", {"code": "c", "state": "never-issued"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "state"
    state = gw.api("GET", "/api/oauth/codex/authorize").json()["state"]
    refused = post("/api/oauth/codex/exchange", {"code": "forged", "state": state})
    assert refused.status_code == 400 and "invalid_grant" in refused.text
    reused = post("/api/oauth/codex/exchange", {"code": "forged", "state": state})
    assert reused.status_code == 400 and "already used" in reused.text
    typo = post("/api/oauth/codex/exchange", {"code": "c", "state": "s", "colour": "red"})
    assert typo.status_code == 400 and "colour" in typo.text
    direct = post("/api/providers", {"provider": "claude-code", "apiKey": "sk-x"})
    assert direct.status_code == 400 and "/api/oauth/claude/authorize" in direct.text
    assert post("/api/oauth/github/poll", {"deviceCode": "never"}).status_code == 404


def test_login_again_into_the_same_connection(gw: RunningGateway, oauth: MockOAuth) -> None:
    first = login(gw, oauth, "codex")
    again = login(gw, oauth, "codex", connectionId=first["id"])
    assert again["id"] == first["id"] and again["createdAt"] == first["createdAt"]
    assert chat(gw, "cx/gpt-5", first["id"]).status_code == 200
    other = device_login(gw, oauth)
    wrong = gw.api("POST", "/api/oauth/codex/exchange", {"code": "c#s", "connectionId": other["id"]})
    assert wrong.status_code in (400, 404)
