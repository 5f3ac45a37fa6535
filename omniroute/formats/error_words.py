"""The errors clients act on, as providers word them: recognised in upstream answers, said
again in the client's provider's words.

Clients key on two failures a plain status cannot tell: the prompt is over the model's
context window (Claude Code compacts the conversation on Anthropic's wording, Codex and the
OpenAI SDKs on ``context_length_exceeded``), and the provider is overloaded (retry later).
Providers signal the first only in the message of a 400, so recognising it means reading
the message — this module is the one place that does, with one table.

Recognised (any upstream format, first match wins) → ``ErrorKind.CONTEXT_LENGTH`` with the
prompt size (``tokens``) and window (``limit``) when the message gives them:

=============================================================  ==============================
upstream says                                                   who says it
=============================================================  ==============================
code ``context_length_exceeded``; "maximum context length is   OpenAI, vLLM, most
N tokens … resulted in / requested M tokens"                   OpenAI-compatible servers
"prompt is too long: M tokens > N maximum"                     Anthropic
"input token count (M) exceeds the maximum number of tokens    Gemini
allowed (N)"
"exceeds the available context size" / "context window"        llama.cpp, Ollama, others
=============================================================  ==============================

→ ``ErrorKind.OVERLOADED``: HTTP 529, Anthropic ``overloaded_error``, Gemini 503
``UNAVAILABLE`` "overloaded", a 503 whose message says overloaded or busy.

Said again: each format's ``encode_error`` words a context-length error as its provider
does (``context_message`` with the format's ``CONTEXT_WORDS``). An overload keeps the
upstream's message; what clients retry on is its type and status (Anthropic
``overloaded_error`` with 529, the others 503 — each format's ``OVERLOADED_STATUS``).
"""

from __future__ import annotations

import re

from omniroute.errors import ErrorKind, GatewayError

#: (pattern, group of the prompt tokens, group of the limit); None: the message has no figures
_CONTEXT_PATTERNS: tuple[tuple[re.Pattern[str], int | None, int | None], ...] = (
    (re.compile(r"maximum context length is (\d+) tokens.*?(?:resulted in|requested|have) (\d+) tokens", re.S),
     2, 1),
    (re.compile(r"prompt is too long: (\d+) tokens > (\d+) maximum"), 1, 2),
    (re.compile(r"input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)"), 1, 2),
    (re.compile(r"maximum context length|context_length_exceeded|exceeds the available context size|"
                r"context window|too many tokens", re.I), None, None),
)
_OVERLOAD = re.compile(r"overload|server busy|at capacity", re.I)


def recognise(err: GatewayError, code: str | None = None, rpc_status: str | None = None) -> GatewayError:
    """``err`` (decoded from an upstream answer) re-kinded when it is a context-length or an
    overload error; ``code`` / ``rpc_status`` are the body's error code and Google status."""
    if err.status == 529 or code == "overloaded_error" or (
        err.status == 503 and (rpc_status == "UNAVAILABLE" or _OVERLOAD.search(err.message))
    ):
        err.kind = ErrorKind.OVERLOADED
        return err
    if err.status not in (400, 413, 422) and code != "context_length_exceeded":
        return err
    for pattern, tokens, limit in _CONTEXT_PATTERNS:
        match = pattern.search(err.message)
        if match is not None:
            figures = (int(match.group(tokens)), int(match.group(limit))) if tokens and limit else (None, None)
            return GatewayError.context_length(err.message, 400, err.provider, *figures)
    if code == "context_length_exceeded":
        return GatewayError.context_length(err.message, 400, err.provider)
    return err


def context_message(err: GatewayError, with_figures: str, without: str) -> str:
    """The client's provider's wording: ``with_figures`` formatted with ``tokens`` and
    ``limit`` when both are known, else ``without`` formatted with the upstream's message."""
    if err.tokens is not None and err.limit is not None:
        return with_figures.format(tokens=err.tokens, limit=err.limit)
    return without.format(message=err.message)



# ── the client's own mistakes, worded as its provider words them ──────────────────────────
#
# ============  =====================================================================  ===============
# format        a role the API does not take                                           code
# ============  =====================================================================  ===============
# openai_chat   Invalid value: 'x'. Supported values are: 'system', 'assistant', …      invalid_value
# responses     Invalid value: 'x'. Supported values are: 'assistant', 'system', …      invalid_value
# anthropic     messages.N.role: Input should be 'user', 'assistant' or 'system'       —
# gemini        Please use a valid role: user, model.                                  —
# ollama        invalid role 'x': must be system, user, assistant or tool              —
# ============  =====================================================================  ===============
#
# A field the route cannot honour (``REFUSED_ACROSS``): OpenAI's "Unsupported parameter: 'x' …"
# (code ``unsupported_parameter``), Anthropic's pydantic wording "x: Extra inputs are not
# permitted", Gemini's "Invalid JSON payload received. Unknown name \"x\"", each followed by
# why (the route's provider and format).

_ROLE_WORDS = {
    "openai_chat": ("Invalid value: {role!r}. Supported values are: 'system', 'assistant', 'user', 'function', "
                    "'tool', and 'developer'.", "invalid_value"),
    "openai_responses": ("Invalid value: {role!r}. Supported values are: 'assistant', 'system', 'developer', "
                         "and 'user'.", "invalid_value"),
    "anthropic": ("{dotted}: Input should be 'user', 'assistant' or 'system'", None),
    "gemini": ("Please use a valid role: user, model.", None),
    "ollama": ("invalid role {role!r}: must be system, user, assistant or tool", None),
}
_FIELD_WORDS = {
    "openai_chat": ("Unsupported parameter: '{field}' is not supported on this route ({why}).",
                    "unsupported_parameter"),
    "anthropic": ("{field}: Extra inputs are not permitted ({why})", None),
    "gemini": ('Invalid JSON payload received. Unknown name "{field}": not supported on this route ({why}).', None),
    "ollama": ("{field} is not supported on this route ({why})", None),
}
_FIELD_WORDS["openai_responses"] = _FIELD_WORDS["openai_chat"]


def unsupported_role(fmt: str, role: object, path: str) -> GatewayError:
    """400 for a message role the client's API (``fmt``) does not take, in that API's words."""
    template, code = _ROLE_WORDS[fmt]
    message = template.format(role=role, dotted=re.sub(r"\[(\d+)\]", r".\1", path))
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=path, code=code)


def unsupported_field(fmt: str, field: str, why: str) -> GatewayError:
    """400 for a field of the client's request (``fmt``) the route cannot honour, in its API's words."""
    template, code = _FIELD_WORDS[fmt]
    return GatewayError(ErrorKind.UNSUPPORTED, template.format(field=field, why=why), param=field, code=code)
