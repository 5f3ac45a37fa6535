"""``/api/provider-nodes*``: user-defined providers — a prefix and a base URL.

A node with prefix ``myvllm`` and base URL ``http://gpu:8000/v1`` makes ``myvllm/<model>``
route to that server once a connection for the node exists (``POST /api/providers`` with
``provider`` = the node id). ``type`` is ``openai-compatible`` (``apiType`` ``chat`` or
``responses``) or ``anthropic-compatible``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import NodeInput, NodePatch, node_record, parse
from omniroute.server.http import HttpRequest, send_json
from omniroute.store import ProviderNode


def present(node: ProviderNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "prefix": node.prefix,
        "type": node.type,
        "apiType": node.api_type,
        "baseUrl": node.base_url,
        "source": node.source,
        "createdAt": node.created_at,
    }


def build_node(gw: Gateway, data: NodeInput, node_id: str | None = None) -> ProviderNode:
    return node_record(data, gw.registry.prefixes, node_id)


def _get(gw: Gateway, node_id: str) -> ProviderNode:
    node = gw.store.get("nodes", node_id)
    if node is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"no provider node with id '{node_id}'", param="id")
    return node


async def create(gw: Gateway, req: HttpRequest, send: Any) -> None:
    node = build_node(gw, parse(await req.read_json(gw.settings.max_body_bytes), NodeInput))
    gw.store.put("nodes", node.id, node)
    await send_json(send, 201, {"node": present(node)})


async def list_all(gw: Gateway, req: HttpRequest, send: Any) -> None:
    nodes = sorted(gw.store.scan("nodes"), key=lambda n: n.created_at)
    await send_json(send, 200, {"nodes": [present(n) for n in nodes]})


async def get_one(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {"node": present(_get(gw, req.path_params["id"]))})


async def update(gw: Gateway, req: HttpRequest, send: Any) -> None:
    node = _get(gw, req.path_params["id"])
    patch = parse(await req.read_json(gw.settings.max_body_bytes), NodePatch)
    merged = NodeInput(
        prefix=node.prefix,
        base_url=patch.base_url or node.base_url,
        name=patch.name or node.name,
        type=node.type,
        api_type=patch.api_type or node.api_type,
    )
    updated = msgspec.structs.replace(build_node(gw, merged, node.id), created_at=node.created_at, source=node.source)
    gw.store.put("nodes", node.id, updated)
    await send_json(send, 200, {"node": present(updated)})


async def delete(gw: Gateway, req: HttpRequest, send: Any) -> None:
    node = _get(gw, req.path_params["id"])
    in_use = [c.id for c in gw.store.scan("connections") if c.provider == node.id]
    if in_use:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"node '{node.id}' still has connections: {', '.join(in_use)}", param="id"
        )
    gw.store.delete("nodes", node.id)
    await send_json(send, 200, {"deleted": node.id})
