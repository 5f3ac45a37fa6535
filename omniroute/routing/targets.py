"""Compiled upstream targets: a connection joined with its provider row, ready to call.

Everything a request needs from a connection — URLs and the header dict with credentials —
is computed here once per snapshot, so the hot path does no string building. A subscription
account (``oauth``) is the exception: its bearer token changes over time, so its headers come
from the worker's token cache when the request leaves (``oauth.tokens``).
"""

from __future__ import annotations

import hashlib

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.providers.specs import AuthStyle, ProviderSpec
from omniroute.store.records import Connection

_AUTH_HEADERS: dict[AuthStyle, tuple[str, str]] = {
    AuthStyle.BEARER: ("Authorization", "Bearer {}"),
    AuthStyle.TOKEN: ("Authorization", "Token {}"),
    AuthStyle.KEY: ("Authorization", "Key {}"),
    AuthStyle.RAW: ("Authorization", "{}"),
    AuthStyle.X_API_KEY: ("x-api-key", "{}"),
    AuthStyle.GOOG_API_KEY: ("x-goog-api-key", "{}"),
}


class Target(msgspec.Struct, frozen=True):
    """One account at one provider."""

    connection_id: str
    connection_name: str
    spec: ProviderSpec
    base_url: str
    headers: dict[str, str]
    key_print: str = ""  # fingerprint of the connection's key, "no-key" without one (an auth failure sticks to it)
    rpm: int = 0  # the account's own limits (0: none)
    tpm: int = 0
    oauth: bool = False  # credentials from oauth.tokens.TokenBook, not ``headers``
    expired: bool = False  # a subscription account whose tokens can no longer be refreshed

    @property
    def provider(self) -> str:
        return self.spec.id

    def chat_url(self, model: str, stream: bool) -> str:
        path = self.spec.stream_path if stream and self.spec.stream_path else self.spec.chat_path
        if path is None:
            raise GatewayError(ErrorKind.UNSUPPORTED, f"provider '{self.spec.id}' offers no chat endpoint "
                               f"(it offers: {', '.join(self.spec.capabilities)})", param="model")
        return self.base_url + path.replace("{model}", model) if "{model}" in path else self.base_url + path

    def media_url(self, kind: str, model: str) -> str:
        """The URL of the row's ``kind`` endpoint (``providers.row``) for ``model``."""
        media = self.spec.media(kind)
        if media is None:
            raise GatewayError(ErrorKind.UNSUPPORTED, f"provider '{self.spec.id}' offers no {kind} endpoint",
                               param="model")
        return self.base_url + media.path.replace("{model}", model)

    def url(self, path: str) -> str:
        return self.base_url + path


def fill_fields(url: str, fields: dict[str, str]) -> str:
    """``url`` with its ``{name}`` placeholders replaced by the connection's ``fields``
    (validated when the connection was written: ``inputs.connection_record``)."""
    for name, value in fields.items():
        url = url.replace("{" + name + "}", value)
    return url


def compile_target(conn: Connection, spec: ProviderSpec) -> Target:
    headers = {"Content-Type": "application/json", **dict(spec.headers)}
    auth = _AUTH_HEADERS.get(spec.auth)
    if auth and conn.api_key:
        headers[auth[0]] = auth[1].format(conn.api_key)
    base = fill_fields(conn.base_url or spec.base_url, conn.fields).rstrip("/")
    oauth = spec.auth is AuthStyle.OAUTH
    # no key print for a subscription account: a refused token is refreshed, not held against it
    key_print = "" if oauth else hashlib.sha256(conn.api_key.encode()).hexdigest()[:16] if conn.api_key else "no-key"
    return Target(conn.id, conn.name, spec, base, headers, key_print, conn.rpm, conn.tpm, oauth, oauth and conn.expired)
