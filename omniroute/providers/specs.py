"""Providers as data: one ``ProviderSpec`` row per upstream service (``providers.row``).

A row says where the service lives, which wire format it speaks, how it authenticates,
which model-id prefixes route to it and which media endpoints it offers. Nothing outside
the row tables switches on a provider name; the pipeline reads rows. The rows are in
``rows_openai`` (OpenAI-format services), ``rows_native`` (Anthropic, Gemini, Ollama,
Responses, the audio services) and ``rows_subscriptions`` (accounts logged in with OAuth);
docs/providers.md lists them all.

Capabilities a row declares (decided once, read per request from the compiled route):

===========================  =================================================================
``families``                 model-id prefixes this provider owns: a bare id no listing names
                             (a dated or new id such as ``claude-sonnet-4-5-20250929``) routes
                             to the first connected provider claiming its family
``text_only``                no image input on any model (a 400 instead of a silent drop)
``cache_hints``              takes Anthropic-style ``cache_control`` hints in content (Anthropic,
                             OpenRouter); elsewhere translation drops them
``mid_conversation_system``  takes ``role: "system"`` inside ``messages`` (Anthropic's
                             ``mid-conversation-system`` beta); other Anthropic-format rows get
                             such messages folded into the user turn
``embeddings``, ``images``,  the media endpoints (path + dialect, ``providers.row``), with the
``audio``                    models of each kind the row knows
``fields``                   connection fields the base URL's ``{placeholders}`` name
===========================  =================================================================
"""

from __future__ import annotations

from omniroute.providers.row import (
    AUDIO,
    CHAT,
    EMBEDDING,
    IMAGE,
    OPENAI_FAMILIES,
    AuthStyle,
    MediaPath,
    ProviderSpec,
)
from omniroute.providers.rows_native import ANTHROPIC_VERSION
from omniroute.providers.rows_native import ROWS as NATIVE_ROWS
from omniroute.providers.rows_openai import ROWS as OPENAI_ROWS
from omniroute.providers.rows_subscriptions import ROWS as SUBSCRIPTIONS

__all__ = ["AUDIO", "BUILTIN", "CHAT", "EMBEDDING", "IMAGE", "NODE_KINDS", "OPENAI_FAMILIES", "SPECS", "SUBSCRIPTIONS",
           "AuthStyle", "MediaPath", "ProviderSpec", "node_spec"]

#: The built-in rows. Custom nodes (``/api/provider-nodes``) become rows at run time.
BUILTIN: tuple[ProviderSpec, ...] = (*OPENAI_ROWS, *NATIVE_ROWS)

SPECS: dict[str, ProviderSpec] = {spec.id: spec for spec in (*BUILTIN, *SUBSCRIPTIONS)}

#: custom node ``type``/``api_type`` -> (format, chat path, auth, extra headers)
NODE_KINDS: dict[tuple[str, str], tuple[str, str, AuthStyle, tuple[tuple[str, str], ...]]] = {
    ("openai-compatible", "chat"): ("openai_chat", "/chat/completions", AuthStyle.BEARER, ()),
    ("openai-compatible", "responses"): ("openai_responses", "/responses", AuthStyle.BEARER, ()),
    ("anthropic-compatible", "chat"): ("anthropic", "/messages", AuthStyle.X_API_KEY, ANTHROPIC_VERSION),
    ("anthropic-compatible", "messages"): ("anthropic", "/messages", AuthStyle.X_API_KEY, ANTHROPIC_VERSION),
}

_OPENAI_MEDIA = {"embeddings": MediaPath("/embeddings"), "images": MediaPath("/images/generations"),
                 "audio": MediaPath("/audio/transcriptions")}


def node_spec(node_id: str, name: str, prefix: str, base_url: str, kind: tuple[str, str]) -> ProviderSpec:
    """The row for a user-defined provider node (an OpenAI-compatible one offers the OpenAI
    media endpoints too: vLLM, LocalAI and the like serve them at the same root)."""
    fmt, path, auth, headers = NODE_KINDS[kind]
    media = _OPENAI_MEDIA if kind[0] == "openai-compatible" else {}
    return ProviderSpec(
        node_id, name, fmt, base_url, auth=auth, prefixes=(prefix,), chat_path=path, headers=headers, key_optional=True,
        cache_hints=fmt == "anthropic", **media,  # type: ignore[arg-type]
    )
