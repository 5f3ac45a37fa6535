"""What one request did, as it goes: the per-request context every layer may add to.

Created by the app for every request (one small object), carried on ``HttpRequest.ctx``;
the pipeline adds the route it resolved and each attempt (an upstream answer or failure),
the app adds the outcome. Read afterwards by the access log.

========================  ============================================================
field                     set by
========================  ============================================================
``started``               the app (``time.perf_counter()`` at arrival)
``client_format``         the app (the endpoint's format; ``None`` off ``/v1``)
``route``                 ``pipeline.attempt`` (the resolved route)
``attempts``              ``pipeline.attempt``: one ``Attempt`` per upstream tried
``error``                 the app, or a stream relay when the stream failed midway
========================  ============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omniroute.errors import GatewayError
    from omniroute.routing.registry import Route


@dataclass(slots=True)
class Attempt:
    """One upstream try: which account, its HTTP status (0: no answer), the failure's kind."""

    provider: str
    connection_id: str
    model: str
    status: int
    error_kind: str | None
    latency_ms: float


class RequestContext:
    __slots__ = ("attempts", "client_format", "error", "route", "started")

    def __init__(self, started: float, client_format: str | None) -> None:
        self.started = started
        self.client_format = client_format
        self.route: Route | None = None
        self.attempts: list[Attempt] = []
        self.error: GatewayError | None = None

    @property
    def upstream_status(self) -> int | None:
        """The status of the last upstream answer (``None``: no upstream was asked)."""
        return self.attempts[-1].status if self.attempts else None

    @property
    def served_model(self) -> str | None:
        """``provider/model`` of the last account tried, else of the resolved route."""
        if self.attempts:
            return f"{self.attempts[-1].provider}/{self.attempts[-1].model}"
        return f"{self.route.spec.id}/{self.route.model}" if self.route is not None else None
