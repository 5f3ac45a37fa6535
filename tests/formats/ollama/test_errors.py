"""Ollama errors both ways."""

from __future__ import annotations

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import ollama as fmt
from tests.formats.ollama.harness import load


def test_errors() -> None:
    assert (
        fmt.encode_error(GatewayError(ErrorKind.NOT_FOUND, 'model "x" not found'))
        == b'{"error":"model \\"x\\" not found"}'
    )
    err = fmt.decode_error(404, load("error_404.json"), "ollama")
    assert (err.kind, err.status, err.provider) == (ErrorKind.NOT_FOUND, 404, "ollama")
    assert err.message == 'model "llama9" not found, try pulling it first'
    assert fmt.decode_error(503, b"server busy").message == "server busy"
    assert fmt.decode_error(500, b'{"error": {"weird": 1}}').message == "upstream answered HTTP 500"
