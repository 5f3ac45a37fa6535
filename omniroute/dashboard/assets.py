"""The dashboard's files, read once at start-up and served from memory.

Every file under ``static/`` whose suffix is in ``CONTENT_TYPES`` becomes an ``Asset`` keyed
by its path relative to ``static/`` (``js/app.js``). A request names a key; nothing on the
request path touches the filesystem, so no URL (``..``, ``%2e%2e``, absolute paths, symlinks
out of the tree) can reach a file that is not in the table.

=====================  ==========================================================
files                  ``Cache-Control``
=====================  ==========================================================
``vendor/<lib>-<v>/``  ``public, max-age=31536000, immutable``: the version is in
                       the path, so a new version is a new URL
everything else        ``no-cache``: the browser revalidates with ``If-None-Match``
                       against the strong ``ETag`` (a 304 costs no body)
=====================  ==========================================================

Text files over ``GZIP_MIN`` bytes are also kept gzipped (compressed once, here).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import xxhash

STATIC = Path(__file__).resolve().parent / "static"

CONTENT_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
    ".json": b"application/json",
    ".txt": b"text/plain; charset=utf-8",
}
#: files without a suffix that are served (licences of vendored code)
PLAIN_NAMES = frozenset({"LICENSE"})
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
GZIP_MIN = 1024
_COMPRESSIBLE = (b"text/", b"image/svg", b"application/json")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None: not worth compressing (small, or already compressed)
    content_type: bytes
    etag: bytes
    cache_control: bytes


class Assets:
    """The table of servable files (module docstring)."""

    def __init__(self, root: Path = STATIC) -> None:
        self.root = root
        self.files: dict[str, Asset] = {}
        for path in sorted(root.rglob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file() and not path.is_symlink() and not _hidden(name):
                asset = load(path, name)
                if asset is not None:
                    self.files[name] = asset

    def get(self, name: str) -> Asset | None:
        return self.files.get(name)


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def load(path: Path, name: str) -> Asset | None:
    """The asset for one file, or ``None`` when its type is not served."""
    content_type = CONTENT_TYPES.get(path.suffix) or (CONTENT_TYPES[".txt"] if path.name in PLAIN_NAMES else None)
    if content_type is None:
        return None
    body = path.read_bytes()
    gzipped = None
    if len(body) >= GZIP_MIN and content_type.startswith(_COMPRESSIBLE):
        gzipped = gzip.compress(body, 9, mtime=0)
    etag = b'"' + xxhash.xxh64(body).hexdigest().encode() + b'"'
    cache = IMMUTABLE if name.startswith("vendor/") else REVALIDATE
    return Asset(body, gzipped, content_type, etag, cache)
