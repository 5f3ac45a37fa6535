"""What one request did, as it goes: the per-request context every layer may add to.

The app creates one for every request (one small object) and carries it on
``HttpRequest.ctx``; a model endpoint's handler fills in what it decoded, the pipeline adds
the route, each attempt and the answer, hooks read it (pre-hooks before the attempts,
post-hooks after the last byte was sent), and the access log reads it last.

========================  ================================================================
field                     set by
========================  ================================================================
``started``               the app (``time.perf_counter()`` at arrival)
``client_format``         the app (the endpoint's format name; ``None`` off the model
                          endpoints)
``client``                the handler: the client format's module
``body``, ``model``,      the handler: the client's raw body, the model it asked for,
``stream``,               whether it asked for a stream, the max output tokens it asked
``max_tokens``,           for, and its headers to forward to a same-format upstream
``forward``               (its format's ``FORWARD_HEADERS``)
``key``                   the app: the client's API key record, when it sent a known one
``options``               the handler: the request's ``x-omniroute-*``,
                          ``idempotency-key`` and ``x-request-id`` headers (lower-case
                          bytes → bytes), or ``None``
``temperature``           the handler: the sampling temperature the client sent (``None``:
                          none), read without decoding the whole request (cache
                          eligibility)
``request``               the canonical request, when something decoded it (a handler
                          whose format is always decoded, a hook with ``needs_request``,
                          or a cross-format route); ``canonical()`` decodes on demand
``route``                 the pipeline (the resolved route)
``attempts``              the pipeline: one ``Attempt`` per upstream tried
``served``                the pipeline: the target that answered (``None``: none did, or a
                          pre-hook answered)
``upstream_format``       the pipeline: the served target's format
``upstream_began``,       the pipeline: ``perf_counter()`` when the first attempt began and
``upstream_ended``        when the last upstream byte was read (``upstream_ms``)
``first_byte``            the pipeline: ``perf_counter()`` when the first body byte went
                          to the client (streams: time to first token)
``captured``              the pipeline, when a hook ``needs_answer``: the upstream's answer
                          bytes as they were read (references, no copies)
``usage_injected``        the pipeline: it asked an OpenAI-format upstream for stream usage
                          the client did not ask for (the relay strips that chunk again)
``answered_by``           the pre-hook that answered, if one did
``response``              the canonical answer: set by a pre-hook that answered, or decoded
                          from ``captured`` by ``answers.collect_answer`` for post-hooks
``operation``             the handler: ``chat`` (the default), ``embeddings``, ``images``
                          or ``transcription``
``cache``                 the cache hook: ``"hit"`` (exact or coalesced), ``"semantic"``,
                          ``"miss"`` or ``"bypass"`` (``None``: no cache looked); usage
                          records read it (a hit costs nothing)
``hook_state``            a hook: what it keeps between its ``pre`` and ``post`` for this
                          request (by hook name); a request with some runs the post-hooks
                          even when every post-hook only acts on such requests
``progress``              the pipeline: progress events for the client
                          (``X-OmniRoute-Progress: true``, ``omniroute.progress``), or ``None``
``units``                 a media handler: what the answer used besides tokens
                          (``{"images": 2}``, ``{"audioSeconds": 12.5}``), for usage records
``response_headers``      anything: extra headers for the client's answer
                          (``X-OmniRoute-*``)
``status``                whoever starts the answer (``relay.start``): the status sent
                          (0: nothing sent yet)
``error``                 the app, or a stream relay when the stream failed midway
``disconnected``          the pipeline: the client left before the answer was complete
``deadline``, ``expired``  the pipeline: the request's deadline (seconds), and whether it
                          passed
========================  ================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from omniroute.formats.usage import usage_of

if TYPE_CHECKING:
    from omniroute.canonical import Request, Response, Usage
    from omniroute.errors import GatewayError
    from omniroute.routing.registry import Route
    from omniroute.routing.targets import Target
    from omniroute.store import ApiKey


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
    __slots__ = (
        "answered_by", "attempts", "body", "cache", "captured", "client", "client_format", "deadline",
        "disconnected", "error", "expired", "first_byte", "forward", "hook_state", "key", "max_tokens", "model",
        "operation", "options", "progress", "request", "response", "response_headers", "route", "served", "started",
        "status", "stream", "temperature", "units", "upstream_began", "upstream_ended", "upstream_format",
        "usage_injected", "usage_read",
    )

    def __init__(self, started: float, client_format: str | None) -> None:
        self.started = started
        self.client_format = client_format
        self.client: ModuleType | None = None
        self.key: ApiKey | None = None
        self.options: dict[bytes, bytes] | None = None
        self.body = b""
        self.model = ""
        self.stream = False
        self.max_tokens: int | None = None
        self.temperature: float | None = None
        self.cache: str | None = None
        self.hook_state: dict[str, Any] | None = None
        self.progress: Any = None
        self.forward: dict[str, str] | None = None
        self.request: Request | None = None
        self.route: Route | None = None
        self.attempts: list[Attempt] = []
        self.served: Target | None = None
        self.upstream_format: str | None = None
        self.upstream_began = 0.0
        self.upstream_ended = 0.0
        self.first_byte = 0.0
        self.captured: list[bytes] | None = None
        self.usage_injected = False
        self.usage_read: tuple[int, Usage | None] | None = None  # (captured pieces, their usage)
        self.answered_by: str | None = None
        self.response: Response | None = None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.units: dict[str, float] | None = None
        self.operation = "chat"
        self.status = 0
        self.error: GatewayError | None = None
        self.disconnected = False
        self.expired = False
        self.deadline = 0.0  # seconds (0: none)

    def canonical(self) -> Request:
        """The canonical request, decoded from the client's body on first use."""
        if self.request is None:
            assert self.client is not None, "canonical() on a request no model endpoint decoded"
            self.request = self.client.decode_request(self.body)
        return self.request

    @property
    def usage(self) -> Usage | None:
        """The answer's usage as the upstream counted it: the assembled response's, else read
        from the captured answer bytes (``formats.usage``; post-hooks with ``needs_usage``)."""
        if self.response is not None and self.response.usage is not None:
            return self.response.usage
        if self.captured and self.upstream_format is not None and self.served is not None:
            held = self.usage_read  # read once for the usage record and the limits both
            if held is None or held[0] != len(self.captured):
                held = self.usage_read = (len(self.captured), usage_of(self.upstream_format, self.stream,
                                                                       self.captured))
            return held[1]
        return None

    @property
    def upstream_ms(self) -> float:
        """Milliseconds from the first attempt to the last upstream byte (0: none was asked)."""
        if not self.upstream_began:
            return 0.0
        return (max(self.upstream_ended, self.upstream_began) - self.upstream_began) * 1000

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

    def option(self, name: bytes) -> str | None:
        """A request header of ``options`` (``x-omniroute-timeout``, …), decoded."""
        value = self.options.get(name) if self.options else None
        return value.decode("latin-1") if value is not None else None

    def add_header(self, name: bytes, value: Any) -> None:
        self.response_headers.append((name, str(value).encode("latin-1")))
