"""OAuth provider configuration (``omniroute.oauth.providers``) and login parsing
(``omniroute.oauth.pending``, ``omniroute.oauth.client.identity``)."""

from __future__ import annotations

import base64
import json

import pytest

from omniroute.config import resolve
from omniroute.errors import GatewayError
from omniroute.oauth.client import identity
from omniroute.oauth.pending import challenge, parse_code
from omniroute.oauth.providers import DEFAULTS, configure


def test_environment_over_file_over_defaults() -> None:
    file = {"github": {"device_url": "http://file/device", "client_id": "file-id"}}
    env = {"OMNIROUTE_OAUTH_GITHUB_DEVICE_URL": "http://env/device",
           "OMNIROUTE_OAUTH_GEMINI_CLI_TOKEN_URL": "https://env/token",
           "OMNIROUTE_OAUTH_GEMINI_CLI_CLIENT_SECRET": "s3"}
    providers = configure(file, env)
    github = providers["github"]
    assert github.url("device") == "http://env/device" and github.client_id == "file-id"
    assert github.url("copilot_token") == DEFAULTS["github"].url("copilot_token")
    assert providers["gemini-cli"].url("token") == "https://env/token" and providers["gemini-cli"].client_secret == "s3"


@pytest.mark.parametrize(("file", "env", "where"), [
    ({"gitlab": {}}, {}, "oauth.gitlab"),
    ({"claude": {"device_url": "http://x"}}, {}, "oauth.claude.device_url"),
    ({}, {"OMNIROUTE_OAUTH_CLAUDE_TOKEN_URL": "ftp://x"}, "oauth.claude.token_url"),
])
def test_bad_settings_name_the_path(file: dict, env: dict, where: str) -> None:
    with pytest.raises(GatewayError) as err:
        configure(file, env)
    assert err.value.param == where


def test_config_file_oauth_table(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[oauth.claude]\ntoken_url = "http://127.0.0.1:9/token"\n')
    settings = resolve({"config": str(path)}, {})
    assert configure(settings.oauth, {})["claude"].url("token") == "http://127.0.0.1:9/token"


def test_pasted_codes() -> None:
    assert parse_code("abc", "st") == ("abc", "st")
    assert parse_code("abc#st", None) == ("abc", "st")  # Claude's page shows code#state
    assert parse_code("http://localhost:1455/auth/callback?code=abc&state=st", None) == ("abc", "st")
    with pytest.raises(GatewayError, match="refused the login: access_denied"):
        parse_code("http://localhost/cb?error=access_denied&state=st", None)
    for code, state in ((None, "s"), ("abc", None), ("  ", "s")):
        with pytest.raises(GatewayError):
            parse_code(code, state)


def test_challenge_is_rfc7636_s256() -> None:
    assert challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_identity_from_answers() -> None:
    claims = {"email": "a@b.c", "https://api.openai.com/auth": {"chatgpt_account_id": "acc"}}
    jwt = "x." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + ".y"
    assert identity({"id_token": jwt}) == ("a@b.c", {"account_id": "acc"})
    assert identity({"account": {"email_address": "z@y.x"}}) == ("z@y.x", {})
    assert identity({"id_token": "garbage"}) == ("", {})
