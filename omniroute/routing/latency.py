"""Live latency per target for ``latency-optimized`` combos: a preallocated ring of the last
``SIZE`` time-to-first-byte samples per ``provider/model``, in this worker.

Tracking is on only while some combo uses ``latency-optimized`` (``tracking``); then each
served attempt adds one sample (one array store). ``p95`` sorts a copy of the ring, at most
once every ``RECOMPUTE`` samples per target. Each worker ranks by what it saw itself: the
order needs a fresh view more than an exact merge.
"""

from __future__ import annotations

from array import array

SIZE = 256
RECOMPUTE = 16


class Ring:
    __slots__ = ("cached", "count", "since", "values")

    def __init__(self) -> None:
        self.values = array("d", bytes(8 * SIZE))
        self.count = 0
        self.since = 0  # samples since ``cached`` was computed
        self.cached = 0.0

    def add(self, value: float) -> None:
        self.values[self.count % SIZE] = value
        self.count += 1
        self.since += 1

    def p95(self) -> float:
        if self.since >= RECOMPUTE or (self.count and not self.cached):
            held = sorted(self.values[: min(self.count, SIZE)])
            self.cached = held[min(int(len(held) * 0.95), len(held) - 1)]
            self.since = 0
        return self.cached


class LatencyBook:
    def __init__(self) -> None:
        self.rings: dict[str, Ring] = {}
        self.tracking = False

    def add(self, key: str, ms: float) -> None:
        ring = self.rings.get(key)
        if ring is None:
            ring = self.rings[key] = Ring()
        ring.add(ms)

    def p95(self, key: str) -> float:
        ring = self.rings.get(key)
        return ring.p95() if ring is not None else 0.0
