"""The shape of a provider row: ``ProviderSpec``, its auth styles and its media endpoints.

The rows themselves live in ``providers.rows_openai`` (OpenAI-format services) and
``providers.rows_native`` (Anthropic-, Gemini- and Ollama-format services and the audio
services); ``providers.specs`` joins them into ``SPECS``.

Auth styles (the header a connection's key goes in):

================  ====================================================
``bearer``        ``Authorization: Bearer <key>``
``token``         ``Authorization: Token <key>`` (Deepgram)
``key``           ``Authorization: Key <key>`` (Maritaca)
``raw``           ``Authorization: <key>`` (AssemblyAI)
``x-api-key``     ``x-api-key: <key>`` (+ the row's ``anthropic-version`` header)
``goog-api-key``  ``x-goog-api-key: <key>`` (Gemini)
``none``          no credential (Ollama, local servers, Pollinations)
``oauth``         ``Authorization: Bearer <token>`` with the account's current OAuth token
                  (subscription rows: ``oauth`` names the OAuth provider whose tokens the
                  row takes; ``oauth.tokens`` keeps them fresh)
================  ====================================================

Subscription rows (``providers.rows_subscriptions``, docs/subscriptions.md) are ordinary
rows: their connections are made by ``/api/oauth/{provider}/…`` instead of
``POST /api/providers``, and a connection's ``baseUrl`` replaces the row's default as for any
row.

Paths are appended to the connection's base URL; ``{model}`` in a path is the upstream
model id. A base URL may hold ``{field}`` placeholders (Cloudflare's ``{accountId}``,
Databricks' ``{host}``): ``fields`` names them, and a connection must give each one
(``fields: {"accountId": "…"}``), checked when it is written.

Media endpoints (``MediaPath``: the path and the request/answer dialect of that service):

==============  ===========================================================================
capability      dialects
==============  ===========================================================================
``embeddings``  ``openai`` (``/embeddings``), ``gemini`` (``:embedContent`` /
                ``:batchEmbedContents``), ``ollama`` (``/api/embed``)
``images``      ``openai`` (OpenAI, Nebius), ``xai``, ``together``, ``fireworks`` (FLUX
                workflows, the image bytes as the answer)
``audio``       ``openai`` (Whisper-compatible multipart), ``deepgram`` (``/v1/listen`` with
                the audio as the body), ``assemblyai`` (upload, transcript, poll)
==============  ===========================================================================

A row without ``chat_path`` offers no chat (Deepgram, AssemblyAI).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class AuthStyle(StrEnum):
    BEARER = "bearer"
    TOKEN = "token"
    KEY = "key"
    RAW = "raw"
    X_API_KEY = "x-api-key"
    GOOG_API_KEY = "goog-api-key"
    NONE = "none"
    OAUTH = "oauth"


class MediaPath(msgspec.Struct, frozen=True):
    """One media endpoint of a row: where it is and which dialect it speaks."""

    path: str
    dialect: str = "openai"


EMBEDDING, IMAGE, AUDIO, CHAT = "embedding", "image", "audio", "chat"
OPENAI_FAMILIES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "codex-")


class ProviderSpec(msgspec.Struct, frozen=True):
    id: str
    name: str
    format: str  # a module name in omniroute.formats (chat, and the dialect of errors)
    base_url: str
    auth: AuthStyle = AuthStyle.BEARER
    prefixes: tuple[str, ...] = ()
    chat_path: str | None = "/chat/completions"
    stream_path: str | None = None  # when streaming uses another path (Gemini)
    models_path: str | None = "/models"
    count_tokens_path: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    models: tuple[str, ...] = ()  # chat models
    text_only: bool = False  # no image input
    key_optional: bool = False  # self-hosted endpoints often take no key
    families: tuple[str, ...] = ()  # model-id prefixes this provider owns (see specs.py)
    cache_hints: bool = False  # takes cache_control hints
    mid_conversation_system: bool = False  # takes role "system" inside messages
    embeddings: MediaPath | None = None
    images: MediaPath | None = None
    audio: MediaPath | None = None
    embedding_models: tuple[str, ...] = ()
    image_models: tuple[str, ...] = ()
    audio_models: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # connection fields the base URL's placeholders name
    oauth: str = ""  # subscription row: the OAuth provider (``/api/oauth/{oauth}``) of its accounts

    @property
    def needs_key(self) -> bool:
        """Its connections cannot call it without an API key."""
        return self.auth not in (AuthStyle.NONE, AuthStyle.OAUTH) and not self.key_optional

    @property
    def all_models(self) -> tuple[str, ...]:
        return (*self.models, *self.embedding_models, *self.image_models, *self.audio_models)

    @property
    def capabilities(self) -> tuple[str, ...]:
        """What the row offers: ``chat``, ``embedding``, ``image``, ``audio``."""
        offered = ((CHAT, self.chat_path), (EMBEDDING, self.embeddings), (IMAGE, self.images), (AUDIO, self.audio))
        return tuple(kind for kind, has in offered if has is not None)

    def media(self, kind: str) -> MediaPath | None:
        return {EMBEDDING: self.embeddings, IMAGE: self.images, AUDIO: self.audio}.get(kind)

    def kind_of(self, model: str) -> str | None:
        """The model's type when this row lists it (``None``: the row does not know it)."""
        for kind, models in ((EMBEDDING, self.embedding_models), (IMAGE, self.image_models),
                             (AUDIO, self.audio_models), (CHAT, self.models)):
            if model in models:
                return kind
        return None


OPENAI_EMBEDDINGS = MediaPath("/embeddings")
OPENAI_IMAGES = MediaPath("/images/generations")
OPENAI_AUDIO = MediaPath("/audio/transcriptions")


def openai_row(id: str, name: str, base_url: str, *prefixes: str, **kw: object) -> ProviderSpec:
    """An OpenAI-compatible row: ``id`` is its first prefix, ``prefixes`` its aliases."""
    return ProviderSpec(id, name, "openai_chat", base_url, prefixes=(id, *prefixes), **kw)  # type: ignore[arg-type]
