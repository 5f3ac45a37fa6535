"""Pass-through helpers of the pipeline."""

from __future__ import annotations

import json

from omniroute.relay import rewrite_model


def test_rewrite_touches_only_the_model() -> None:
    body = b'{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"hi \\u00e9"}],"stream":true}'
    out = rewrite_model(body, "mock/gpt-4o-mini", "gpt-4o-mini")
    assert out == body.replace(b"mock/gpt-4o-mini", b"gpt-4o-mini")


def test_rewrite_when_the_model_string_appears_twice() -> None:
    body = json.dumps({"messages": [{"role": "user", "content": "x", "name": "a/b"}], "model": "a/b"}).encode()
    out = json.loads(rewrite_model(body, "a/b", "b"))
    assert out["model"] == "b" and out["messages"][0]["name"] == "a/b"


def test_rewrite_escaped_form() -> None:
    body = b'{"model":"a\\/b","messages":[]}'
    assert json.loads(rewrite_model(body, "a/b", "b"))["model"] == "b"


def test_same_name_is_untouched() -> None:
    body = b'{"model": "m", "x": 1}'
    assert rewrite_model(body, "m", "m") is body
