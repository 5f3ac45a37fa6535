"""Query parameters of the management API, checked: a bad one is a 400 that names it.

==============  ===========================================================================
kind            accepted
==============  ===========================================================================
integer         digits within the parameter's bounds (``limit=50``)
time            unix seconds (``1767225600``, ``1767225600.5``) or ISO 8601
                (``2026-01-01``, ``2026-01-01T12:00:00Z``, an offset); no zone means UTC
status          a status (``429``), a class (``2xx``, ``4xx``, ``5xx``), or ``error`` (any
                status ≥ 400, or a stream that failed midway)
==============  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from omniroute.errors import ErrorKind, GatewayError


def _bad(name: str, why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"query parameter '{name}' {why}", param=name)


def known(query: dict[str, str], allowed: tuple[str, ...]) -> None:
    """400 for a parameter the endpoint does not take (a typo must not silently widen a filter)."""
    for name in query:
        if name not in allowed:
            raise _bad(name, f"is not known here; use {', '.join(allowed)}")


def integer(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _bad(name, f"must be an integer from {low} to {high}, not {raw!r}")
    return int(raw)


def moment(query: dict[str, str], name: str) -> float | None:
    """A time as unix seconds (``None``: not given)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _bad(name, f"must be unix seconds or an ISO 8601 time, not {raw!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def status(query: dict[str, str], name: str = "status") -> Callable[[int, str | None], bool] | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw == "error":
        return lambda code, kind: code >= 400 or kind is not None
    if len(raw) == 3 and raw[0] in "12345" and raw[1:] == "xx":
        low = int(raw[0]) * 100
        return lambda code, _kind: low <= code < low + 100
    if raw.isdigit() and 100 <= int(raw) <= 599:
        wanted = int(raw)
        return lambda code, _kind: code == wanted
    raise _bad(name, f"must be a status (429), a class (4xx) or 'error', not {raw!r}")


def choice(query: dict[str, str], name: str, options: tuple[str, ...], default: str) -> str:
    raw = query.get(name) or default
    if raw not in options:
        raise _bad(name, f"must be one of {', '.join(options)}, not {raw!r}")
    return raw
