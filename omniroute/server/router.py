"""The routing table: exact paths in a dict, parametrised paths matched by segments.

A route is ``(method, pattern) -> Endpoint(handler, dialect)``; ``dialect`` is the wire
format whose error body a failure in that handler is sent in. Patterns use ``{name}``
segments; a final ``{name:path}`` segment takes the rest of the path (model ids contain
slashes). Exact routes are one dict lookup; pattern routes are only tried after a miss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

Handler = Callable[..., Awaitable[None]]


class Endpoint(msgspec.Struct, frozen=True):
    handler: Handler
    dialect: str = "openai_chat"
    access: str = "client"  # "client" (API key when required), "management" (login), "metrics" or "public"
    pattern: str = ""  # the route it was added under (``Router.add`` sets it): the audit log's action


class Router:
    def __init__(self) -> None:
        self.exact: dict[tuple[str, str], Endpoint] = {}
        self.patterns: list[tuple[str, tuple[str, ...], Endpoint]] = []
        self.paths: set[str] = set()

    def add(self, method: str, pattern: str, endpoint: Endpoint) -> None:
        endpoint = msgspec.structs.replace(endpoint, pattern=pattern)
        if "{" in pattern:
            self.patterns.append((method, tuple(pattern.strip("/").split("/")), endpoint))
        else:
            self.exact[(method, pattern)] = endpoint
        self.paths.add(pattern)

    def match(self, method: str, path: str) -> tuple[Endpoint | None, dict[str, str], bool]:
        """(endpoint, path params, path exists for another method)."""
        endpoint = self.exact.get((method, path))
        if endpoint is not None:
            return endpoint, {}, True
        segments = path.strip("/").split("/")
        other_method = path in self.paths
        for m, pattern, ep in self.patterns:
            params = _match(pattern, segments)
            if params is not None:
                if m == method:
                    return ep, params, True
                other_method = True
        return None, {}, other_method


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, part in enumerate(pattern):
        if part.endswith(":path}"):
            if i >= len(segments):
                return None
            params[part[1:-6]] = "/".join(segments[i:])
            return params
        if i >= len(segments):
            return None
        if part.startswith("{"):
            params[part[1:-1]] = segments[i]
        elif part != segments[i]:
            return None
    return params if len(pattern) == len(segments) else None


def is_loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "localhost")


