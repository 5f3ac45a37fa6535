"""The OAuth providers of subscription accounts, as data, and their configured endpoints.

==============  ===============  ======  ===============================================
provider        row              flow    endpoints (``urls``)
==============  ===============  ======  ===============================================
``claude``      ``claude-code``  code    ``authorize``, ``token`` (JSON bodies)
``codex``       ``codex``        code    ``authorize``, ``token`` (form bodies; the
                                         ``id_token`` names the ChatGPT account)
``gemini-cli``  ``gemini-cli``   code    ``authorize``, ``token`` (Google; the Cloud
                                         project comes from Code Assist's
                                         ``loadCodeAssist`` on the connection's base URL)
``github``      ``github``       device  ``device``, ``token``, ``copilot_token`` (the
                                         GitHub token buys short-lived Copilot tokens)
==============  ===============  ======  ===============================================

"code" is the authorization-code flow with PKCE (S256); "device" is RFC 8628's device flow.
The defaults are the public values each vendor's own CLI uses.

Every value can be replaced, per provider, in the config file's ``[oauth.<provider>]`` table
(``token_url = "…"``, ``client_id``, ``client_secret``, ``redirect_uri``) and by the
environment, which wins: ``OMNIROUTE_OAUTH_<PROVIDER>_<NAME>_URL`` (``<PROVIDER>`` upper-case
with ``_`` for ``-``: ``OMNIROUTE_OAUTH_GEMINI_CLI_TOKEN_URL``), ``…_CLIENT_ID``,
``…_CLIENT_SECRET``, ``…_REDIRECT_URI``. ``configure`` validates them: an unknown provider
or key, or a URL that is not http(s), stops start-up naming it (``oauth.github.device_url``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import msgspec

from omniroute.errors import ErrorKind, GatewayError


class OAuthProvider(msgspec.Struct, frozen=True):
    name: str
    row: str  # the provider row (omniroute.providers.specs) its accounts use
    flow: str  # "code" | "device"
    client_id: str
    scopes: str
    urls: dict[str, str]
    redirect_uri: str = ""
    client_secret: str = ""
    json_body: bool = False  # token requests as JSON (else form-encoded)
    authorize_params: tuple[tuple[str, str], ...] = ()
    #: request headers taken from the account's ``extra`` (header, extra key)
    account_headers: tuple[tuple[str, str], ...] = ()
    needs_project: bool = False  # requests name the account's Cloud project (Code Assist)

    def url(self, name: str) -> str:
        return self.urls[name]


DEFAULTS: dict[str, OAuthProvider] = {p.name: p for p in (
    OAuthProvider(
        "claude", "claude-code", "code", "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
        "org:create_api_key user:profile user:inference",
        {"authorize": "https://claude.ai/oauth/authorize", "token": "https://console.anthropic.com/v1/oauth/token"},
        redirect_uri="https://console.anthropic.com/oauth/code/callback", json_body=True,
        authorize_params=(("code", "true"),),
    ),
    OAuthProvider(
        "codex", "codex", "code", "app_EMoamEEZ73f0CkXaXp7hrann", "openid profile email offline_access",
        {"authorize": "https://auth.openai.com/oauth/authorize", "token": "https://auth.openai.com/oauth/token"},
        redirect_uri="http://localhost:1455/auth/callback",
        authorize_params=(("id_token_add_organizations", "true"), ("codex_cli_simplified_flow", "true")),
        account_headers=(("chatgpt-account-id", "account_id"),),
    ),
    OAuthProvider(
        "gemini-cli", "gemini-cli", "code",
        "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
        "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email "
        "https://www.googleapis.com/auth/userinfo.profile",
        {"authorize": "https://accounts.google.com/o/oauth2/v2/auth", "token": "https://oauth2.googleapis.com/token"},
        redirect_uri="http://localhost:8085/oauth2callback",
        authorize_params=(("access_type", "offline"), ("prompt", "consent")), needs_project=True,
    ),
    OAuthProvider(
        "github", "github", "device", "Iv1.b507a08c87ecfe98", "read:user",
        {"device": "https://github.com/login/device/code", "token": "https://github.com/login/oauth/access_token",
         "copilot_token": "https://api.github.com/copilot_internal/v2/token"},
    ),
)}

_FIELDS = ("client_id", "client_secret", "redirect_uri")


def env_prefix(provider: str) -> str:
    return "OMNIROUTE_OAUTH_" + provider.upper().replace("-", "_") + "_"


def configure(file: Mapping[str, Mapping[str, str]] | None = None,
              environ: Mapping[str, str] = os.environ) -> dict[str, OAuthProvider]:
    """The providers with the config file's ``[oauth.*]`` values and the environment's over
    the defaults (environment first); errors name the setting."""
    file = file or {}
    unknown = set(file) - set(DEFAULTS)
    if unknown:
        raise _bad(f"oauth.{sorted(unknown)[0]}", f"is not an OAuth provider (known: {', '.join(DEFAULTS)})")
    return {name: _configure_one(p, file.get(name) or {}, environ) for name, p in DEFAULTS.items()}


def _configure_one(p: OAuthProvider, file: Mapping[str, str], environ: Mapping[str, str]) -> OAuthProvider:
    keys = {f"{name}_url" for name in p.urls} | set(_FIELDS)
    for key in file:
        if key not in keys:
            raise _bad(f"oauth.{p.name}.{key}", f"is not a setting of {p.name} (known: {', '.join(sorted(keys))})")
    prefix = env_prefix(p.name)
    values = {}
    for key in sorted(keys):
        value = environ.get(prefix + key.upper()) or file.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise _bad(f"oauth.{p.name}.{key}", "must be a non-empty string")
        if key.endswith("_url") or key == "redirect_uri":
            _check_url(f"oauth.{p.name}.{key}", value)
        values[key] = value
    urls = {name: values.get(f"{name}_url", url) for name, url in p.urls.items()}
    fields = {name: values[name] for name in _FIELDS if name in values}
    return msgspec.structs.replace(p, urls=urls, **fields)


def _check_url(where: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad(where, f"must be an http(s) URL, got {url!r}")


def _bad(where: str, why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"{where}: {why}", param=where)
