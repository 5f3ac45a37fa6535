"""The ``omniroute`` command: help, start-up, config provisioning, restart, graceful shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import openai

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream

MESSAGES = [{"role": "user", "content": "hi"}]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omniroute", *args], capture_output=True, text=True, timeout=30,
                          env=env)


def test_help_documents_every_option() -> None:
    out = run_cli("serve", "--help").stdout
    for flag in ("--host", "--port", "--workers", "--data-dir", "--config", "--max-body-bytes", "--require-api-key",
                 "--connect-timeout", "--first-byte-timeout", "--stream-idle-timeout"):
        assert flag in out
    assert "OMNIROUTE_DATA_DIR" in out and "REQUIRE_API_KEY" in out
    assert "serve" in run_cli("--help").stdout


def test_bad_settings_exit_with_a_message(tmp_path: Path) -> None:
    bad = run_cli("serve", "--port", "99999", "--data-dir", str(tmp_path))
    assert bad.returncode == 2 and "server.port" in bad.stderr
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[providers]]\nprovider = "openai"\nname = "x"\napi_key = "env:OMNI_TEST_UNSET_VAR"\n')
    missing = run_cli("serve", "--config", str(cfg), "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "OMNI_TEST_UNSET_VAR" in missing.stderr
    cfg.write_text("[server]\nportt = 1\n")
    assert "server.portt" in run_cli("serve", "--config", str(cfg), "--data-dir", str(tmp_path)).stderr


def test_config_file_provisions_connections_and_survives_restart(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    cfg = tmp_path / "omniroute.toml"
    cfg.write_text(f"""
[server]
max_body_bytes = 2048

[[provider_nodes]]
prefix = "local"
base_url = "{upstream.base_url}"

[[providers]]
provider = "local"
name = "local-main"
api_key = "env:OMNI_TEST_UPSTREAM_KEY"

[aliases]
quick = "local/gpt-4o-mini"
""")
    import os

    env = {**os.environ, "OMNI_TEST_UPSTREAM_KEY": "sk-upstream"}
    data = tmp_path / "data"
    for _round in range(2):  # the second start re-provisions in place and keeps API-made records
        gw = RunningGateway(data, "--config", str(cfg), env=env)
        try:
            conns = gw.api("GET", "/api/providers").json()["connections"]
            assert [c["name"] for c in conns if c["source"] == "config"] == ["local-main"]
            sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0)
            assert sdk.chat.completions.create(model="quick", messages=MESSAGES).choices[0].message.content
            assert upstream.headers[-1]["Authorization"] == "Bearer sk-upstream"
            big = gw.http.post("/v1/chat/completions", json={"model": "quick", "messages": [{"role": "user",
                                                                                           "content": "x" * 4000}]})
            assert big.status_code == 413  # [server] max_body_bytes from the file
            if _round == 0:
                gw.api("POST", "/api/providers", {"provider": "groq", "apiKey": "k", "name": "api-made"})
            else:
                assert any(c["name"] == "api-made" for c in conns)  # LMDB kept it across the restart
        finally:
            gw.stop()


def test_sigterm_lets_in_flight_stream_finish(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = RunningGateway(tmp_path / "d")
    gw.add_openai_upstream(upstream.base_url)
    body = {"model": "mock/paced", "messages": MESSAGES, "stream": True}
    result: dict[str, bytes] = {}
    started = threading.Event()

    def stream() -> None:
        with httpx.Client(timeout=10) as c, c.stream("POST", gw.url + "/v1/chat/completions", json=body) as r:
            pieces = r.iter_raw()
            first = next(pieces)
            started.set()
            result["body"] = first + b"".join(pieces)

    t = threading.Thread(target=stream)
    t.start()
    assert started.wait(10)
    output = gw.stop(signal.SIGTERM)  # the stream is in flight: about a second still to go
    t.join(10)
    assert gw.proc.returncode == 0, output
    assert result["body"].endswith(b"data: [DONE]\n\n")
    assert "listening on http://127.0.0.1" in output
