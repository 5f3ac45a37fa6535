"""Start the real gateway (``omniroute serve`` → Granian) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningGateway:
    def __init__(self, data_dir: Path, *flags: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        cmd = [sys.executable, "-m", "omniroute", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
               "--workers", "1", *flags]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
        clean.pop("REQUIRE_API_KEY", None)
        clean.pop("INITIAL_PASSWORD", None)
        self.proc = subprocess.Popen(  # its own process group: stop() can reach every worker
            cmd, env={**clean, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.proc.stdout.read()}")
            try:
                if self.http.get("/api/monitoring/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("gateway did not become ready")

    def api(self, method: str, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, json=json, **kw)

    def add_openai_upstream(self, base_url: str, prefix: str = "mock", api_key: str = "sk-upstream") -> str:
        node = self.api("POST", "/api/provider-nodes", {"prefix": prefix, "baseUrl": base_url, "name": prefix})
        assert node.status_code == 201, node.text
        node_id = node.json()["node"]["id"]
        conn = self.api("POST", "/api/providers", {"provider": node_id, "apiKey": api_key, "name": f"{prefix}-conn"})
        assert conn.status_code == 201, conn.text
        return conn.json()["id"]

    def stop(self, sig: int = signal.SIGTERM) -> str:
        """Signal the gateway, wait for it, and answer everything it wrote. A worker still
        alive once the main process is gone is killed (it would hold the output pipe open
        forever) and named at the end of the output."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        note = ""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
            note = "\n--- gateway workers outlived the main process and were killed"
        except (ProcessLookupError, PermissionError):
            pass
        return (self.proc.stdout.read() if self.proc.stdout else "") + note
