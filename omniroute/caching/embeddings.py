"""A connected embedding model as the semantic cache's embedder (``"embedder": "provider/model"``).

The model id is resolved like any request's (aliases, ``provider/model``) and asked through
the gateway's own upstream client, the route's accounts in order: ``POST {base}/embeddings``
with ``{"model", "input"}`` — the OpenAI embeddings API, which every OpenAI-compatible row
speaks. A row of another format cannot embed this way: the semantic cache then says so in
``GET /api/cache`` (``reason``). The vector is normalised for the cosine index.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.upstream import UPSTREAM_ERRORS, map_exception

if TYPE_CHECKING:
    from omniroute.gateway import Gateway


class _Item(msgspec.Struct):
    embedding: list[float]


class _Answer(msgspec.Struct):
    data: list[_Item]


_decode = msgspec.json.Decoder(_Answer).decode
_encode = msgspec.json.encode


class RemoteEmbedder:
    def __init__(self, gw: Gateway, model: str) -> None:
        self.gw = gw
        self.name = model
        self.np: Any = importlib.import_module("numpy")

    async def dimension(self) -> int:
        return len(await self.embed("dimension probe"))

    async def embed(self, text: str) -> Any:
        route = self.gw.registry.resolve(self.name)
        last: GatewayError | None = None
        for target in route.targets:
            if target.spec.format != "openai_chat":
                raise GatewayError(ErrorKind.UNSUPPORTED, f"embedder '{self.name}': provider '{target.provider}' "
                                   "has no OpenAI embeddings API")
            try:
                return await self._ask(target, route.model, text)
            except GatewayError as err:
                last = err
        raise last or GatewayError(ErrorKind.INVALID_REQUEST, f"embedder '{self.name}' has no account")

    async def _ask(self, target: Any, model: str, text: str) -> Any:
        body = _encode({"model": model, "input": text})
        try:
            resp = await self.gw.pool_for(target.connection_id).request("POST", target.url("/embeddings"),
                                                                        target.headers, body)
            raw = await resp.read()
        except UPSTREAM_ERRORS as exc:
            raise map_exception(exc, target.provider) from None
        if resp.status >= 400:
            raise GatewayError.from_status(resp.status, f"embedder answered {resp.status}", target.provider)
        try:
            vector = self.np.asarray(_decode(raw).data[0].embedding, dtype=self.np.float32)
        except (msgspec.DecodeError, IndexError):
            raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "embedder answered no embedding",
                               provider=target.provider) from None
        norm = float(self.np.linalg.norm(vector))
        return vector / norm if norm else vector

    def close(self) -> None:
        pass
