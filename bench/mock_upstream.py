"""A fast mock OpenAI upstream for benchmarks: nginx serving canned answers.

``POST /v1/chat/completions`` answers a fixed ``chat.completion`` JSON; ``POST
/stream/v1/chat/completions`` answers a fixed SSE body of 20 content chunks (+ role and
finish chunks, ``[DONE]``). nginx is used because a Python mock would be slower than the
gateway it measures. nginx refuses POST on static files (405); ``error_page 405 =200 $uri``
serves the file instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

MODEL = "gpt-4o-mini-2024-07-18"


def completion_body() -> bytes:
    text = "A reverse proxy forwards client requests to upstream servers and can terminate TLS."
    return json.dumps({
        "id": "chatcmpl-bench1", "object": "chat.completion", "created": 1732650000, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 231, "completion_tokens": 18, "total_tokens": 249},
    }, separators=(",", ":")).encode()


def stream_body(chunks: int = 20) -> bytes:
    def event(delta: dict, finish: str | None = None) -> bytes:
        chunk = {"id": "chatcmpl-bench2", "object": "chat.completion.chunk", "created": 1732650000, "model": MODEL,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    parts = [event({"role": "assistant", "content": ""})]
    parts += [event({"content": f"word{i} "}) for i in range(chunks)]
    parts += [event({}, "stop"), b"data: [DONE]\n\n"]
    return b"".join(parts)


def nginx_conf(root: Path, port: int) -> str:
    body = completion_body().decode().replace("\\", "\\\\").replace("'", "\\'")
    return f"""
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log error;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_buffer_size 64k;
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root}/html;
    location = /v1/chat/completions {{ default_type application/json; return 200 '{body}'; }}
    location = /stream/v1/chat/completions {{ default_type text/event-stream; error_page 405 =200 $uri; }}
    location = /v1/models {{ default_type application/json; return 200 '{{"object":"list","data":[]}}'; }}
  }}
}}
"""


def start_nginx(root: Path, port: int) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("bench needs nginx and wrk: apt-get install -y nginx wrk")
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    stream_file = root / "html" / "stream" / "v1" / "chat" / "completions"
    stream_file.parent.mkdir(parents=True, exist_ok=True)
    stream_file.write_bytes(stream_body())
    (root / "nginx.conf").write_text(nginx_conf(root, port))
    return subprocess.Popen([nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;",
                             "-e", str(root / "error.log")])
