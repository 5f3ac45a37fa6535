"""Anthropic ``count_tokens``: the local estimate."""

from __future__ import annotations

import msgspec

from omniroute.canonical import ImageBlock, Message, TextBlock, ToolCallBlock
from omniroute.formats import anthropic as fmt
from tests.formats.anthropic.harness import load


def test_estimate_tokens_is_a_sane_local_estimate() -> None:
    req = fmt.decode_count_tokens_request(load("count_tokens_request.json"))
    n = fmt.estimate_tokens(req)
    assert 40 < n < 120  # Anthropic counts this request at about 400 with its tool overhead; we stay in range
    longer = msgspec.structs.replace(req, messages=[*req.messages, Message("assistant", [TextBlock("x" * 400)])])
    assert fmt.estimate_tokens(longer) == n + 100 + 4
    with_image = msgspec.structs.replace(req, messages=[Message("user", [ImageBlock(data="AAAA")])])
    assert fmt.estimate_tokens(with_image) >= 1600
    tool_call = Message("assistant", [ToolCallBlock("c", "f", '{"a":"' + "y" * 100 + '"}')])
    assert fmt.estimate_tokens(msgspec.structs.replace(req, messages=[tool_call])) > fmt.estimate_tokens(
        msgspec.structs.replace(req, messages=[]))
    assert fmt.encode_count_tokens(n) == b'{"input_tokens":%d}' % n
    assert fmt.decode_count_tokens(b'{"input_tokens": 2095}') == 2095
