"""``telemetry.redact``: stored bodies never keep a secret, and are cut to their cap."""

from __future__ import annotations

from omniroute.telemetry.redact import REDACTED, body_log, secrets_of

KEY = "sk-or-client-key-0123456789"


def test_headers_key_values_and_secret_members_are_redacted() -> None:
    headers = [(b"authorization", f"Bearer {KEY}".encode()), (b"x-goog-api-key", b"goog-secret-123456"),
               (b"user-agent", b"sdk"), (b"x-echo", KEY.encode())]
    secrets = secrets_of(headers, b"alt=sse&key=query-secret-123456")
    body = (f'{{"user": "{KEY}", "metadata": {{"api_key": "sk-a\\"b", "apiKey": "z", "password": "pw", '
            f'"note": "query-secret-123456 ok"}}, "max_tokens": 5}}').encode()
    log = body_log(headers, body, b'{"id": "x", "token": "t0k"}', 10_000, secrets)
    assert log.request_headers == {"authorization": REDACTED, "x-goog-api-key": REDACTED, "user-agent": "sdk",
                                   "x-echo": REDACTED}
    text = log.request_body + log.response_body
    for secret in (KEY, "sk-a", "pw", '"z"', "query-secret-123456", "t0k"):
        assert secret not in text
    assert '"max_tokens": 5' in log.request_body and " ok" in log.request_body


def test_bodies_are_capped_after_redaction() -> None:
    log = body_log([], KEY.encode() * 4, b"x" * 100, 20, [KEY.encode()])
    assert log.request_truncated and log.request_body == (REDACTED * 4)[:20]
    assert log.response_truncated and log.response_body == "x" * 20
    short = body_log([], b"{}", b"{}", 20, [])
    assert not short.request_truncated and short.request_body == "{}"
