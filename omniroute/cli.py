"""``omniroute`` command line.

``omniroute serve`` resolves settings (flags > ``OMNIROUTE_*`` environment > config file >
defaults), provisions the store from the config file, then hands the ASGI app to Granian
(raw ASGI, uvloop, HTTP/1.1, one worker per CPU core by default). Granian handles SIGINT and
SIGTERM: it stops accepting, lets in-flight requests finish, and the lifespan shutdown of
each worker closes its LMDB environment.
"""

from __future__ import annotations

import argparse
import os
import sys

from omniroute import __version__
from omniroute.config import BARE_ENV, OPTIONS, RUNTIME_ENV, Settings, env_name, load_file, resolve
from omniroute.errors import GatewayError

_BOOL_FLAGS = {"require_api_key", "record_usage"}


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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "serve":
        parser.print_help()
        return 0 if args.command is None else 2
    flags = {k: v for k, v in vars(args).items() if k in OPTIONS}
    try:
        settings = resolve(flags)
        provisioned = _provision(settings)
    except GatewayError as err:
        print(f"omniroute: {err.message}", file=sys.stderr)
        return 2
    serve(settings, provisioned)
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


def serve(settings: Settings, provisioned: str = "") -> None:
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
    Granian(
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
    ).serve()


if __name__ == "__main__":
    raise SystemExit(main())
