"""``omniroute`` command line.

``omniroute serve`` resolves settings (flags > ``OMNIROUTE_*`` environment > config file >
defaults), provisions the store from the config file, then hands the ASGI app to Granian
(raw ASGI, uvloop, HTTP/1.1, one worker per CPU core by default). Granian handles SIGINT and
SIGTERM: it stops accepting, lets in-flight requests finish (workers still busy after
``shutdown_grace`` seconds are killed), the lifespan shutdown of each worker closes its LMDB
environment, and the process exits 0. SIGHUP (``POST /api/restart``) re-reads the config
file (``reload``) and replaces the workers one at a time without dropping requests.

``omniroute reset-password [--password P]`` sets the management password offline (prompting
twice when ``--password`` is left out) and ends every session.
"""

from __future__ import annotations

import argparse
import getpass
import math
import os
import sys
from collections.abc import Mapping
from typing import Any

import msgspec

from omniroute import __version__
from omniroute.config import BARE_ENV, OPTIONS, RUNTIME_ENV, Settings, env_name, load_file, resolve
from omniroute.errors import GatewayError
from omniroute.oauth.providers import configure as configure_oauth

_BOOL_FLAGS = {"require_api_key", "record_usage"}
#: seconds a new worker gets to start before the old one is told to stop (restart)
RESPAWN_INTERVAL = 2.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omniroute",
        description="OmniRoute: a self-hosted AI gateway. Every option has an OMNIROUTE_<NAME> environment twin "
        "and a [server] key in the config file; flags win over the environment, which wins over the file.",
    )
    parser.add_argument("--version", action="version", version=f"omniroute {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="start the gateway", description="Start the gateway under Granian.")
    defaults = Settings()
    for option, (kind, text) in OPTIONS.items():
        flag = "--" + option.replace("_", "-")
        env = env_name(option) + (f" or {BARE_ENV[option]}" if option in BARE_ENV else "")
        default = getattr(defaults, option)
        help_text = f"{text} [env {env}; default {default!r}]"
        if option in _BOOL_FLAGS:
            serve.add_argument(flag, dest=option, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            serve.add_argument(flag, dest=option, type=kind, default=None, help=help_text)
    reset = sub.add_parser("reset-password", help="set the management password offline",
                           description="Store a new management password in the data directory and end every "
                           "session. Prompts when --password is left out.")
    reset.add_argument("--password", default=None, help="the new password (prompted for when left out)")
    reset.add_argument("--data-dir", dest="data_dir", default=None, help="[env OMNIROUTE_DATA_DIR]")
    reset.add_argument("--config", default=None, help="config file whose [server] data_dir applies")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "reset-password":
        return reset_password(args)
    if args.command != "serve":
        parser.print_help()
        return 0 if args.command is None else 2
    flags = {k: v for k, v in vars(args).items() if k in OPTIONS}
    try:
        settings = resolve(flags)
        configure_oauth(settings.oauth)  # a bad [oauth.*] value or OMNIROUTE_OAUTH_* stops start-up here
        provisioned = _provision(settings)
    except GatewayError as err:
        print(f"omniroute: {err.message}", file=sys.stderr)
        return 2
    serve(settings, provisioned, flags)
    return 0


def reset_password(args: argparse.Namespace) -> int:
    from omniroute.settings import passwords
    from omniroute.store import Store

    try:
        settings = resolve({"data_dir": args.data_dir, "config": args.config})
    except GatewayError as err:
        print(f"omniroute: {err.message}", file=sys.stderr)
        return 2
    password = args.password
    if password is None:
        password = getpass.getpass("New management password: ")
        if getpass.getpass("Again: ") != password:
            print("omniroute: the two passwords differ; nothing changed", file=sys.stderr)
            return 2
    why = passwords.weak(password)
    if why is not None:
        print(f"omniroute: the password {why}; nothing changed", file=sys.stderr)
        return 2
    store = Store(settings.data_path)
    try:
        ended = passwords.reset(store, password)
    finally:
        store.close()
    print(f"password set in {settings.data_path}; {ended} session(s) ended")
    return 0


def _provision(settings: Settings) -> str:
    from omniroute.provision import provision
    from omniroute.store import Store

    store = Store(settings.data_path)
    try:
        if not settings.config:
            return ""
        counts = provision(store, load_file(settings.config))
        return ", ".join(f"{n} {k}" for k, n in counts.items())
    finally:
        store.close()


def reload(flags: Mapping[str, Any], running: Settings, environ: Any = os.environ) -> Settings:
    """SIGHUP (``POST /api/restart``), in the main process before new workers start: the
    settings resolved again and the config file provisioned again; host, port and workers
    stay as they are (the socket is already bound). A bad config keeps the running settings."""
    try:
        fresh = resolve(flags)
        provisioned = _provision(fresh)
    except GatewayError as err:
        print(f"omniroute: reload kept the running settings: {err.message}", file=sys.stderr, flush=True)
        return running
    fresh = msgspec.structs.replace(fresh, host=running.host, port=running.port, workers=running.workers)
    environ[RUNTIME_ENV] = fresh.to_runtime_env()
    print("OmniRoute reloading workers" + (f", provisioned {provisioned}" if provisioned else ""), flush=True)
    return fresh


def serve(settings: Settings, provisioned: str = "", flags: Mapping[str, Any] | None = None) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    os.environ[RUNTIME_ENV] = settings.to_runtime_env()
    workers = settings.worker_count
    print(
        f"OmniRoute {__version__} listening on http://{settings.host}:{settings.port} "
        f"({workers} worker{'s' if workers > 1 else ''}, data in {settings.data_path}"
        + (f", provisioned {provisioned}" if provisioned else "")
        + ")",
        flush=True,
    )
    server = Granian(
        "omniroute.app:create_app",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        backlog=2048,
        log_level=settings.log_level,
        workers_kill_timeout=math.ceil(settings.shutdown_grace),
        respawn_interval=RESPAWN_INTERVAL,
    )
    server.on_reload(lambda: reload(flags or {}, settings))
    server.serve()


if __name__ == "__main__":
    raise SystemExit(main())
