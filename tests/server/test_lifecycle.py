"""``/api/init``, ``/api/restart`` and ``/api/shutdown`` on a real two-worker gateway, with
streams in flight (the OpenAI mock's ``paced`` model streams for about a second, ``slow`` for a
minute)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from omniroute import __version__
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY
from tests.support.openai_upstream import OpenAIUpstream


class Stream(threading.Thread):
    """A streaming chat request read to its end in a thread: the chunks' text and how it ended."""

    def __init__(self, gw: RunningGateway, model: str) -> None:
        super().__init__(daemon=True)
        self.url, self.model = gw.url, model
        self.text, self.done, self.error = "", False, None
        self.started = threading.Event()

    def run(self) -> None:
        body = {"model": self.model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        try:
            with httpx.stream("POST", self.url + "/v1/chat/completions", json=body, timeout=30) as resp:
                for line in resp.iter_lines():
                    self.started.set()
                    if line == "data: [DONE]":
                        self.done = True
                    elif line.startswith("data: ") and '"content"' in line:
                        self.text += line
        except httpx.HTTPError as exc:
            self.error = exc
        self.started.set()


def start(tmp: Path, upstream: OpenAIUpstream, *flags: str) -> RunningGateway:
    gw = RunningGateway(tmp, "--workers", "2", *flags)
    gw.add_openai_upstream(upstream.base_url, api_key=API_KEY)
    return gw


def pids(gw: RunningGateway, tries: int = 40) -> set[int]:
    seen: set[int] = set()
    for _ in range(tries):
        seen.add(httpx.get(gw.url + "/api/monitoring/health").json()["pid"])
        if len(seen) == 2:
            break
    return seen


def test_init_reports_the_first_run(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = RunningGateway(tmp_path / "fresh")
    try:
        assert gw.api("GET", "/api/init").json() == {"firstRun": True, "hasPassword": False, "providers": 0,
                                                     "version": __version__}
        gw.add_openai_upstream(upstream.base_url)
        assert gw.api("POST", "/api/auth/password", {"new": "first-password"}).status_code == 200
        with httpx.Client(base_url=gw.url) as anon:  # public: the dashboard asks before anyone logs in
            assert anon.get("/api/init").json() == {"firstRun": False, "hasPassword": True, "providers": 1,
                                                    "version": __version__}
            assert anon.get("/api/providers").status_code == 401
    finally:
        gw.stop()


def test_restart_replaces_workers_without_dropping_requests(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    config = tmp_path / "omniroute.toml"
    config.write_text('[aliases]\nfirst = "mock/gpt-4o-mini"\n')
    gw = start(tmp_path / "data", upstream, "--config", str(config), "--shutdown-grace", "10")
    try:
        before = pids(gw)
        stream = Stream(gw, "mock/paced")
        stream.start()
        assert stream.started.wait(5)
        config.write_text('[aliases]\nfirst = "mock/gpt-4o-mini"\nsecond = "mock/gpt-4o-mini"\n')
        answer = gw.api("POST", "/api/restart")
        assert answer.status_code == 202 and answer.json()["restarting"] is True, answer.text
        failures, deadline = [], time.time() + 30
        body = {"model": "first", "messages": [{"role": "user", "content": "hi"}]}
        while time.time() < deadline:  # requests keep being answered while the workers change
            resp = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
            if resp.status_code != 200:
                failures.append(resp.status_code)
            if not any(Path(f"/proc/{pid}").exists() for pid in before):  # the old workers have exited
                break
            time.sleep(0.1)
        stream.join(10)
        assert stream.done and stream.error is None, (stream.text, stream.error)
        assert not failures
        assert pids(gw).isdisjoint(before), "the workers were replaced"
        resp = httpx.post(gw.url + "/v1/chat/completions", json={**body, "model": "second"})
        assert resp.status_code == 200, resp.text  # the config file was read again
    finally:
        out = gw.stop()
    assert "reloading workers" in out, out


def test_shutdown_drains_in_flight_streams_and_exits_0(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = start(tmp_path, upstream, "--shutdown-grace", "10")
    streams = [Stream(gw, "mock/paced") for _ in range(3)]
    for s in streams:
        s.start()
    assert all(s.started.wait(5) for s in streams)
    answer = gw.api("POST", "/api/shutdown")
    assert answer.status_code == 202 and answer.json()["graceSeconds"] == 10
    for s in streams:
        s.join(10)
        assert s.done and s.error is None, (s.text, s.error)
    assert gw.proc.wait(15) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(gw.url + "/api/monitoring/health", timeout=2)
    gw.stop()


def test_shutdown_grace_bounds_the_wait(tmp_path: Path, upstream: OpenAIUpstream) -> None:
    gw = start(tmp_path, upstream, "--shutdown-grace", "1")
    stream = Stream(gw, "mock/slow")  # a minute long
    stream.start()
    assert stream.started.wait(5)
    began = time.time()
    assert gw.api("POST", "/api/shutdown").status_code == 202
    code = gw.proc.wait(15)
    assert time.time() - began < 8 and code == 0
    stream.join(5)
    assert not stream.done  # cut at the grace period
    gw.stop()


def test_bad_shutdown_grace_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="shutdown_grace"):
        RunningGateway(tmp_path, "--shutdown-grace", "0")
