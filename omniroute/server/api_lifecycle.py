"""``GET /api/init``, ``POST /api/restart``, ``POST /api/shutdown``.

The gateway runs as Granian's main process with worker processes under it (``cli.serve``);
a worker asks the main process by signal, after its answer is sent:

====================  ========  ==========================================================
endpoint              signal    what the main process does
====================  ========  ==========================================================
``/api/restart``      SIGHUP    re-reads the config file (providers, nodes, aliases and
                                ``[server]`` options but host, port and workers:
                                ``cli.reload``), then replaces the workers one at a time:
                                a new worker starts, the old one stops accepting and its
                                in-flight requests finish (up to ``shutdown_grace``)
``/api/shutdown``     SIGTERM   stops accepting; every worker finishes its in-flight
                                requests and streams (up to ``shutdown_grace`` seconds,
                                then it is killed), runs its lifespan shutdown, and the
                                main process exits 0
====================  ========  ==========================================================

Both answer 202 at once. A gateway whose worker has no Granian parent (the app served by
something else) answers 409 instead of signalling a process it does not own.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from omniroute import __version__
from omniroute.config import RUNTIME_ENV
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server.auth import password_set
from omniroute.server.http import HttpRequest, send_json
from omniroute.settings.passwords import password_stored

SIGNAL_DELAY = 0.05  # seconds: the answer leaves before the signal


async def init(gw: Gateway, req: HttpRequest, send: Any) -> None:
    """First-run check (public): no stored password and no provider connection yet."""
    providers = gw.store.count("connections")
    await send_json(send, 200, {"firstRun": not password_stored(gw.store) and providers == 0,
                                "hasPassword": password_set(gw), "providers": providers, "version": __version__})


def _main_pid() -> int:
    parent = os.getppid()
    if parent <= 1 or os.environ.get(RUNTIME_ENV) is None:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "this worker was not started by `omniroute serve`: restart or "
                           "stop it with the tool that started it", status=409)
    return parent


async def restart(gw: Gateway, req: HttpRequest, send: Any) -> None:
    main = _main_pid()
    await send_json(send, 202, {"restarting": True, "pid": main, "graceSeconds": gw.settings.shutdown_grace})
    asyncio.get_running_loop().call_later(SIGNAL_DELAY, os.kill, main, signal.SIGHUP)


async def shutdown(gw: Gateway, req: HttpRequest, send: Any) -> None:
    main = _main_pid()
    await send_json(send, 202, {"shuttingDown": True, "pid": main, "graceSeconds": gw.settings.shutdown_grace})
    asyncio.get_running_loop().call_later(SIGNAL_DELAY, os.kill, main, signal.SIGTERM)
