"""Headless Chromium for the dashboard tests, driven by Playwright with the system's browser.

Playwright's own browser download is not used: ``find_chromium`` looks for a Chromium the
machine has (``OMNIROUTE_CHROMIUM``, then Debian's ``/usr/bin/chromium``, then ``chromium`` /
``chromium-browser`` / ``google-chrome`` on ``PATH``); ``.ci/run`` installs Debian's package.
``why_not`` says why the browser tests cannot run, or ``None`` when they can.

The flags keep Chromium off the network (no background connections, updates, sync, QUIC)
and out of the GPU; Playwright gives every launch a fresh user-data directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
        "--disable-extensions"]


def find_chromium() -> str | None:
    explicit = os.environ.get("OMNIROUTE_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in CANDIDATES:
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


def why_not() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if find_chromium() is None:
        return "no Chromium found (apt-get install chromium, or set OMNIROUTE_CHROMIUM)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser (``playwright.sync_api.Browser``); closed, with its driver, on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
