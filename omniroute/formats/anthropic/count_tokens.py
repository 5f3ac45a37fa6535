"""``/v1/messages/count_tokens``: a local estimate of a request's input tokens, and the answer
both ways (the request itself is decoded by ``request.decode_count_tokens_request``)."""

from __future__ import annotations

import math

import msgspec

from omniroute.canonical import (
    Block,
    DocumentBlock,
    ImageBlock,
    RedactedThinkingBlock,
    Request,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UnknownBlock,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.anthropic.wire import NAME, json_encode

CHARS_PER_TOKEN = 4
BASE_TOKENS = 3  # request framing
MESSAGE_TOKENS = 4  # role and turn markers
TOOL_TOKENS = 8  # per tool definition, besides its text
IMAGE_TOKENS = 1600  # Anthropic's cost of a ~1.15-megapixel image, the largest it keeps
DOCUMENT_TOKENS = 1600  # per PDF/URL document: one page's worth


def estimate_tokens(req: Request) -> int:
    """A *local estimate* of a request's input tokens, for ``count_tokens`` without an upstream.

    ~4 characters per token over all text (system, messages, thinking, tool names,
    descriptions, JSON schemas and raw tool arguments, tool results, server tools and
    unknown blocks as JSON), plus fixed costs: 3 per request, 4 per message, 8 per tool,
    1600 per image and per non-text document. It is not Anthropic's tokenizer: expect
    ±20% on prose and more on code or non-Latin scripts.
    """
    chars = sum(len(b.text) for b in req.system)
    fixed = BASE_TOKENS + MESSAGE_TOKENS * len(req.messages) + TOOL_TOKENS * len(req.tools)
    for msg in req.messages:
        for block in msg.content:
            c, f = _block_cost(block)
            chars, fixed = chars + c, fixed + f
    for tool in req.tools:
        chars += len(tool.name) + len(tool.description or "") + len(json_encode(tool.parameters or {}))
    server_tools = (req.extra.get(NAME) or {}).get("tools") or []
    chars += len(json_encode(server_tools))
    return fixed + math.ceil(chars / CHARS_PER_TOKEN)


def _block_cost(b: Block) -> tuple[int, int]:
    """(characters, fixed tokens) of one block."""
    kind = type(b)
    if kind is TextBlock:
        return len(b.text), 0
    if kind is ThinkingBlock:
        return len(b.thinking), 0
    if kind is ToolCallBlock:
        return len(b.name) + len(b.arguments), 0
    if kind is ToolResultBlock:
        costs = [_block_cost(x) for x in b.content]
        return sum(c for c, _ in costs), sum(f for _, f in costs)
    if kind is ImageBlock:
        return 0, IMAGE_TOKENS
    if kind is DocumentBlock:
        return (len(b.text), 0) if b.text is not None else (0, DOCUMENT_TOKENS)
    if kind is UnknownBlock:
        return len(json_encode(b.raw)), 0
    return len(b.data) if kind is RedactedThinkingBlock else 0, 0


class _CountTokens(msgspec.Struct):
    input_tokens: int


_count_decoder = msgspec.json.Decoder(_CountTokens)


def encode_count_tokens(input_tokens: int) -> bytes:
    """The ``count_tokens`` answer: ``{"input_tokens": N}``."""
    return json_encode(_CountTokens(input_tokens))


def decode_count_tokens(body: bytes) -> int:
    """An upstream ``count_tokens`` answer → its ``input_tokens``."""
    try:
        return _count_decoder.decode(body).input_tokens
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"malformed count_tokens answer: {exc}") from None
