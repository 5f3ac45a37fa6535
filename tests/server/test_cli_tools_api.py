"""``/api/cli-tools/*`` on a real gateway whose ``HOME`` is a temp dir holding each tool's
settings file with settings of its own (kept, backed up), and whose ``PATH`` has the pinned
``claude`` and ``codex`` (``.clients``; ``droid`` and ``openclaw`` are absent)."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.runner import PINS, PREFIX
from tests.support.gateway import RunningGateway

CODEX_BEFORE = """# my codex settings
approval_policy = "never"

[model_providers.other]
name = "Other"
base_url = "http://other.example/v1"
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(json.dumps({"theme": "dark", "env": {"FOO": "1"}}))
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text(CODEX_BEFORE)
    (home / ".factory").mkdir()
    (home / ".factory" / "settings.json").write_text(json.dumps({"customModels": [
        {"model": "mine", "displayName": "Mine", "baseUrl": "http://x", "apiKey": "k", "provider": "openai"}]}))
    return home


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Iterator[RunningGateway]:
    bins = [str(PREFIX / "node_modules" / ".bin")]
    node = shutil.which("node")
    if node:
        bins.append(str(Path(node).parent))
    path = os.pathsep.join([*bins, "/usr/bin", "/bin"])
    gateway = RunningGateway(tmp_path_factory.mktemp("cli-tools-gw"), env={"HOME": str(home), "PATH": path})
    yield gateway
    gateway.stop()


def test_claude_settings_are_written_with_a_backup(gw: RunningGateway, home: Path) -> None:
    shown = gw.api("GET", "/api/cli-tools/claude-settings").json()
    assert shown["configPath"] == str(home / ".claude" / "settings.json") and shown["current"] == {}
    assert shown["suggested"]["ANTHROPIC_BASE_URL"] == gw.url
    before = (home / ".claude" / "settings.json").read_text()
    done = gw.api("POST", "/api/cli-tools/claude-settings", {"apiKey": "sk-client-claude-0001"}).json()
    assert done["written"] is True and Path(done["backupPath"]).read_text() == before
    written = json.loads((home / ".claude" / "settings.json").read_text())
    assert written["theme"] == "dark" and written["env"]["FOO"] == "1"
    assert written["env"]["ANTHROPIC_BASE_URL"] == gw.url
    assert written["env"]["ANTHROPIC_AUTH_TOKEN"] == "sk-client-claude-0001"
    assert "sk-client-claude-0001" not in json.dumps(done)  # masked in the answer
    assert gw.api("GET", "/api/cli-tools/claude-settings").json()["current"]["ANTHROPIC_BASE_URL"] == gw.url


def test_codex_config_keeps_comments_and_other_providers(gw: RunningGateway, home: Path) -> None:
    done = gw.api("POST", "/api/cli-tools/codex-settings", {"apiKey": "sk-client-codex-0001", "model": "gpt-5"})
    assert done.status_code == 200, done.text
    text = (home / ".codex" / "config.toml").read_text()
    assert text.startswith("# my codex settings") and Path(done.json()["backupPath"]).read_text() == CODEX_BEFORE
    config = tomllib.loads(text)
    assert config["approval_policy"] == "never" and config["model_providers"]["other"]["name"] == "Other"
    assert config["model_provider"] == "omniroute" and config["model"] == "gpt-5"
    ours = config["model_providers"]["omniroute"]
    assert ours["base_url"] == gw.url + "/v1" and ours["wire_api"] == "responses"
    assert ours["experimental_bearer_token"] == "sk-client-codex-0001"


def test_droid_and_openclaw(gw: RunningGateway, home: Path) -> None:
    for _ in range(2):  # writing twice replaces the gateway's own entries, never duplicates them
        done = gw.api("POST", "/api/cli-tools/droid-settings", {"models": ["claude-sonnet-4-5", "gpt-5"]})
        assert done.status_code == 200, done.text
    models = json.loads((home / ".factory" / "settings.json").read_text())["customModels"]
    assert [m["model"] for m in models] == ["mine", "claude-sonnet-4-5", "gpt-5"]
    assert models[1]["provider"] == "anthropic" and models[1]["baseUrl"] == gw.url
    assert models[2]["provider"] == "openai" and models[2]["baseUrl"] == gw.url + "/v1"
    done = gw.api("POST", "/api/cli-tools/openclaw-settings", {"model": "gpt-5"}).json()
    assert done["backupPath"] is None  # there was no file
    written = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert written["models"]["providers"]["omniroute"]["baseUrl"] == gw.url + "/v1"
    assert written["agents"]["defaults"]["model"]["primary"] == "omniroute/gpt-5"


def test_a_file_that_does_not_parse_is_left_alone(gw: RunningGateway, home: Path) -> None:
    path = home / ".openclaw" / "openclaw.json"
    json5 = "{\n  // JSON5, with a comment\n  gateway: {port: 18789},\n}\n"
    path.write_text(json5)
    resp = gw.api("POST", "/api/cli-tools/openclaw-settings", {"model": "gpt-5"})
    assert resp.status_code == 409 and "edit it by hand" in resp.json()["error"]["message"]
    assert path.read_text() == json5


@pytest.mark.parametrize(("path", "body", "param"), [
    ("claude-settings", {"baseUrl": "ftp://x"}, "baseUrl"),
    ("codex-settings", {"models": "gpt-5"}, "models"),
    ("codex-settings", {"apiKey": ""}, "apiKey"),
    ("droid-settings", {"colour": "red"}, "colour"),
])
def test_bad_bodies_name_the_field(gw: RunningGateway, path: str, body: dict, param: str) -> None:
    resp = gw.api("POST", f"/api/cli-tools/{path}", body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text


def test_runtime(gw: RunningGateway) -> None:
    for tool in ("claude", "codex"):
        got = gw.api("GET", f"/api/cli-tools/runtime/{tool}").json()
        if not (PREFIX / "node_modules" / ".bin" / tool).exists():
            pytest.skip(f"{tool} is not installed under {PREFIX}")
        assert got["installed"] and got["runnable"], got
        assert got["commandPath"] == str(PREFIX / "node_modules" / ".bin" / tool)
        assert PINS[tool][1] in got["version"] and got["runtimeMode"] in ("node", "native")
    missing = gw.api("GET", "/api/cli-tools/runtime/droid").json()
    assert missing == {"tool": "droid", "installed": False, "runnable": False, "command": "droid",
                       "commandPath": None, "runtimeMode": "none", "reason": "'droid' is not on the gateway's PATH",
                       "version": None}
    assert gw.api("GET", "/api/cli-tools/runtime/vim").status_code == 404
    assert gw.api("GET", "/api/cli-tools/vim-settings").status_code == 404
