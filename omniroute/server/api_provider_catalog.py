"""``GET /api/provider-catalog``: the providers this gateway can connect to — every built-in
row and every custom node — so that a client (the dashboard's "add a provider" form) can
offer them without a copy of the table.

``{"providers": [{"id", "name", "format", "baseUrl", "prefixes", "auth", "needsKey", "oauth",
"node", "capabilities", "fields", "models", "connections"}]}`` sorted by name; ``oauth``
names the ``/api/oauth/{provider}`` login of a subscription row (``null`` for API-key rows),
``node`` is true for custom nodes, ``capabilities`` lists what the row serves (``chat``,
``embeddings``, ``images``, ``audio``), ``fields`` the connection fields its base URL's
placeholders need (``accountId``), ``connections`` counts the row's connections.
"""

from __future__ import annotations

from typing import Any

from omniroute.gateway import Gateway
from omniroute.providers.specs import ProviderSpec
from omniroute.server.http import HttpRequest, send_json


def present(spec: ProviderSpec, node: bool, connections: int) -> dict[str, Any]:
    return {
        "id": spec.id, "name": spec.name, "format": spec.format, "baseUrl": spec.base_url,
        "prefixes": list(spec.prefixes), "auth": spec.auth.value, "needsKey": spec.needs_key,
        "oauth": spec.oauth or None, "node": node, "capabilities": capabilities(spec), "fields": list(spec.fields),
        "models": list(spec.models), "connections": connections,
    }


def capabilities(spec: ProviderSpec) -> list[str]:
    served = {"chat": spec.chat_path, "embeddings": spec.embeddings, "images": spec.images, "audio": spec.audio}
    return [name for name, path in served.items() if path]


async def catalog(gw: Gateway, req: HttpRequest, send: Any) -> None:
    nodes = {n.id for n in gw.store.scan("nodes")}
    counts: dict[str, int] = {}
    for conn in gw.store.scan("connections"):
        counts[conn.provider] = counts.get(conn.provider, 0) + 1
    specs = sorted(gw.registry.specs.values(), key=lambda s: s.name.lower())
    await send_json(send, 200, {"providers": [present(s, s.id in nodes, counts.get(s.id, 0)) for s in specs]})
