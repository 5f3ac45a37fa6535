"""Records kept in LMDB, msgpack-encoded msgspec Structs (one Struct per named database).

==============  ===================  ==============================================
database        key                  value
==============  ===================  ==============================================
``connections`` connection id        ``Connection``: an account at a provider
``nodes``       node id              ``ProviderNode``: a user-defined provider (prefix + base URL)
``keys``        sha256(key) hex      ``ApiKey``: a client key, stored hashed
``aliases``     alias                ``Alias``: alias → ``provider/model``
``sessions``    token sha256 hex     ``Session``: a dashboard login
``meta``        name                 raw bytes: ``version`` counter, ``password_hash``
==============  ===================  ==============================================
"""

from __future__ import annotations

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
    source: str = "api"  # "api" or "config" (provisioned from the config file)
    created_at: float = 0.0


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


class Alias(msgspec.Struct):
    alias: str
    model: str


class Session(msgspec.Struct):
    created_at: float
    expires_at: float
