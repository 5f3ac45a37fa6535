"""How much usage history is kept, and whether bodies are logged (``/api/usage/retention``).

=====================  ==========  ==================================================
field                  default     meaning
=====================  ==========  ==================================================
``maxAgeDays``         30          records (and their bodies) older than this are
                                   pruned
``maxRecords``         1000000     beyond this many records, the oldest are pruned
``logBodies``          false       store request and response bodies of every request
``logBodiesKeyIds``    []          … or only of these API keys' requests
``maxBodyBytes``       65536       each stored body is cut to this many bytes
=====================  ==========  ==================================================

Pruning runs in the background, from each worker's usage writer, within a second or two of a
bound being passed. Rollups are not pruned with records (hourly ones after
``HOURLY_KEEP_DAYS`` or ``maxAgeDays``, whichever is longer; daily ones never), so history
and per-account totals keep what was pruned.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError

SETTING = "usage_retention"
HOURLY_KEEP_DAYS = 90
SESSION_IDLE_S = 1800  # a session (key + client) ends after this long without a request
AUDIT_MAX = 100_000  # audit entries kept (the oldest go first)


class Retention(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    max_age_days: float = 30.0
    max_records: int = 1_000_000
    log_bodies: bool = False
    log_bodies_key_ids: list[str] = msgspec.field(default_factory=list)
    max_body_bytes: int = 65_536

    @property
    def bodies_possible(self) -> bool:
        return self.log_bodies or bool(self.log_bodies_key_ids)

    def logs_bodies(self, key_id: str | None) -> bool:
        return self.log_bodies or (key_id is not None and key_id in self.log_bodies_key_ids)


_LIMITS = (
    ("maxAgeDays", lambda r: 0 < r.max_age_days <= 3650, "must be > 0 and <= 3650"),
    ("maxRecords", lambda r: 1 <= r.max_records <= 1_000_000_000, "must be 1..1000000000"),
    ("maxBodyBytes", lambda r: 0 <= r.max_body_bytes <= 16 * 1024 * 1024, "must be 0..16777216"),
)


def load(stored: dict[str, Any]) -> Retention:
    """The stored setting (``{}``: the defaults)."""
    try:
        return msgspec.convert(stored, Retention) if stored else Retention()
    except msgspec.ValidationError:
        return Retention()


def validate(current: Retention, changes: Any) -> Retention:
    """``PUT`` body (any subset of the fields) over ``current``; a 400 names a bad field."""
    if not isinstance(changes, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "body must be a JSON object of retention fields")
    merged = {**msgspec.to_builtins(current), **changes}
    try:
        retention = msgspec.convert(merged, Retention)
    except msgspec.ValidationError as exc:
        text = str(exc)
        at = text.rfind("`$.")
        field = text[at + 3 : -1] if at >= 0 else None
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"retention: {text}", param=field) from None
    for field, ok, why in _LIMITS:
        if not ok(retention):
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"{field} {why}", param=field)
    return retention


def present(retention: Retention) -> dict[str, Any]:
    return msgspec.to_builtins(retention)
