"""Coding CLIs pointed at the gateway: where each keeps its settings and what is written there.

Paths are under the gateway process's ``HOME``. Only the keys in the table are written;
everything else in the file is kept (TOML comments too: ``tomlkit``). Before a write, the
file as it was is copied to ``<file>.omniroute-backup-<UTC time>``.

=========  =============================  =================================================
tool       file                           written
=========  =============================  =================================================
claude     ``~/.claude/settings.json``    ``env.ANTHROPIC_BASE_URL`` (the gateway's root),
                                          ``env.ANTHROPIC_AUTH_TOKEN``, ``env.ANTHROPIC_MODEL``
                                          when a model is given
codex      ``~/.codex/config.toml``       ``model_provider = "omniroute"``, ``model``,
                                          ``[model_providers.omniroute]`` with ``base_url``
                                          (``…/v1``), ``wire_api = "responses"`` and the key
                                          as ``experimental_bearer_token`` (no key:
                                          ``env_key = "OMNIROUTE_API_KEY"``)
droid      ``~/.factory/settings.json``   one ``customModels`` entry per model, named
                                          ``… [OmniRoute]`` (earlier such entries replaced):
                                          ``claude-*`` as ``anthropic`` (gateway root), others
                                          as ``openai`` (Responses API, ``…/v1``)
openclaw   ``~/.openclaw/openclaw.json``  ``models.providers.omniroute`` (``openai-completions``
                                          at ``…/v1``) and ``agents.defaults.model.primary``
=========  =============================  =================================================

A JSON file that does not parse (OpenClaw's JSON5 with comments, say) is never rewritten:
the write is refused naming the file.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from omniroute.errors import ErrorKind, GatewayError
from omniroute.inputs import mask

PROVIDER = "omniroute"
LABEL = " [OmniRoute]"


@dataclass(frozen=True)
class Tool:
    id: str
    command: str
    path: str  # under HOME
    default_models: tuple[str, ...]


TOOLS = {t.id: t for t in (
    Tool("claude", "claude", ".claude/settings.json", ()),
    Tool("codex", "codex", ".codex/config.toml", ("gpt-5",)),
    Tool("droid", "droid", ".factory/settings.json", ("claude-sonnet-4-5",)),
    Tool("openclaw", "openclaw", ".openclaw/openclaw.json", ("gpt-5",)),
)}


@dataclass(frozen=True)
class Target:
    """What a tool is pointed at: the gateway's root URL, a client key, the models."""

    root: str
    key: str
    models: tuple[str, ...]


def config_path(tool: Tool) -> Path:
    return Path.home() / tool.path


def read(tool: Tool) -> Any:
    """The tool's settings file as data ({} when absent); 409 when it does not parse."""
    path = config_path(tool)
    if not path.exists():
        return tomlkit.document() if path.suffix == ".toml" else {}
    text = path.read_text()
    try:
        return tomlkit.parse(text) if path.suffix == ".toml" else (json.loads(text) if text.strip() else {})
    except (ValueError, tomlkit.exceptions.TOMLKitError) as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{path} does not parse ({exc}); it was left as it is: edit "
                           "it by hand", status=409) from None


def write(tool: Tool, data: Any) -> str | None:
    """Back the file up (when it exists), then write ``data``; answers the backup's path."""
    path = config_path(tool)
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.omniroute-backup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        shutil.copy2(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomlkit.dumps(data) if path.suffix == ".toml" else json.dumps(data, indent=2) + "\n"
    tmp = path.with_name(path.name + ".omniroute-tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return str(backup) if backup else None


# -- per tool: (the part of the file the gateway owns, as it is) and (that part applied) ------------
def current(tool: Tool, data: Any) -> dict[str, Any]:
    if tool.id == "claude":
        env = data.get("env") or {}
        return {k: _masked(k, env.get(k)) for k in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL")
                if k in env}
    if tool.id == "codex":
        data = data.unwrap()  # tomlkit items → plain values
        entry = dict((data.get("model_providers") or {}).get(PROVIDER) or {})
        if "experimental_bearer_token" in entry:
            entry["experimental_bearer_token"] = mask(str(entry["experimental_bearer_token"]))
        return {"model_provider": data.get("model_provider"), "model": data.get("model"), "provider": entry or None}
    if tool.id == "droid":
        return {"customModels": [_mask_entry(e) for e in data.get("customModels") or [] if _ours(e)]}
    provider = dict(((data.get("models") or {}).get("providers") or {}).get(PROVIDER) or {})
    if "apiKey" in provider:
        provider["apiKey"] = mask(str(provider["apiKey"]))
    primary = (((data.get("agents") or {}).get("defaults") or {}).get("model") or {}).get("primary")
    return {"provider": provider or None, "primary": primary}


def apply(tool: Tool, data: Any, target: Target) -> Any:
    """``data`` with the gateway's part written (module table); other keys untouched."""
    return {"claude": _claude, "codex": _codex, "droid": _droid, "openclaw": _openclaw}[tool.id](data, target)


def _claude(data: dict[str, Any], t: Target) -> dict[str, Any]:
    env = dict(data.get("env") or {})
    env["ANTHROPIC_BASE_URL"], env["ANTHROPIC_AUTH_TOKEN"] = t.root, t.key
    if t.models:
        env["ANTHROPIC_MODEL"] = t.models[0]
    return {**data, "env": env}


def _codex(doc: Any, t: Target) -> Any:
    doc["model_provider"] = PROVIDER
    doc["model"] = t.models[0]
    providers = doc.get("model_providers")
    if providers is None:
        providers = doc["model_providers"] = tomlkit.table(is_super_table=True)
    entry = tomlkit.table()
    entry.update({"name": "OmniRoute", "base_url": t.root + "/v1", "wire_api": "responses"})
    if t.key:
        entry["experimental_bearer_token"] = t.key
    else:
        entry["env_key"] = "OMNIROUTE_API_KEY"
    providers[PROVIDER] = entry
    return doc


def _droid(data: dict[str, Any], t: Target) -> dict[str, Any]:
    kept = [e for e in data.get("customModels") or [] if not _ours(e)]
    ours = [{"model": m, "displayName": m + LABEL, "provider": "anthropic" if m.startswith("claude") else "openai",
             "baseUrl": t.root if m.startswith("claude") else t.root + "/v1", "apiKey": t.key,
             "maxOutputTokens": 16384} for m in t.models]
    return {**data, "customModels": [*kept, *ours]}


def _openclaw(data: dict[str, Any], t: Target) -> dict[str, Any]:
    models = dict(data.get("models") or {})
    providers = dict(models.get("providers") or {})
    providers[PROVIDER] = {"baseUrl": t.root + "/v1", "apiKey": t.key, "api": "openai-completions",
                           "models": [{"id": m, "name": m + LABEL} for m in t.models]}
    agents = dict(data.get("agents") or {})
    defaults = dict(agents.get("defaults") or {})
    defaults["model"] = {**(defaults.get("model") or {}), "primary": f"{PROVIDER}/{t.models[0]}"}
    return {**data, "models": {**models, "providers": providers}, "agents": {**agents, "defaults": defaults}}


def _ours(entry: Any) -> bool:
    return isinstance(entry, dict) and str(entry.get("displayName", "")).endswith(LABEL)


def _mask_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "apiKey": mask(str(entry.get("apiKey", "")))}


def _masked(name: str, value: Any) -> Any:
    return mask(str(value)) if name == "ANTHROPIC_AUTH_TOKEN" and value else value
