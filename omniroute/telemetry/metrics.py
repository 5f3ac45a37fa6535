"""Prometheus metrics: what is counted, and the text exposition of ``GET /metrics``.

Counters and histograms are kept in the usage environment (database ``metrics``), added to
by every worker's usage writer in the same transaction as the records they count, so they
are totals over all workers and survive restarts (Prometheus sees a counter reset only when
the data directory is new). Gauges are read when scraped.

==========================================  =====================================  ==========
metric (all prefixed ``omniroute_``)        labels                                 type
==========================================  =====================================  ==========
``requests_total``                          provider, model, status, client_format counter
``errors_total``                            kind                                   counter
``tokens_total``                            provider, model, direction (input,     counter
                                            output, cached)
``cost_usd_total``                          provider, model                        counter
``cache_requests_total``                    outcome (hit, miss, bypass, semantic)  counter
``request_duration_seconds``                provider                               histogram
``upstream_duration_seconds``               provider                               histogram
``circuit_breaker_open``                    provider                               gauge
``inflight_requests``                       —                                      gauge
==========================================  =====================================  ==========

``provider`` and ``model`` are the served account's (``model`` without the provider prefix);
both are empty for a request no upstream was asked for (an unknown model: its name is not a
label, so clients cannot grow the label set).
"""

from __future__ import annotations

from collections.abc import Iterable

PREFIX = "omniroute_"
#: histogram bucket upper bounds, seconds (+Inf is implied)
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
COUNTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "requests_total": (("provider", "model", "status", "client_format"), "Requests answered, by outcome."),
    "errors_total": (("kind",), "Requests that failed, by error kind (streams that failed midway included)."),
    "tokens_total": (("provider", "model", "direction"), "Tokens as the upstream counted them (cached: part of "
                     "input read from the provider's prompt cache)."),
    "cost_usd_total": (("provider", "model"), "USD, from the pricing table."),
    "cache_requests_total": (("outcome",), "Requests by cache outcome."),
}
HISTOGRAMS: dict[str, tuple[tuple[str, ...], str]] = {
    "request_duration_seconds": (("provider",), "Arrival to the last byte sent."),
    "upstream_duration_seconds": (("provider",), "First upstream attempt to the last upstream byte."),
}
GAUGES: dict[str, tuple[tuple[str, ...], str]] = {
    "circuit_breaker_open": (("provider",), "1 while the provider's circuit breaker is open."),
    "inflight_requests": ((), "Model requests being answered now, over all workers."),
}
SEP = "\x1f"


def metric_key(name: str, labels: tuple[str, ...]) -> bytes:
    return SEP.join((name, *labels)).encode()


def split_key(key: bytes) -> tuple[str, tuple[str, ...]]:
    name, *labels = key.decode().split(SEP)
    return name, tuple(labels)


def exposition(stored: Iterable[tuple[bytes, list[float]]], gauges: dict[str, list[tuple[tuple[str, ...], float]]]
               ) -> str:
    """The text format (version 0.0.4) of the stored counters and histograms and ``gauges``
    (name → [(label values, value)])."""
    by_name: dict[str, list[tuple[tuple[str, ...], list[float]]]] = {}
    for key, values in stored:
        name, labels = split_key(key)
        by_name.setdefault(name, []).append((labels, values))
    lines: list[str] = []
    for name, (label_names, text) in COUNTERS.items():
        _head(lines, name, text, "counter")
        for labels, values in sorted(by_name.get(name, [])):
            lines.append(f"{PREFIX}{name}{_labels(label_names, labels)} {_num(values[0])}")
    for name, (label_names, text) in HISTOGRAMS.items():
        _head(lines, name, text, "histogram")
        for labels, values in sorted(by_name.get(name, [])):
            _histogram(lines, name, label_names, labels, values)
    for name, (label_names, text) in GAUGES.items():
        _head(lines, name, text, "gauge")
        for labels, value in sorted(gauges.get(name, [])):
            lines.append(f"{PREFIX}{name}{_labels(label_names, labels)} {_num(value)}")
    return "\n".join(lines) + "\n"


def _head(lines: list[str], name: str, text: str, kind: str) -> None:
    lines.append(f"# HELP {PREFIX}{name} {text}")
    lines.append(f"# TYPE {PREFIX}{name} {kind}")


def _histogram(lines: list[str], name: str, label_names: tuple[str, ...], labels: tuple[str, ...],
               values: list[float]) -> None:
    """``values``: a count per bucket (``BOUNDS`` then +Inf), then the sum."""
    running = 0.0
    for bound, count in zip((*BOUNDS, float("inf")), values, strict=False):
        running += count
        le = "+Inf" if bound == float("inf") else repr(bound)
        lines.append(f"{PREFIX}{name}_bucket{_labels((*label_names, 'le'), (*labels, le))} {_num(running)}")
    lines.append(f"{PREFIX}{name}_sum{_labels(label_names, labels)} {_num(values[-1])}")
    lines.append(f"{PREFIX}{name}_count{_labels(label_names, labels)} {_num(running)}")


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    return "{" + ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=False)) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)
