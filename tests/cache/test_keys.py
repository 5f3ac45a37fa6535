"""``omniroute.cache.keys``: the same canonical request from two formats has one key; what is
not keyed (stream, usage, user) does not move it; what is keyed does; the semantic split."""

from __future__ import annotations

import json

from omniroute.cache.keys import cacheable, exact_key, semantic_key
from omniroute.formats import anthropic, openai_chat

ROUTE = "openai/gpt-4o-mini"


def chat(**extra: object) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "Hi there"}],
            "temperature": 0, "max_tokens": 64, **extra}
    return json.dumps(body).encode()


def test_one_key_across_formats_and_stream_flags() -> None:
    claude = anthropic.decode_request(json.dumps({
        "model": "claude", "system": "Be brief.", "messages": [{"role": "user", "content": "Hi there"}],
        "temperature": 0, "max_tokens": 64, "stream": True}).encode())
    key = exact_key(openai_chat.decode_request(chat()), ROUTE)
    assert exact_key(claude, ROUTE) == key
    assert exact_key(openai_chat.decode_request(chat(stream=True, user="u1")), ROUTE) == key
    assert len(key) == 16


def test_keyed_fields_move_the_key() -> None:
    key = exact_key(openai_chat.decode_request(chat()), ROUTE)
    assert exact_key(openai_chat.decode_request(chat()), "openai/gpt-4o") != key
    for change in ({"temperature": 0.5}, {"max_tokens": 65}, {"stop": ["x"]}, {"seed": 7},
                   {"response_format": {"type": "json_object"}}):
        assert exact_key(openai_chat.decode_request(chat(**change)), ROUTE) != key, change


def test_semantic_split_and_cacheable() -> None:
    req = openai_chat.decode_request(chat())
    part, text = semantic_key(req, ROUTE)
    assert text == "Hi there"
    other = openai_chat.decode_request(chat(messages=[{"role": "system", "content": "Be brief."},
                                                      {"role": "user", "content": "Hello!"}]))
    assert semantic_key(other, ROUTE)[0] == part  # same exact part, other last text
    assert semantic_key(openai_chat.decode_request(chat(temperature=0.3)), ROUTE)[0] != part
    assert cacheable(req) and not cacheable(openai_chat.decode_request(chat(n=3)))
