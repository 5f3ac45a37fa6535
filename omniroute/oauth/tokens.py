"""Fresh OAuth tokens on the request path: a per-worker cache, refreshed ahead of expiry,
one refresh at a time per account across every worker.

A subscription account's target (``Target.oauth``) carries no credential of its own; its
headers come from ``TokenBook.credentials(target)``:

* **Cached** (the common case): one dict lookup and one clock read — the headers dict (the
  row's, ``Authorization: Bearer <token>``, the account's own such as
  ``chatgpt-account-id``) was built when the token was loaded.
* **Due** — within ``MARGIN`` (5 min) of expiry, never loaded, or invalidated by a 401:
  requests of this worker queue on the account's ``asyncio.Lock``; the first reads the
  stored token (another worker may have refreshed it already) and, if it is still due,
  takes the account's refresh lease in the runtime environment (``marks``,
  ``oauth-lease:<id>``, atomic across workers, lapsing after ``LEASE`` seconds). The lease
  holder refreshes and stores the new token; the other workers poll the stored record until
  it changes and use it. So one refresh happens however many requests, on however many
  workers, see the expiry.

=======================================  =============================================
refresh outcome                          effect
=======================================  =============================================
new token                                stored (encrypted with a key), cached
OAuth server refused it (400/401/403)    the connection is marked ``expired`` (a
                                         store write: every worker's snapshot skips
                                         it; ``/api/rate-limits`` shows it) — log in
                                         again through ``/api/oauth/…``
OAuth server unreachable / 5xx           the current token while it is still valid,
                                         else a 502 for this attempt (next account)
=======================================  =============================================

Token writes do not move the store version (a refresh changes no route); the cache is
emptied when the version moves for another reason (a login, a restore).
"""

from __future__ import annotations

import asyncio
import math
import os
import struct
import time
from collections.abc import Callable
from typing import NamedTuple

import aiohttp
import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.registry import FORMATS
from omniroute.oauth import client
from omniroute.oauth.providers import OAuthProvider
from omniroute.routing.targets import Target
from omniroute.store import OAuthToken, Runtime, Store
from omniroute.store.crypto import Cipher

MARGIN = 300.0  # refresh this long before expiry
LEASE = 30.0  # a refresh lease lapses after this long (its worker died mid-refresh)
WAIT = 25.0  # longest wait for another worker's refresh
POLL = 0.05
UNKNOWN_EXPIRY = 3600.0  # a token without an expiry is re-read this often
RETRY = 15.0  # after a refresh that failed but left a valid token: try again this much later
_lease = struct.Struct("<dQ")  # until, pid


class Credentials(NamedTuple):
    headers: dict[str, str]
    refresh_at: float
    expires_at: float
    wrap: Callable[[bytes], bytes] | None  # puts the account into the body (Code Assist's project)

    def body(self, body: bytes) -> bytes:
        return self.wrap(body) if self.wrap is not None else body


class TokenBook:
    """This worker's view of the subscription accounts' tokens (module docstring)."""

    def __init__(self, store: Store, runtime: Runtime, session: aiohttp.ClientSession,
                 providers: dict[str, OAuthProvider], cipher: Cipher) -> None:
        self.store = store
        self.runtime = runtime
        self.session = session
        self.providers = providers
        self.cipher = cipher
        self.cache: dict[str, Credentials] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._stale: dict[str, float] = {}  # connection → when an upstream refused its token

    def clear(self) -> None:
        self.cache.clear()

    async def credentials(self, target: Target) -> Credentials:
        held = self.cache.get(target.connection_id)
        if held is not None and time.time() < held.refresh_at:
            return held
        return await self._renew(target)

    def invalidate(self, connection_id: str) -> None:
        """The upstream refused the token (401): refresh it before it is used again."""
        self.cache.pop(connection_id, None)
        self._stale[connection_id] = time.time()

    # -- storage ------------------------------------------------------------------------
    def load(self, connection_id: str) -> OAuthToken | None:
        token = self.store.get("oauth", connection_id)
        if token is None:
            return None
        return msgspec.structs.replace(token, access_token=self.cipher.open(token.access_token),
                                       refresh_token=self.cipher.open(token.refresh_token))

    def save(self, token: OAuthToken) -> None:
        sealed = msgspec.structs.replace(token, access_token=self.cipher.seal(token.access_token),
                                         refresh_token=self.cipher.seal(token.refresh_token))
        self.store.put("oauth", token.connection_id, sealed, bump=False)

    # -- renewal ------------------------------------------------------------------------
    async def _renew(self, target: Target) -> Credentials:
        cid = target.connection_id
        async with self._locks.setdefault(cid, asyncio.Lock()):
            held = self.cache.get(cid)
            if held is not None and time.time() < held.refresh_at:
                return held
            token = self._current(target)
            if self._due(token):
                token = await self._refresh_once(target, token)
            self._stale.pop(cid, None)
            creds = self._credentials(target, token)
            if creds.refresh_at <= time.time():  # the refresh failed for now: not again on every request
                creds = creds._replace(refresh_at=time.time() + RETRY)
            self.cache[cid] = creds
            return creds

    def _current(self, target: Target) -> OAuthToken:
        token = self.load(target.connection_id)
        if token is None or not token.access_token:
            raise expired_error(target, "it has no tokens")
        return token

    def _due(self, token: OAuthToken) -> bool:
        stale = self._stale.get(token.connection_id)
        if stale is not None and token.refreshed_at < stale:
            return True
        return bool(token.expires_at) and time.time() >= token.expires_at - MARGIN

    async def _refresh_once(self, target: Target, token: OAuthToken) -> OAuthToken:
        """Refresh under the shared lease, or wait for the worker holding it."""
        cid, seen = target.connection_id, token.refreshed_at
        deadline = time.monotonic() + WAIT
        while True:
            if self._take_lease(cid):
                try:
                    latest = self._current(target)
                    if latest.refreshed_at > seen and not self._due(latest):
                        return latest
                    return await self._refresh(target, latest)
                finally:
                    self.runtime.delete_many("marks", ["oauth-lease:" + cid])
            await asyncio.sleep(POLL)
            latest = self._current(target)
            if latest.refreshed_at > seen and not self._due(latest):
                return latest
            conn = self.store.get("connections", cid)
            if conn is not None and conn.expired:
                raise expired_error(target, latest.error or "its refresh was refused")
            if time.monotonic() > deadline:
                if time.time() < token.expires_at:
                    return token
                raise GatewayError(ErrorKind.UPSTREAM_TIMEOUT, f"waited {WAIT:g} s for another worker to refresh "
                                   f"the token of '{target.connection_name}'", provider=target.provider)

    def _take_lease(self, cid: str) -> bool:
        now = time.time()

        def take(_key: str, raw: bytes | None) -> bytes | None:
            if raw is not None and _lease.unpack(raw)[0] > now:
                return None
            return _lease.pack(now + LEASE, os.getpid())

        return bool(self.runtime.update_many("marks", ["oauth-lease:" + cid], take))

    async def _refresh(self, target: Target, token: OAuthToken) -> OAuthToken:
        provider = self.providers[token.provider]
        try:
            grant = await client.refresh(self.session, provider, token)
        except GatewayError as err:
            if client.refused(err):
                self.expire(target.connection_id, err.message)
                raise expired_error(target, err.message) from None
            if time.time() < token.expires_at:
                return token
            raise GatewayError(err.kind, f"could not refresh the token of '{target.connection_name}': {err.message}",
                               status=502, provider=target.provider) from None
        fresh = msgspec.structs.replace(token, access_token=grant.access_token, refresh_token=grant.refresh_token,
                                        expires_at=grant.expires_at, account=grant.account, extra=grant.extra,
                                        refreshed_at=time.time(), error="")
        self.save(fresh)
        return fresh

    def expire(self, connection_id: str, reason: str) -> None:
        """Mark the account ``expired`` for every worker (a store write moving the version)."""
        token = self.store.get("oauth", connection_id)
        if token is not None:
            self.store.put("oauth", connection_id, msgspec.structs.replace(token, error=reason[:300]), bump=False)
        conn = self.store.get("connections", connection_id)
        if conn is not None and not conn.expired:
            self.store.put("connections", connection_id, msgspec.structs.replace(conn, expired=True))

    def _credentials(self, target: Target, token: OAuthToken) -> Credentials:
        provider = self.providers[token.provider]
        headers = {**target.headers, "Authorization": f"Bearer {token.access_token}"}
        for header, key in provider.account_headers:
            if token.extra.get(key):
                headers[header] = token.extra[key]
        expires = token.expires_at or math.inf
        refresh_at = expires - MARGIN if token.expires_at else time.time() + UNKNOWN_EXPIRY
        project = token.extra.get("project", "")
        with_project = getattr(FORMATS[target.spec.format], "with_project", None)
        wrap = (lambda body: with_project(body, project)) if project and with_project else None
        return Credentials(headers, refresh_at, expires, wrap)


def expired_error(target: Target, why: str) -> GatewayError:
    """The attempt's error for an account whose tokens cannot be refreshed (a 401 from the
    account: routing moves on to the next one)."""
    return GatewayError(ErrorKind.AUTHENTICATION, f"subscription account '{target.connection_name}' has expired "
                        f"({why}): log in again through /api/oauth/{target.spec.oauth}", status=401,
                        provider=target.provider, code="account_expired")
