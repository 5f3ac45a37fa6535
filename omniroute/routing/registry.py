"""The per-worker routing snapshot: model ids → targets, client keys, aliases.

Built from LMDB and rebuilt when the store's version counter moves (any management write,
from any worker). ``resolve`` answers from a dict after the first call for a model id.

Resolution order for a model id ``m``:

1. ``m`` is an alias → its target model id (one level).
2. ``prefix/rest`` with a known provider prefix (row or custom node) → that provider's
   enabled connections, upstream model ``rest``. A known provider without a connection is
   a 400 naming it.
3. ``m`` is a model some connected provider lists (row catalogue or the connection's own
   ``models``) → that provider, model unchanged.
4. ``m`` starts with a model family a connected provider's row claims (``claude-`` →
   anthropic, ``gpt-`` → openai, …: ``ProviderSpec.families``) → that provider, model
   unchanged, so dated ids (``claude-sonnet-4-5-20250929``) and models newer than the row's
   list work without an alias.
5. A connection with ``passthroughModels`` takes any other bare id, model unchanged.
6. Otherwise 404 ``model_not_found`` naming the model.

Every route carries the model's ``ModelInfo`` (``providers.models``) when the table knows it.
"""

from __future__ import annotations

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.providers.models import ModelInfo, model_info
from omniroute.providers.specs import NODE_KINDS, SPECS, ProviderSpec, node_spec
from omniroute.routing.targets import Target, compile_target
from omniroute.store import ApiKey, Connection, ProviderNode, Store


class Route(msgspec.Struct, frozen=True):
    """Where a model id goes: the upstream model name and the accounts to try, in order."""

    model: str  # as the upstream names it
    targets: tuple[Target, ...]
    info: ModelInfo | None = None  # limits and capabilities, when known

    @property
    def spec(self) -> ProviderSpec:
        return self.targets[0].spec


class Registry:
    """Snapshot of routing state; call ``refresh()`` before using it on a request."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.version = -1
        self.refresh()

    def refresh(self) -> None:
        version = self.store.version()
        if version != self.version:
            self._build()
            self.version = version

    def _build(self) -> None:
        nodes: dict[str, ProviderNode] = {n.id: n for n in self.store.scan("nodes")}
        specs: dict[str, ProviderSpec] = dict(SPECS)
        for node in nodes.values():
            kind = (node.type, node.api_type)
            if kind in NODE_KINDS:
                specs[node.id] = node_spec(node.id, node.name, node.prefix, node.base_url, kind)
        self.specs = specs
        self.prefixes = {p: spec.id for spec in specs.values() for p in spec.prefixes}
        conns = sorted(self.store.scan("connections"), key=lambda c: (c.priority, c.created_at))
        self.connections: dict[str, Connection] = {c.id: c for c in conns}
        by_provider: dict[str, list[Target]] = {}
        for conn in conns:
            if conn.enabled and conn.provider in specs:
                by_provider.setdefault(conn.provider, []).append(compile_target(conn, specs[conn.provider]))
        self.targets = {pid: tuple(ts) for pid, ts in by_provider.items()}
        self.catalog, self.listed = self._build_catalog(conns)
        self.families = [(f, spec.id) for spec in {t[0].spec.id: t[0].spec for t in self.targets.values()}.values()
                         for f in spec.families]
        self.passthrough = next((c.provider for c in conns if c.passthrough_models and c.provider in self.targets),
                                None)
        self.keys: dict[str, ApiKey] = {k.key_hash: k for k in self.store.scan("keys") if not k.revoked}
        self.aliases: dict[str, str] = {a.alias: a.model for a in self.store.scan("aliases")}
        self._routes: dict[str, Route] = {}

    def _build_catalog(self, conns: list[Connection]) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
        """Listed model id → (provider id, upstream model), first connected provider wins;
        and the ``prefix/model`` ids with their provider, for the model list."""
        catalog: dict[str, tuple[str, str]] = {}
        listed: dict[str, str] = {}
        for conn in conns:
            spec = self.specs.get(conn.provider)
            if spec is None or not conn.enabled:
                continue
            for model in (*conn.models, *spec.models):
                listed.setdefault(f"{spec.prefixes[0]}/{model}" if spec.prefixes else model, spec.id)
                catalog.setdefault(model, (spec.id, model))
        return catalog, list(listed.items())

    def resolve(self, model: str) -> Route:
        route = self._routes.get(model)
        if route is None:
            route = self._resolve(model)
            if len(self._routes) < 4096:
                self._routes[model] = route
        return route

    def _resolve(self, model: str) -> Route:
        wanted = self.aliases.get(model, model)
        prefix, sep, rest = wanted.partition("/")
        provider = self.prefixes.get(prefix) if sep else None
        if provider is not None and rest:
            targets = self.targets.get(provider)
            if not targets:
                raise GatewayError(
                    ErrorKind.INVALID_REQUEST,
                    f"provider '{provider}' has no enabled connection: add one with POST /api/providers",
                    param="model",
                    code="provider_not_connected",
                )
            return Route(rest, targets, model_info(rest))
        listed = self.catalog.get(wanted)
        if listed is not None:
            return Route(listed[1], self.targets[listed[0]], model_info(listed[1]))
        owner = next((pid for family, pid in self.families if wanted.startswith(family)), self.passthrough)
        if owner is not None:
            return Route(wanted, self.targets[owner], model_info(wanted))
        raise GatewayError(
            ErrorKind.NOT_FOUND,
            f"unknown model '{model}': use provider/model with a connected provider, an alias or a listed model",
            param="model",
            code="model_not_found",
        )

    def model_ids(self) -> list[tuple[str, str]]:
        """(model id, owner) for GET /v1/models: every connected provider's models and aliases."""
        return [*self.listed, *((alias, "alias") for alias in self.aliases)]
