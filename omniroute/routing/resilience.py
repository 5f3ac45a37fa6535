"""Resilience profiles: breaker thresholds, cooldown backoff, timeouts and the one deadline.

``GET/PUT /api/resilience`` holds ``{"profile": name, "settings": {overrides},
"providers": {provider: {overrides}}}`` (settings ``resilience``). The effective values for a
provider are: its profile's, then the global overrides, then the provider's overrides.

=====================  ==========  ========  ============  ========================================
setting                aggressive  balanced  conservative  meaning
=====================  ==========  ========  ============  ========================================
failureThreshold       3           5         10            failures within ``windowS`` that open a
                                                           breaker (account or provider)
windowS                30          60        120           the window failures are counted in
openS                  15          30        60            an open breaker's wait before one
                                                           half-open probe
backoffBaseS           1           2         5             a 429 without ``Retry-After`` cools the
backoffMaxS            30          120       300           account base × 2^(n−1) s, at most max
connectTimeoutS        5           server    20            TCP/TLS connect
firstByteTimeoutS      30          server    300           upstream response head
idleTimeoutS           60          server    300           longest silence inside a stream
requestTimeoutS        300         600       900           **the deadline**: all attempts and the
                                                           answer together; then 504 (an error
                                                           event on a stream) and nothing left
                                                           running
=====================  ==========  ========  ============  ========================================

"server" = the ``--connect-timeout``, ``--first-byte-timeout`` and ``--stream-idle-timeout``
settings, so a gateway nobody tuned keeps its command-line timeouts. A request can lower (never
raise) its deadline with ``X-OmniRoute-Timeout: <seconds>``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.upstream import Timeouts


class Profile(msgspec.Struct, frozen=True, rename="camel"):
    failure_threshold: int
    window_s: float
    open_s: float
    backoff_base_s: float
    backoff_max_s: float
    connect_timeout_s: float
    first_byte_timeout_s: float
    idle_timeout_s: float
    request_timeout_s: float

    def backoff(self, level: int) -> float:
        """The cooldown of the ``level``-th 429 in a row without ``Retry-After`` (1-based)."""
        return min(self.backoff_base_s * 2 ** max(level - 1, 0), self.backoff_max_s)


PROFILE_NAMES = ("aggressive", "balanced", "conservative")
FIELDS = frozenset(f.encode_name for f in msgspec.structs.fields(Profile))


def base_profile(name: str, connect: float, first_byte: float, idle: float) -> Profile:
    """The named profile; ``balanced`` takes the server's timeout settings."""
    if name == "aggressive":
        return Profile(3, 30, 15, 1, 30, 5, 30, 60, 300)
    if name == "conservative":
        return Profile(10, 120, 60, 5, 300, 20, 300, 300, 900)
    return Profile(5, 60, 30, 2, 120, connect, first_byte, idle, 600)


def overrides(values: Any, path: str, provider: bool = False) -> dict[str, float]:
    """Validated overrides: known camelCase fields with positive numbers. A provider's may not
    set ``requestTimeoutS``: the deadline bounds a request across every provider it tries."""
    if not isinstance(values, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{path} must be an object", param=path)
    out = {}
    for key, value in values.items():
        if provider and key == "requestTimeoutS":
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"{path}.requestTimeoutS: the deadline is global (it "
                               "spans every provider a request tries); set it in settings", param=f"{path}.{key}")
        if key not in FIELDS:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"{path}.{key}: unknown setting; known: {sorted(FIELDS)}",
                               param=f"{path}.{key}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"{path}.{key} must be a number > 0",
                               param=f"{path}.{key}")
        out[key] = int(value) if key == "failureThreshold" else float(value)
    return out


class Resilience:
    """The effective profile per provider, decided when the settings change."""

    def __init__(self, doc: dict[str, Any], connect: float, first_byte: float, idle: float) -> None:
        self.name = doc.get("profile", "balanced")
        base = base_profile(self.name, connect, first_byte, idle)
        self.settings = doc.get("settings", {})
        self.default = msgspec.structs.replace(base, **_snake(self.settings))
        self.providers = {
            provider: msgspec.structs.replace(self.default, **_snake(values))
            for provider, values in doc.get("providers", {}).items()
        }
        server = (connect, first_byte, idle)
        self.timeouts = {name: _timeouts(p, server) for name, p in self.providers.items()}
        self.default_timeouts = _timeouts(self.default, server)

    def of(self, provider: str) -> Profile:
        return self.providers.get(provider, self.default)

    def timeouts_of(self, provider: str) -> Timeouts | None:
        """The upstream timeouts of ``provider``'s profile; ``None`` when they are the server's
        own (the pool's defaults: nothing to pass per request)."""
        return self.timeouts.get(provider, self.default_timeouts)


def _timeouts(profile: Profile, server: tuple[float, float, float]) -> Timeouts | None:
    mine = (profile.connect_timeout_s, profile.first_byte_timeout_s, profile.idle_timeout_s)
    return None if mine == server else Timeouts(*mine)


def _snake(values: dict[str, Any]) -> dict[str, Any]:
    names = {f.encode_name: f.name for f in msgspec.structs.fields(Profile)}
    return {names[k]: v for k, v in values.items() if k in names}
