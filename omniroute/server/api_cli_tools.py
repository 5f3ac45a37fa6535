"""``/api/cli-tools/{tool}-settings`` (GET, POST) and ``/api/cli-tools/runtime/{tool}``.

``GET …/{tool}-settings`` → ``{"installed", "configPath", "current", "suggested"}``:
``installed`` when the command is on the gateway's ``PATH`` or its settings directory exists;
``current`` is the part of the tool's settings the gateway would own, as it is now (keys
masked); ``suggested`` is that part pointed at this gateway. ``POST`` writes it
(``server.cli_tools``) from ``{"baseUrl"?, "apiKey"?, "model"? | "models"?}`` — ``baseUrl``
defaults to the address the request came to, ``apiKey`` to a placeholder unless
``require_api_key`` is on (then it is required), the models to the tool's default — and
answers ``{"written", "configPath", "backupPath", "current"}``.

``GET …/runtime/{tool}`` → ``{"installed", "runnable", "command", "commandPath",
"runtimeMode", "reason", "version"}``: the command looked up on the gateway's ``PATH`` and
run with ``--version`` (``VERSION_TIMEOUT`` seconds at most). ``runtimeMode``: ``native``
(an executable binary), ``node`` (a Node.js script), ``script`` (another interpreter's
script) or ``none`` (not found).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import check_url, require
from omniroute.server import cli_tools
from omniroute.server.cli_tools import TOOLS, Tool
from omniroute.server.http import HttpRequest, send_json

VERSION_TIMEOUT = 10.0
PLACEHOLDER_KEY = "sk-omniroute-local"


def _tool(name: str, suffix: str) -> Tool:
    tool = TOOLS.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
    if tool is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"unknown CLI tool '{name}': use one of "
                           f"{', '.join(t + suffix for t in TOOLS)}", param="tool")
    return tool


def _root(gw: Gateway, req: HttpRequest) -> str:
    host = req.header(b"host") or f"{gw.settings.host}:{gw.settings.port}"
    return f"{'https' if gw.access.is_https(req.scope) else 'http'}://{host}"


def _installed(tool: Tool) -> bool:
    return shutil.which(tool.command) is not None or cli_tools.config_path(tool).parent.is_dir()


async def get_settings(gw: Gateway, req: HttpRequest, send: Any) -> None:
    tool = _tool(req.path_params["tool"], "-settings")
    data = cli_tools.read(tool)
    target = cli_tools.Target(_root(gw, req), "<apiKey>", tool.default_models)
    suggested = cli_tools.current(tool, cli_tools.apply(tool, cli_tools.read(tool), target))
    await send_json(send, 200, {"tool": tool.id, "installed": _installed(tool),
                                "configPath": str(cli_tools.config_path(tool)),
                                "current": cli_tools.current(tool, data), "suggested": suggested})


async def write_settings(gw: Gateway, req: HttpRequest, send: Any) -> None:
    tool = _tool(req.path_params["tool"], "-settings")
    target = _target(gw, req, tool, await req.read_json(gw.settings.max_body_bytes))
    data = cli_tools.apply(tool, cli_tools.read(tool), target)
    backup = cli_tools.write(tool, data)
    await send_json(send, 200, {"tool": tool.id, "written": True, "configPath": str(cli_tools.config_path(tool)),
                                "backupPath": backup, "current": cli_tools.current(tool, data)})


def _target(gw: Gateway, req: HttpRequest, tool: Tool, body: Any) -> cli_tools.Target:
    require(isinstance(body, dict), "body", "must be a JSON object")
    unknown = sorted(set(body) - {"baseUrl", "apiKey", "model", "models"})
    require(not unknown, unknown[0] if unknown else "", "is not a field here; known: apiKey, baseUrl, model, models")
    root = check_url(body["baseUrl"], "baseUrl") if body.get("baseUrl") else _root(gw, req)
    key = body.get("apiKey")
    require(key is None or (isinstance(key, str) and bool(key.strip())), "apiKey", "must be a non-empty string")
    require(key is not None or not gw.settings.require_api_key, "apiKey",
            "is required while the gateway requires client keys: create one with POST /api/keys")
    models = body.get("models") or ([body["model"]] if body.get("model") else list(tool.default_models))
    require(isinstance(models, list) and all(isinstance(m, str) and m.strip() for m in models), "models",
            "must be a list of model ids")
    require(bool(models) or tool.id == "claude", "model", "is required for this tool")
    return cli_tools.Target(root.removesuffix("/v1"), key or PLACEHOLDER_KEY, tuple(m.strip() for m in models))


async def runtime(gw: Gateway, req: HttpRequest, send: Any) -> None:
    tool = _tool(req.path_params["tool"], "")
    path = shutil.which(tool.command)
    answer: dict[str, Any] = {"tool": tool.id, "installed": path is not None, "runnable": False,
                              "command": tool.command, "commandPath": path, "runtimeMode": "none",
                              "reason": None, "version": None}
    if path is None:
        answer["reason"] = f"'{tool.command}' is not on the gateway's PATH"
    else:
        answer["runtimeMode"] = _mode(Path(path))
        answer.update(await _version(path))
    await send_json(send, 200, answer)


def _mode(path: Path) -> str:
    try:
        with path.resolve().open("rb") as f:
            head = f.read(128)
    except OSError:
        return "native"
    if not head.startswith(b"#!"):
        return "native"
    return "node" if b"node" in head.split(b"\n", 1)[0] else "script"


async def _version(path: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(path, "--version", stdin=subprocess.DEVNULL,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        out, err = await asyncio.wait_for(proc.communicate(), VERSION_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"reason": f"'{path} --version' did not finish within {VERSION_TIMEOUT:g} s"}
    if proc.returncode != 0:
        text = (err or out).decode(errors="replace").strip()[-300:]
        return {"reason": f"'{path} --version' exited {proc.returncode}: {text}"}
    return {"runnable": True, "version": out.decode(errors="replace").strip().splitlines()[0] if out.strip() else ""}
