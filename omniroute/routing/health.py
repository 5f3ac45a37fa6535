"""Account and provider health, shared by every worker: cooldowns, auth failures, breakers.

State lives in the runtime environment (``store.runtime``, database ``health``): one
``AccountHealth`` per connection (``c:<id>``) and per provider (``p:<id>``, its breaker).
Each worker keeps a copy and reloads it when the shared ``health`` version moves (one read
per request); it writes only when an outcome changes the state, so healthy traffic writes
nothing.

What an attempt's outcome does (``record``):

===================================  =========================================================
outcome                              effect
===================================  =========================================================
429                                  the account cools down for the upstream's
                                     ``Retry-After`` (seconds or an HTTP date), else for the
                                     profile's backoff (base × 2^(n−1), n = 429s in a row)
401 / 403                            the account is ``auth_failed`` until its key changes or
                                     ``POST /api/providers/{id}/test`` succeeds
5xx, 408, 529, timeout, refused,     a failure on the account's and the provider's breaker:
broken stream                        ``failureThreshold`` within ``windowS`` opens it for
                                     ``openS``; then one request may probe (half-open):
                                     success closes it, failure opens it again. A
                                     provider's breaker opens only once two of its accounts
                                     failed since it last answered (or its only one did):
                                     one broken account must not stop the healthy others
success                              clears the account's backoff and failures, closes a
                                     half-open breaker
404, context length, other 4xx       nothing (the request, not the account, was at fault)
===================================  =========================================================

An account is skipped while it is ``cooling``, ``auth_failed``, ``expired`` (a subscription
account whose tokens can no longer be refreshed: ``oauth.tokens``) or its (or its provider's)
breaker is ``circuit_open``; ``blocked`` says which, and until when.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.routing.resilience import Profile
from omniroute.routing.targets import Target
from omniroute.store.runtime import Runtime

_encoder = msgspec.msgpack.Encoder()


class AccountHealth(msgspec.Struct, omit_defaults=True):
    cooling_until: float = 0.0
    backoff: int = 0  # 429s in a row without Retry-After
    auth_failed: str = ""  # fingerprint of the key that was refused ("" = none)
    last_error: str = ""
    last_error_at: float = 0.0
    failures: list[float] = msgspec.field(default_factory=list)  # breaker: failure times
    open_until: float = 0.0  # breaker: open until (0: closed)
    probing_since: float = 0.0  # breaker: a half-open probe was claimed at
    failed_by: list[str] = msgspec.field(default_factory=list)  # provider breaker: accounts that failed


_decoder = msgspec.msgpack.Decoder(AccountHealth)
_BREAKER_KINDS = frozenset({ErrorKind.UPSTREAM_UNREACHABLE, ErrorKind.UPSTREAM_TIMEOUT, ErrorKind.UPSTREAM_PROTOCOL,
                            ErrorKind.OVERLOADED})
_BREAKER_STATUSES = frozenset({408, 500, 502, 503, 504, 529})


class Blocked(NamedTuple):
    state: str  # cooling | auth_failed | expired | circuit_open
    until: float  # when it may be tried again (0: not by itself)


_FALLBACK_KINDS = frozenset({ErrorKind.UPSTREAM_UNREACHABLE, ErrorKind.UPSTREAM_TIMEOUT, ErrorKind.UPSTREAM_PROTOCOL,
                             ErrorKind.OVERLOADED, ErrorKind.RATE_LIMITED, ErrorKind.CONTEXT_LENGTH})
_FALLBACK_STATUSES = frozenset({401, 403, 404, 408, 429, 500, 502, 503, 504, 529})


def falls_back(err: GatewayError) -> bool:
    """Whether a failed attempt moves on to the next account or target (docs/routing.md,
    "Fallback"): unreachable, timeouts, broken or empty answers, 408, 429, 5xx, 529, 404
    (model not found there), a context-length error, 401/403 (the account is marked first).
    Any other 4xx is the request's own fault: another target would refuse it too."""
    if err.kind in _FALLBACK_KINDS:
        return True
    return err.provider is not None and err.status in _FALLBACK_STATUSES


def breaker_counts(err: GatewayError) -> bool:
    return err.kind in _BREAKER_KINDS or (err.provider is not None and err.status in _BREAKER_STATUSES)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class Health:
    """This worker's copy of the shared health state, and the writes that change it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.version = -1
        self.states: dict[str, AccountHealth] = {}
        self.refresh()

    def refresh(self) -> None:
        version = self.runtime.health_version()
        if version != self.version:
            self.states = {key: _decoder.decode(raw) for key, raw in self.runtime.items("health")}
            self.version = version

    def state(self, key: str) -> AccountHealth | None:
        return self.states.get(key)

    def blocked(self, target: Target, now: float, profile: Profile, claim: bool = True) -> Blocked | None:
        """Why ``target`` may not be tried now (``None``: it may). Past an open breaker's
        time, the caller about to try it claims the half-open probe; a view that only
        reports (``claim=False``) leaves it to a request."""
        if target.expired:
            return Blocked("expired", 0.0)
        account = self.states.get("c:" + target.connection_id)
        if account is not None:
            if account.auth_failed and account.auth_failed == target.key_print:
                return Blocked("auth_failed", 0.0)
            if account.cooling_until > now:
                return Blocked("cooling", account.cooling_until)
        for key in ("c:" + target.connection_id, "p:" + target.provider):
            held = self.states.get(key)
            if held is not None and held.open_until and not self._may_probe(key, held, now, profile.open_s, claim):
                return Blocked("circuit_open", max(held.open_until, now + 1.0))
        return None

    def _may_probe(self, key: str, held: AccountHealth, now: float, lapse: float, claim: bool) -> bool:
        """Open breaker: no. Past its open time: one request claims the half-open probe (one
        worker wins); a claim without a verdict for ``lapse`` seconds (its client left, or it
        never reached the upstream) lets the next request probe instead."""
        if held.open_until > now or not _probe_free(held, now, lapse):
            return False
        if not claim:
            return True

        def take(_key: str, raw: bytes | None) -> bytes | None:
            shared = _decoder.decode(raw) if raw else AccountHealth()
            if shared.open_until > now or not _probe_free(shared, now, lapse):
                return None
            shared.probing_since = now
            return _encoder.encode(shared)

        return self._update([key], take)

    def record_failure(self, target: Target, err: GatewayError, profile: Profile, now: float,
                       accounts: int = 1) -> None:
        """Apply a failed attempt's outcome (module table) to the shared state as it is now
        (one write transaction: concurrent failures on other workers all count). ``accounts``:
        how many the provider has (its breaker's quorum)."""
        account_key = "c:" + target.connection_id
        counts = breaker_counts(err)

        def change(key: str, raw: bytes | None) -> bytes:
            held = _decoder.decode(raw) if raw else AccountHealth()
            if key == account_key:
                _account_failure(held, target, err, profile, now)
                if counts:
                    _fail(held, profile, now)
            elif counts:
                _fail(held, profile, now, target.connection_id, min(accounts, 2))
            return _encoder.encode(held)

        self._update([account_key, "p:" + target.provider] if counts else [account_key], change)

    def record_success(self, target: Target) -> None:
        """A success clears what a failure left, when anything was left (no write otherwise)."""
        keys = [key for key in ("c:" + target.connection_id, "p:" + target.provider)
                if (held := self.states.get(key)) is not None
                and (held.backoff or held.failures or held.open_until or held.cooling_until)]

        def clear(_key: str, raw: bytes | None) -> bytes | None:
            if raw is None:
                return None
            held = msgspec.structs.replace(_decoder.decode(raw), backoff=0, failures=[], open_until=0.0,
                                           probing_since=0.0, cooling_until=0.0, failed_by=[])
            return _encoder.encode(held)

        if keys:
            self._update(keys, clear)

    def clear_auth(self, connection_id: str) -> None:
        def clear(_key: str, raw: bytes | None) -> bytes | None:
            held = _decoder.decode(raw) if raw else None
            return _encoder.encode(msgspec.structs.replace(held, auth_failed="")) if held and held.auth_failed else None

        self._update(["c:" + connection_id], clear)

    def reset(self) -> None:
        """Close every breaker and clear every cooldown (``POST /api/resilience/reset``)."""
        self.runtime.clear("health", bump_health=True)
        self.refresh()

    def _update(self, keys: list[str], change: Callable[[str, bytes | None], bytes | None]) -> bool:
        """Read-modify-write ``keys`` in the shared state (atomic across workers) and keep what
        was written; True when anything was."""
        written = self.runtime.update_many("health", keys, change, bump_health=True)
        self.states.update({key: _decoder.decode(raw) for key, raw in written.items()})
        return bool(written)


def _probe_free(held: AccountHealth, now: float, lapse: float) -> bool:
    """No half-open probe is in flight: none claimed since the breaker opened, or the claim lapsed."""
    return held.probing_since < held.open_until or now - held.probing_since >= lapse


def _account_failure(held: AccountHealth, target: Target, err: GatewayError, profile: Profile, now: float) -> None:
    """What a failure does to the account itself: a cooldown, an auth failure, its last error."""
    if err.status == 429 or err.kind is ErrorKind.RATE_LIMITED:
        wait = err.retry_after
        if wait is None:
            held.backoff += 1
            wait = profile.backoff(held.backoff)
        held.cooling_until = now + wait
    elif err.provider is not None and err.status in (401, 403):
        held.auth_failed = target.key_print
    held.last_error, held.last_error_at = f"{err.status} {err.message}"[:300], now


def _fail(held: AccountHealth, profile: Profile, now: float, account: str = "", quorum: int = 1) -> None:
    """One failure on a breaker; a provider's (``account``: who failed) opens only once
    ``quorum`` of its accounts failed since it last answered."""
    if held.open_until and held.open_until <= now:  # the half-open probe failed: open again
        held.open_until, held.failures, held.failed_by = now + profile.open_s, [], []
        return
    held.failures = [t for t in held.failures if t > now - profile.window_s] + [now]
    if account and account not in held.failed_by:
        held.failed_by.append(account)
    if len(held.failures) >= profile.failure_threshold and len(held.failed_by) >= (quorum if account else 0):
        held.open_until, held.failures, held.failed_by = now + profile.open_s, [], []
