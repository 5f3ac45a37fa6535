"""Records kept in LMDB, msgpack-encoded msgspec Structs (one Struct per named database).

==============  ===================  ==============================================
database        key                  value
==============  ===================  ==============================================
``connections`` connection id        ``Connection``: an account at a provider
``nodes``       node id              ``ProviderNode``: a user-defined provider (prefix + base URL)
``keys``        sha256(key) hex      ``ApiKey``: a client key, stored hashed
``aliases``     alias                ``Alias``: alias → ``provider/model``
``sessions``    token sha256 hex     ``Session``: a dashboard login
``combos``      combo id             ``Combo``: a named model with a strategy over targets
``models``      provider/model       ``CustomModel``: a model an operator added to a provider
``policies``    policy id            ``Policy``: allow/deny/rewrite rules for keys
``budgets``     key id               ``Budget``: a key's spend limit per period
``settings``    name                 ``SettingValue``: ``general``, ``resilience``,
                                     ``rate_limit``, ``pricing`` (validated by the API)
``oauth``       connection id        ``OAuthToken``: a subscription account's tokens (secret
                                     fields encrypted when a key is set, ``store.crypto``);
                                     written without moving ``version``
``meta``        name                 raw bytes: ``version`` counter, ``password_hash``,
                                     ``sync_token_hash``
                                     ``rate_limit``, ``pricing``, ``auth``, ``ip_filter``,
                                     ``system_prompt``, ``thinking_budget``, ``proxy``
                                     (validated by the API)
``evals``       suite id             ``EvalSuite``: eval cases and the last scorecard
``meta``        name                 raw bytes: ``version`` counter, ``password_hash``
==============  ===================  ==============================================

What changes per request (cooldowns, breakers, rate windows, spend) is not here but in the
runtime environment (``store.runtime``).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Connection(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    id: str
    provider: str  # a provider row id ("openai") or a ProviderNode id ("node-…")
    name: str
    api_key: str = ""
    base_url: str | None = None  # None: the row's default
    enabled: bool = True
    priority: int = 0  # lower first
    models: list[str] = msgspec.field(default_factory=list)  # extra/overriding model list
    passthrough_models: bool = False  # bare model ids no row knows route here (a new model)
    rpm: int = 0  # requests per minute this account may take (0: no limit)
    tpm: int = 0  # tokens per minute (0: no limit)
    source: str = "api"  # "api" or "config" (provisioned from the config file)
    created_at: float = 0.0
    oauth: str = ""  # a subscription account: its OAuth provider (claude, codex, gemini-cli, github)
    expired: bool = False  # its tokens can no longer be refreshed: log in again
    fields: dict[str, str] = msgspec.field(default_factory=dict)  # the row's URL placeholders (accountId, …)


class ProviderNode(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    prefix: str
    base_url: str
    type: str = "openai-compatible"  # or "anthropic-compatible"
    api_type: str = "chat"  # "chat" or "responses" (openai-compatible nodes)
    source: str = "api"
    created_at: float = 0.0


class ApiKey(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    key_hash: str
    prefix: str  # first characters of the key, for display
    revoked: bool = False
    created_at: float = 0.0
    rpm: int = 0  # requests per minute (0: no limit)
    tpm: int = 0  # tokens per minute (0: no limit)


class Alias(msgspec.Struct):
    alias: str
    model: str
    created_at: float = 0.0  # glob aliases apply in the order they were made


class Session(msgspec.Struct):
    created_at: float
    expires_at: float


class ComboEntry(msgspec.Struct, omit_defaults=True):
    model: str  # "provider/model", an alias, or another combo's name
    weight: float = 1.0
    connection_id: str | None = None  # pin one account of the provider


class Combo(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    strategy: str = "priority"
    models: list[ComboEntry] = msgspec.field(default_factory=list)
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: float = 0.0


class CustomModel(msgspec.Struct, omit_defaults=True):
    provider: str
    model: str
    type: str = "chat"  # chat | embedding | image | audio
    created_at: float = 0.0


class Policy(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    key_ids: list[str] = msgspec.field(default_factory=list)  # empty: every key
    allow: list[str] = msgspec.field(default_factory=list)  # globs over provider/model; empty: all
    deny: list[str] = msgspec.field(default_factory=list)
    rewrite: dict[str, str] = msgspec.field(default_factory=dict)  # requested model → model
    created_at: float = 0.0


class Budget(msgspec.Struct, omit_defaults=True):
    key_id: str
    limit: float  # USD
    period: str = "monthly"  # daily | weekly | monthly
    created_at: float = 0.0


class SettingValue(msgspec.Struct):
    value: dict[str, Any]


class OAuthToken(msgspec.Struct, omit_defaults=True):
    """A subscription account's credentials. ``refresh_token`` holds what renews
    ``access_token``: an OAuth refresh token, or (GitHub) the GitHub token that buys Copilot
    tokens. Secret fields hold ``enc:…`` text when an encryption key is set."""

    connection_id: str
    provider: str  # OAuth provider name
    access_token: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0  # unix seconds (0: unknown)
    account: str = ""  # who logged in (e-mail, login or account id), for display
    extra: dict[str, str] = msgspec.field(default_factory=dict)  # account id, project …
    refreshed_at: float = 0.0
    error: str = ""  # why the last refresh failed
class EvalCase(msgspec.Struct, omit_defaults=True):
    input: str | list[dict[str, Any]]  # a user prompt, or OpenAI Chat messages
    expect: dict[str, Any]  # contains | equals | regex | jsonSchema (all that are given must hold)


class EvalSuite(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    model: str
    cases: list[EvalCase] = msgspec.field(default_factory=list)
    created_at: float = 0.0
    last_run: dict[str, Any] | None = None  # the last scorecard
