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
                                     success closes it, failure opens it again
success                              clears the account's backoff and failures, closes a
                                     half-open breaker
404, context length, other 4xx       nothing (the request, not the account, was at fault)
===================================  =========================================================

An account is skipped while it is ``cooling``, ``auth_failed`` or its (or its provider's)
breaker is ``circuit_open``; ``blocked`` says which, and until when.
"""

from __future__ import annotations

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


_decoder = msgspec.msgpack.Decoder(AccountHealth)
_BREAKER_KINDS = frozenset({ErrorKind.UPSTREAM_UNREACHABLE, ErrorKind.UPSTREAM_TIMEOUT, ErrorKind.UPSTREAM_PROTOCOL,
                            ErrorKind.OVERLOADED})
_BREAKER_STATUSES = frozenset({408, 500, 502, 503, 504, 529})


class Blocked(NamedTuple):
    state: str  # cooling | auth_failed | circuit_open
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

    def blocked(self, target: Target, now: float) -> Blocked | None:
        """Why ``target`` may not be tried now (``None``: it may)."""
        account = self.states.get("c:" + target.connection_id)
        if account is not None:
            if account.auth_failed and account.auth_failed == target.key_print:
                return Blocked("auth_failed", 0.0)
            if account.cooling_until > now:
                return Blocked("cooling", account.cooling_until)
        for key in ("c:" + target.connection_id, "p:" + target.provider):
            held = self.states.get(key)
            if held is not None and held.open_until and not self._may_probe(key, held, now):
                return Blocked("circuit_open", max(held.open_until, now + 1.0))
        return None

    def _may_probe(self, key: str, held: AccountHealth, now: float) -> bool:
        """Open breaker: no. Past its open time: one worker claims the half-open probe."""
        if held.open_until > now or held.probing_since >= held.open_until:
            return False
        def claim(raw: bytes | None) -> bytes | None:  # atomically: one worker wins
            shared = _decoder.decode(raw) if raw else AccountHealth()
            if shared.open_until > now or shared.probing_since >= shared.open_until:
                return None
            shared.probing_since = now
            return _encoder.encode(shared)

        if self.runtime.swap("health", key, claim) is None:
            return False
        held.probing_since = now
        return True

    def record_failure(self, target: Target, err: GatewayError, profile: Profile, now: float) -> None:
        """Apply a failed attempt's outcome (module table); one write when it changes anything."""
        changes: dict[str, AccountHealth] = {}
        account = self._copy("c:" + target.connection_id)
        if err.status == 429 or err.kind is ErrorKind.RATE_LIMITED:
            wait = err.retry_after
            if wait is None:
                account.backoff += 1
                wait = profile.backoff(account.backoff)
            account.cooling_until = now + wait
        elif err.provider is not None and err.status in (401, 403):
            account.auth_failed = target.key_print
        if breaker_counts(err):
            for key, held in (("c:" + target.connection_id, account), ("p:" + target.provider, None)):
                held = held or self._copy(key)
                _fail(held, profile, now)
                changes[key] = held
        account.last_error, account.last_error_at = f"{err.status} {err.message}"[:300], now
        changes["c:" + target.connection_id] = account
        self._write(changes)

    def record_success(self, target: Target) -> None:
        """A success clears what a failure left, when anything was left."""
        changes = {}
        for key in ("c:" + target.connection_id, "p:" + target.provider):
            held = self.states.get(key)
            if held is not None and (held.backoff or held.failures or held.open_until or held.cooling_until):
                cleared = msgspec.structs.replace(held, backoff=0, failures=[], open_until=0.0, probing_since=0.0,
                                                  cooling_until=0.0)
                changes[key] = cleared
        if changes:
            self._write(changes)

    def clear_auth(self, connection_id: str) -> None:
        held = self.states.get("c:" + connection_id)
        if held is not None and held.auth_failed:
            self._write({"c:" + connection_id: msgspec.structs.replace(held, auth_failed="")})

    def reset(self) -> None:
        """Close every breaker and clear every cooldown (``POST /api/resilience/reset``)."""
        self.runtime.clear("health", bump_health=True)
        self.refresh()

    def _copy(self, key: str) -> AccountHealth:
        held = self.states.get(key)
        return msgspec.structs.replace(held, failures=list(held.failures)) if held is not None else AccountHealth()

    def _write(self, changes: dict[str, AccountHealth]) -> None:
        self.runtime.put_many("health", {k: _encoder.encode(v) for k, v in changes.items()}, bump_health=True)
        self.states.update(changes)


def _fail(held: AccountHealth, profile: Profile, now: float) -> None:
    if held.open_until and held.open_until <= now:  # the half-open probe failed: open again
        held.open_until, held.failures = now + profile.open_s, []
        return
    held.failures = [t for t in held.failures if t > now - profile.window_s] + [now]
    if len(held.failures) >= profile.failure_threshold:
        held.open_until, held.failures = now + profile.open_s, []
