"""The one error type of the gateway.

Every failure, from a malformed client body to an upstream that hangs, becomes a
``GatewayError`` carrying an ``ErrorKind``. The kind decides the HTTP status, whether a
client may retry and whether routing may fall back to another account; each wire format
(``omniroute.formats.*.encode_error``) turns the error into its own dialect.

Hierarchy (one class, many kinds)::

    GatewayError(kind, message, *, status=None, param=None, code=None, provider=None)
      kind ∈ ErrorKind             status   retry  fallback
      ─────────────────────────    ──────   ─────  ────────
      INVALID_REQUEST              400      no     no
      AUTHENTICATION               401      no     no
      PERMISSION                   403      no     no
      NOT_FOUND                    404      no     no
      PAYLOAD_TOO_LARGE            413      no     no
      UNSUPPORTED                  400      no     no      (feature the upstream lacks)
      CONTEXT_LENGTH               400      no     yes     (prompt over the model's window;
                                                            ``tokens`` / ``limit`` when known)
      RATE_LIMITED                 429      yes    yes
      OVERLOADED                   503      yes    yes     (Anthropic clients get 529)
      UPSTREAM_ERROR               (upstream status, default 502)
      UPSTREAM_UNREACHABLE         502      yes    yes
      UPSTREAM_TIMEOUT             504      yes    yes
      UPSTREAM_PROTOCOL            502      yes    yes     (broken/dropped stream)
      INTERNAL                     500      yes    no

``status`` overrides the table (upstream errors keep the upstream's status).

Context-length and overload errors are told apart from other 400s and 5xx because clients
act on them (Claude Code compacts on Anthropic's "prompt is too long", Codex on OpenAI's
``context_length_exceeded``; SDKs back off on an overload): each format's ``decode_error``
recognises its provider's way of saying so and each ``encode_error`` says it in the
client's provider's words.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED = "unsupported"
    CONTEXT_LENGTH = "context_length"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    UPSTREAM_ERROR = "upstream_error"
    UPSTREAM_UNREACHABLE = "upstream_unreachable"
    UPSTREAM_TIMEOUT = "upstream_timeout"
    UPSTREAM_PROTOCOL = "upstream_protocol"
    INTERNAL = "internal"


#: kind -> (default HTTP status, client may retry, routing may fall back)
KIND_TABLE: dict[ErrorKind, tuple[int, bool, bool]] = {
    ErrorKind.INVALID_REQUEST: (400, False, False),
    ErrorKind.AUTHENTICATION: (401, False, False),
    ErrorKind.PERMISSION: (403, False, False),
    ErrorKind.NOT_FOUND: (404, False, False),
    ErrorKind.PAYLOAD_TOO_LARGE: (413, False, False),
    ErrorKind.UNSUPPORTED: (400, False, False),
    ErrorKind.CONTEXT_LENGTH: (400, False, True),
    ErrorKind.RATE_LIMITED: (429, True, True),
    ErrorKind.OVERLOADED: (503, True, True),
    ErrorKind.UPSTREAM_ERROR: (502, True, True),
    ErrorKind.UPSTREAM_UNREACHABLE: (502, True, True),
    ErrorKind.UPSTREAM_TIMEOUT: (504, True, True),
    ErrorKind.UPSTREAM_PROTOCOL: (502, True, True),
    ErrorKind.INTERNAL: (500, True, False),
}

#: HTTP status -> kind, for statuses an upstream (or we) answer with.
STATUS_KINDS: dict[int, ErrorKind] = {
    400: ErrorKind.INVALID_REQUEST,
    401: ErrorKind.AUTHENTICATION,
    403: ErrorKind.PERMISSION,
    404: ErrorKind.NOT_FOUND,
    413: ErrorKind.PAYLOAD_TOO_LARGE,
    422: ErrorKind.INVALID_REQUEST,
    429: ErrorKind.RATE_LIMITED,
    529: ErrorKind.OVERLOADED,
}


class GatewayError(Exception):
    """A failure with a kind, a human message and optional details.

    ``param`` names the offending request field (dotted path), ``code`` is a short
    machine-readable code (``model_not_found``), ``provider`` the upstream involved;
    ``tokens`` / ``limit`` are a context-length error's prompt size and window, when known;
    ``retry_after`` the seconds to wait (an upstream's ``Retry-After``, or the gateway's own).
    """

    __slots__ = ("code", "kind", "limit", "message", "param", "provider", "retry_after", "status", "tokens")

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status if status is not None else KIND_TABLE[kind][0]
        self.param = param
        self.code = code
        self.provider = provider
        self.tokens: int | None = None
        self.limit: int | None = None
        self.retry_after: float | None = None  # seconds, from the upstream's Retry-After or ours

    @property
    def retryable(self) -> bool:
        return KIND_TABLE[self.kind][1]

    @property
    def fallback(self) -> bool:
        return KIND_TABLE[self.kind][2]

    @classmethod
    def from_status(cls, status: int, message: str, provider: str | None = None) -> GatewayError:
        """An upstream answered ``status``: keep the status, derive the kind."""
        kind = STATUS_KINDS.get(status, ErrorKind.UPSTREAM_ERROR)
        return cls(kind, message, status=status, provider=provider)

    @classmethod
    def context_length(cls, message: str, status: int, provider: str | None, tokens: int | None = None,
                       limit: int | None = None) -> GatewayError:
        err = cls(ErrorKind.CONTEXT_LENGTH, message, status=status, provider=provider, code="context_length_exceeded")
        err.tokens, err.limit = tokens, limit
        return err

    def __repr__(self) -> str:
        return f"GatewayError({self.kind.value!r}, {self.message!r}, status={self.status})"
