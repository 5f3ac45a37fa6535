"""Latency, TTFT and gateway-overhead percentiles from preallocated ring buffers.

Each worker keeps one ``Ring`` per series — every request (``all``), per provider, per
served model (``provider/model``) and per combo — holding its last ``RING_SIZE`` samples in
four preallocated ``array('d')`` columns: arrival time, latency, overhead and TTFT (NaN for a
non-streaming request). Adding a sample writes four slots; nothing is allocated. A series is
created the first time its provider, model or combo is seen.

Workers publish the series that changed since their last flush (``publish``, one value per
worker and series in the usage environment); ``summarize`` merges every worker's published
samples that fall within the window and computes, per series:

================  ==================================================================
value             meaning
================  ==================================================================
``p50/p95/p99``   latency: nearest-rank percentiles (milliseconds), the smallest
                  sample with at least p % of the samples at or below it
``count``         the samples they were computed from: every request in the window,
                  up to ``RING_SIZE`` newest per worker and series
``overhead``,     the same for the gateway's overhead and (streams only) the time to
``ttft``          first token, each ``{p50, p95, p99, count}``
================  ==================================================================
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

import msgspec

RING_SIZE = 2048
#: the longest window a summary may ask for; older published series are dropped
MAX_WINDOW_S = 86_400
DEFAULT_WINDOW_S = 300
KINDS = {"provider": "providers", "model": "models", "combo": "combos"}
_NAN = float("nan")


class Ring:
    __slots__ = ("latency", "n", "overhead", "ts", "ttft")

    def __init__(self, size: int = RING_SIZE) -> None:
        zeros = bytes(8 * size)
        self.ts = array("d", zeros)
        self.latency = array("d", zeros)
        self.overhead = array("d", zeros)
        self.ttft = array("d", zeros)
        self.n = 0  # samples ever added

    def add(self, ts: float, latency: float, overhead: float, ttft: float | None) -> None:
        i = self.n % len(self.ts)
        self.ts[i], self.latency[i], self.overhead[i] = ts, latency, overhead
        self.ttft[i] = _NAN if ttft is None else ttft
        self.n += 1

    def encode(self) -> bytes:
        """The filled part of the ring (order does not matter to percentiles)."""
        k = min(self.n, len(self.ts)) * 8
        return _encoder.encode((self.ts.tobytes()[:k], self.latency.tobytes()[:k], self.overhead.tobytes()[:k],
                                self.ttft.tobytes()[:k]))


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(tuple[bytes, bytes, bytes, bytes])


class Rings:
    """One worker's series, and which changed since they were last published."""

    def __init__(self, size: int = RING_SIZE) -> None:
        self.size = size
        self.series: dict[tuple[str, str], Ring] = {}
        self.dirty: set[tuple[str, str]] = set()
        #: (provider, model, combo) → the keys and rings a sample of it goes to
        self.routes: dict[tuple[str | None, str | None, str | None], tuple[tuple, tuple[Ring, ...]]] = {}

    def add(self, ts: float, latency: float, overhead: float, ttft: float | None, provider: str | None,
            model: str | None, combo: str | None) -> None:
        route = self.routes.get((provider, model, combo))
        if route is None:
            route = self.routes[(provider, model, combo)] = self._route(provider, model, combo)
        keys, rings = route
        for ring in rings:
            ring.add(ts, latency, overhead, ttft)
        self.dirty.update(keys)

    def _route(self, provider: str | None, model: str | None, combo: str | None) -> tuple[tuple, tuple[Ring, ...]]:
        keys = tuple(k for k in (("all", ""), ("provider", provider), ("model", model), ("combo", combo))
                     if k[1] is not None)
        for key in keys:
            if key not in self.series:
                self.series[key] = Ring(self.size)
        return keys, tuple(self.series[k] for k in keys)

    def publish(self) -> dict[tuple[str, str], bytes]:
        """The changed series, encoded; they count as published from now on."""
        out = {key: self.series[key].encode() for key in self.dirty}
        self.dirty.clear()
        return out


def newest(raw: bytes) -> float:
    """The newest sample time of an encoded ring (0: empty)."""
    ts = array("d", _decoder.decode(raw)[0])
    return max(ts) if ts else 0.0


def percentiles(values: list[float]) -> dict[str, float | int]:
    """Nearest-rank p50/p95/p99 of ``values`` (rounded to µs) and their count."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "count": 0}  # type: ignore[dict-item]
    values.sort()
    n = len(values)
    return {f"p{p}": round(values[max(0, math.ceil(p * n / 100) - 1)], 3) for p in (50, 95, 99)} | {"count": n}


def summarize(published: Iterable[tuple[str, str, bytes]], now: float, window: float) -> dict:
    """Merge every worker's published ``(kind, name, ring)`` into the summary the API shows
    (docs/observability.md, "Telemetry")."""
    since = now - window
    merged: dict[tuple[str, str], list[list[float]]] = {}
    for kind, name, raw in published:
        columns = [array("d", part) for part in _decoder.decode(raw)]
        held = merged.setdefault((kind, name), [[], [], []])
        for ts, latency, overhead, ttft in zip(*columns, strict=True):
            if ts >= since:
                held[0].append(latency)
                held[1].append(overhead)
                if ttft == ttft:  # not NaN: a stream
                    held[2].append(ttft)
    out: dict = {plural: {} for plural in KINDS.values()}
    for (kind, name), (latency, overhead, ttft) in sorted(merged.items()):
        if kind == "all":
            out["latency"], out["overhead"], out["ttft"] = (percentiles(v) for v in (latency, overhead, ttft))
        elif latency:
            out[KINDS[kind]][name] = percentiles(latency) | {"overhead": percentiles(overhead),
                                                             "ttft": percentiles(ttft)}
    empty = percentiles([])
    for part in ("latency", "overhead", "ttft"):
        out.setdefault(part, empty)
    out["windowS"] = window
    return out
