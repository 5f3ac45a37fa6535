"""Find, install and run the real coding CLIs (Claude Code, Codex) for the end-to-end tests.

A CLI is taken from ``PATH`` when its ``--version`` names the pinned version, else from
``<repo>/.clients/node_modules/.bin``; when neither has it and ``npm`` exists, both are
installed there once per session (the command ``.ci/run`` runs too). Without ``npm`` the
tests skip, naming why.

Every run gets a fresh ``HOME`` and working directory, a clean environment (nothing of the
caller's but ``PATH`` and the locale: no real provider key can leak in), no stdin, and a
timeout; its exit code and output are returned, never raised.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PREFIX = REPO / ".clients"
PINS = {"claude": ("@anthropic-ai/claude-code", "2.1.197"), "codex": ("@openai/codex", "0.171.0")}
INSTALL = ["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund",
           *(f"{package}@{version}" for package, version in PINS.values())]
TIMEOUT = 120.0
_KEPT = ("PATH", "LANG", "LC_ALL", "TMPDIR")


@dataclass
class Run:
    """What a CLI run left: exit code (None: killed at the timeout), stdout, stderr."""

    code: int | None
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err[-4000:]}"


def _pinned(path: str | Path, version: str) -> bool:
    try:
        shown = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return version in shown.stdout


def locate(name: str) -> Path | None:
    """The pinned CLI ``name`` on PATH or under ``.clients``, or None."""
    version = PINS[name][1]
    for candidate in (shutil.which(name), PREFIX / "node_modules" / ".bin" / name):
        if candidate and Path(candidate).exists() and _pinned(candidate, version):
            return Path(candidate)
    return None


def install() -> str:
    """Install the pinned CLIs under ``.clients``; npm's output (raises when npm fails)."""
    done = subprocess.run(INSTALL, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(INSTALL)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def clean_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEPT if k in os.environ}
    node = shutil.which("node")
    if node:  # the CLIs' launchers run `node`
        env["PATH"] = f"{Path(node).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, "HOME": str(home), **extra}


def run(argv: list[str], home: Path, cwd: Path, env: dict[str, str], timeout: float = TIMEOUT) -> Run:
    try:
        done = subprocess.run(argv, cwd=cwd, env=clean_env(home, env), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return Run(None, _text(exc.stdout), _text(exc.stderr) + f"\n(killed after {timeout} s)")
    return Run(done.returncode, done.stdout, done.stderr)


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


@dataclass
class Workspace:
    """A fresh HOME and working directory for one CLI run."""

    home: Path
    cwd: Path

    @classmethod
    def make(cls, root: Path) -> Workspace:
        (root / "home").mkdir()
        (root / "work").mkdir()
        return cls(root / "home", root / "work")


def claude(binary: Path, gateway_url: str, prompt: str, ws: Workspace, key: str) -> Run:
    """``claude -p <prompt>`` with its default settings, pointed at the gateway."""
    env = {"ANTHROPIC_BASE_URL": gateway_url, "ANTHROPIC_API_KEY": key,
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    return run([str(binary), "-p", prompt], ws.home, ws.cwd, env)


CODEX_CONFIG = """model = "gpt-5"
model_provider = "omni"

[model_providers.omni]
name = "OmniRoute"
base_url = "{base_url}"
env_key = "OMNI_KEY"
wire_api = "responses"
"""


def codex(binary: Path, gateway_url: str, prompt: str, ws: Workspace, key: str) -> Run:
    """``codex exec --skip-git-repo-check <prompt>`` with a provider entry for the gateway."""
    (ws.home / ".codex").mkdir(exist_ok=True)
    (ws.home / ".codex" / "config.toml").write_text(CODEX_CONFIG.format(base_url=gateway_url + "/v1"))
    return run([str(binary), "exec", "--skip-git-repo-check", prompt], ws.home, ws.cwd, {"OMNI_KEY": key})
