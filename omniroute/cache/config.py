"""The cache settings document: defaults, validation, merging, per-combo overrides.

``GET/PUT /api/cache/config`` holds one document (the store's ``cache`` setting; the config
file's ``[cache]`` table is merged into it at start-up). A PUT merges section by section, key
by key, into what is stored; the result is validated as a whole, and an error names the
dotted path (``semantic.threshold: must be a number in (0, 1]``).

==============================  ===========  ==============================================
key                             default      meaning
==============================  ===========  ==============================================
``exact.enabled``               true         look answers up by the exact key, store them
``exact.ttlS``                  3600         seconds an answer is served from the cache
``exact.maxEntries``            10000        answers kept in LMDB (least recently used go)
``exact.maxBytes``              268435456    bytes of answers kept in LMDB (same eviction)
``exact.memoryEntries``         1000         answers each worker also keeps decoded in memory
``exact.onlyDeterministic``     true         only requests with ``temperature`` 0 are cached
``semantic.enabled``            false        near-duplicate lookups (needs ``[semantic]``)
``semantic.threshold``          0.92         least cosine similarity that counts as a hit
``semantic.embedder``           "local"      ``local`` (MiniLM) or a connected embedding
                                             model, ``provider/model``
``semantic.maxEntries``         100000       prompts in the vector index (oldest go)
``idempotency.windowMs``        5000         how long a finished answer stays replayable
                                             under its ``Idempotency-Key`` (0: off)
==============================  ===========  ==============================================

A combo may override ``exact`` and ``semantic`` keys for requests to it, in its ``config``:
``{"cache": {"exact": {"onlyDeterministic": false}, "semantic": {"enabled": true}}}``.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError

DEFAULTS: dict[str, dict[str, Any]] = {
    "exact": {"enabled": True, "ttlS": 3600, "maxEntries": 10000, "maxBytes": 268435456, "memoryEntries": 1000,
              "onlyDeterministic": True},
    "semantic": {"enabled": False, "threshold": 0.92, "embedder": "local", "maxEntries": 100000},
    "idempotency": {"windowMs": 5000},
}
#: sections a combo may override
COMBO_SECTIONS = ("exact", "semantic")


class Exact(msgspec.Struct, frozen=True, rename="camel"):
    enabled: bool
    ttl_s: int | float
    max_entries: int
    max_bytes: int
    memory_entries: int
    only_deterministic: bool


class Semantic(msgspec.Struct, frozen=True, rename="camel"):
    enabled: bool
    threshold: float
    embedder: str
    max_entries: int


class Idempotency(msgspec.Struct, frozen=True, rename="camel"):
    window_ms: int


class CacheConfig(msgspec.Struct, frozen=True):
    exact: Exact
    semantic: Semantic
    idempotency: Idempotency


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


#: dotted key → (check, what a good value is)
RULES: dict[str, tuple[Any, str]] = {
    "exact.enabled": (lambda v: isinstance(v, bool), "must be true or false"),
    "exact.ttlS": (lambda v: _number(v) and v > 0, "must be a number of seconds > 0"),
    "exact.maxEntries": (_positive_int, "must be an integer > 0"),
    "exact.maxBytes": (lambda v: _positive_int(v) and v <= 1 << 32, "must be an integer in 1..4294967296"),
    "exact.memoryEntries": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                            "must be an integer >= 0"),
    "exact.onlyDeterministic": (lambda v: isinstance(v, bool), "must be true or false"),
    "semantic.enabled": (lambda v: isinstance(v, bool), "must be true or false"),
    "semantic.threshold": (lambda v: _number(v) and 0 < v <= 1, "must be a number in (0, 1]"),
    "semantic.embedder": (lambda v: isinstance(v, str) and (v == "local" or "/" in v.strip("/")),
                          "must be \"local\" or a connected embedding model as provider/model"),
    "semantic.maxEntries": (lambda v: _positive_int(v) and v <= 2_000_000, "must be an integer in 1..2000000"),
    "idempotency.windowMs": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 86_400_000,
                             "must be an integer of milliseconds in 0..86400000"),
}


def merge(stored: dict[str, Any], patch: Any, path: str = "", sections: tuple[str, ...] = tuple(DEFAULTS)) -> dict:
    """``patch`` merged into ``stored`` (both partial documents), every key of the patch
    checked; the result is partial too (defaults are not written into it)."""
    if not isinstance(patch, dict):
        raise _bad(path or "cache", "must be an object")
    out = copy.deepcopy(stored)
    for section, values in patch.items():
        where = f"{path}{section}"
        if section not in sections:
            raise _bad(where, f"unknown section; known: {', '.join(sections)}")
        if not isinstance(values, dict):
            raise _bad(where, "must be an object")
        for key, value in values.items():
            rule = RULES.get(f"{section}.{key}")
            if rule is None:
                raise _bad(f"{where}.{key}", f"unknown key; known: {', '.join(DEFAULTS[section])}")
            if not rule[0](value):
                raise _bad(f"{where}.{key}", rule[1])
            out.setdefault(section, {})[key] = value
    return out


def effective(doc: dict[str, Any], *overrides: dict[str, Any]) -> CacheConfig:
    """The frozen configuration: defaults, then ``doc``, then each override in turn."""
    full = copy.deepcopy(DEFAULTS)
    for layer in (doc, *overrides):
        for section, values in layer.items():
            if section in full and isinstance(values, dict):
                full[section].update({k: v for k, v in values.items() if k in full[section]})
    return msgspec.convert(full, CacheConfig)


def document(config: CacheConfig) -> dict[str, Any]:
    """The whole document as the API shows it (every key, defaults included)."""
    return msgspec.to_builtins(config)


def _bad(path: str, why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"{path}: {why}", param=path)
