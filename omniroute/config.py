"""Settings: parsed from flags, environment and the config file, then validated and frozen.

One name per option (Granian's rule): the CLI flag ``--max-body-bytes``, the environment
variable ``OMNIROUTE_MAX_BODY_BYTES`` and the config key ``[server] max_body_bytes`` are the
same option. Precedence: flag > environment > config file > default. ``REQUIRE_API_KEY`` and
``INITIAL_PASSWORD`` are also read without the prefix (the names the product documents).

The CLI passes the resolved settings to Granian's worker processes through the environment
variable ``OMNIROUTE_RUNTIME_SETTINGS`` (JSON); ``Settings.from_runtime_env`` reads it back.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError

RUNTIME_ENV = "OMNIROUTE_RUNTIME_SETTINGS"


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: int = 20128
    workers: int = 0  # 0: one per CPU core
    data_dir: str = "~/.omniroute"
    config: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    require_api_key: bool = False
    initial_password: str | None = None
    connect_timeout: float = 10.0
    first_byte_timeout: float = 120.0
    stream_idle_timeout: float = 120.0
    upstream_connections: int = 512  # per worker, per upstream host
    log_level: str = "warning"
    log_format: str = "plain"
    hooks: str = ""  # comma-separated module:factory
    encryption_key: str | None = None  # OAuth tokens encrypted at rest with it (store.crypto)
    backup_interval: float = 24.0  # hours between automatic backups (0: none)
    backup_keep: int = 7  # automatic (and pre-restore) backups kept
    max_import_bytes: int = 64 * 1024 * 1024  # largest .sqlite accepted by /api/db-backups/import
    #: the config file's [oauth.<provider>] tables (validated by omniroute.oauth.providers)
    oauth: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    shutdown_grace: float = 30.0  # seconds in-flight requests get to finish at shutdown and restart
    max_audio_bytes: int = 25 * 1024 * 1024
    transcription_wait: float = 600.0
    transcription_poll_interval: float = 1.0
    spool_dir: str | None = None
    record_usage: bool = True
    metrics_token: str | None = None

    @property
    def hook_specs(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.hooks.split(",") if h.strip())

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @classmethod
    def from_runtime_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        raw = environ.get(RUNTIME_ENV)
        return msgspec.json.decode(raw, type=cls) if raw else resolve({}, environ)

    def to_runtime_env(self) -> str:
        return msgspec.json.encode(self).decode()


#: option -> (type, help). Drives the CLI flags, env names and config-file validation.
OPTIONS: dict[str, tuple[type, str]] = {
    "host": (str, "address to listen on"),
    "port": (int, "port to listen on"),
    "workers": (int, "worker processes (0 = one per CPU core)"),
    "data_dir": (str, "directory of the LMDB state"),
    "config": (str, "TOML config file provisioning providers, nodes and aliases"),
    "max_body_bytes": (int, "largest accepted request body, in bytes (larger: 413)"),
    "require_api_key": (bool, "require a client API key on /v1/*"),
    "initial_password": (str, "dashboard/management password until one is stored"),
    "connect_timeout": (float, "upstream connect timeout, seconds"),
    "first_byte_timeout": (float, "upstream time to response headers, seconds"),
    "stream_idle_timeout": (float, "longest silence between upstream body reads, seconds"),
    "upstream_connections": (int, "upstream connection pool size per worker and host"),
    "log_level": (str, "critical, error, warning, info or debug (info: one access-log line per request)"),
    "log_format": (str, "access-log lines: plain or json"),
    "hooks": (str, "extra request hooks, comma-separated module:factory (docs/architecture.md)"),
    "encryption_key": (str, "key encrypting OAuth tokens at rest (prefer the environment variable)"),
    "backup_interval": (float, "hours between automatic store backups (0 = none)"),
    "backup_keep": (int, "automatic and pre-restore backups kept"),
    "max_import_bytes": (int, "largest .sqlite file /api/db-backups/import accepts, in bytes"),
    "shutdown_grace": (float, "seconds in-flight requests get to finish at shutdown or restart before workers are "
                              "killed"),
    "max_audio_bytes": (int, "largest accepted audio upload on /v1/audio/transcriptions, in bytes (larger: 413)"),
    "transcription_wait": (float, "longest wait for a polled transcript (AssemblyAI), seconds (then 504)"),
    "transcription_poll_interval": (float, "seconds between two polls of a transcript (AssemblyAI)"),
    "spool_dir": (str, "directory of the temporary files audio uploads are spooled to (default: the system's)"),
    "record_usage": (bool, "record every request's usage, cost and timings (docs/observability.md)"),
    "metrics_token": (str, "bearer token for GET /metrics (unset: /metrics is protected like /api/*)"),
}

#: options also read from an unprefixed environment variable
BARE_ENV = {"require_api_key": "REQUIRE_API_KEY", "initial_password": "INITIAL_PASSWORD"}


def env_name(option: str) -> str:
    return "OMNIROUTE_" + option.upper()


def resolve(flags: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> Settings:
    """Merge defaults < config file < environment < flags into validated ``Settings``."""
    values: dict[str, Any] = {}
    config_path = flags.get("config") or environ.get(env_name("config"))
    if config_path:
        data = load_file(config_path)
        values.update(data.get("server", {}))
        values["oauth"] = data.get("oauth", {})
        values["config"] = str(config_path)
    for option, (kind, _help) in OPTIONS.items():
        raw = environ.get(env_name(option), environ.get(BARE_ENV.get(option, ""), None))
        if raw is not None and raw != "":
            values[option] = _coerce(option, kind, raw)
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        settings = msgspec.convert(values, Settings)
    except msgspec.ValidationError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"invalid setting: {exc}") from None
    return _validate(settings)


def _coerce(option: str, kind: type, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    try:
        return kind(raw)
    except ValueError:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"{env_name(option)}={raw!r} is not a valid {kind.__name__}"
        ) from None


def _validate(s: Settings) -> Settings:
    checks = (
        ("port", 0 <= s.port <= 65535, "must be 0..65535"),
        ("workers", s.workers >= 0, "must be >= 0"),
        ("max_body_bytes", s.max_body_bytes > 0, "must be > 0"),
        ("connect_timeout", s.connect_timeout > 0, "must be > 0"),
        ("first_byte_timeout", s.first_byte_timeout > 0, "must be > 0"),
        ("stream_idle_timeout", s.stream_idle_timeout > 0, "must be > 0"),
        ("upstream_connections", s.upstream_connections > 0, "must be > 0"),
        ("log_level", s.log_level in ("critical", "error", "warning", "info", "debug"), "unknown level"),
        ("log_format", s.log_format in ("plain", "json"), "must be plain or json"),
        ("hooks", all(":" in h for h in s.hook_specs), "each hook is module:factory"),
        ("backup_interval", s.backup_interval >= 0, "must be >= 0 (0: no automatic backups)"),
        ("backup_keep", s.backup_keep >= 1, "must be >= 1"),
        ("max_import_bytes", s.max_import_bytes > 0, "must be > 0"),
        ("shutdown_grace", s.shutdown_grace > 0, "must be > 0"),
        ("max_audio_bytes", s.max_audio_bytes > 0, "must be > 0"),
        ("transcription_wait", s.transcription_wait > 0, "must be > 0"),
        ("transcription_poll_interval", s.transcription_poll_interval > 0, "must be > 0"),
    )
    for path, ok, why in checks:
        if not ok:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"server.{path}: {why}", param=f"server.{path}")
    return s


def load_file(path: str | Path) -> dict[str, Any]:
    """Read the TOML config file; ``env:NAME`` strings are replaced by that variable's value."""
    try:
        data = tomllib.loads(Path(path).expanduser().read_text())
    except OSError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"config file {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"server", "providers", "provider_nodes", "aliases", "oauth", "cache"}
    if unknown:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"config: unknown section(s) {sorted(unknown)}")
    server = data.get("server", {})
    bad = set(server) - set(OPTIONS) - {"config"}
    if bad:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"config: unknown option(s) server.{sorted(bad)[0]}")
    return _expand_env(data, "")


def _expand_env(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"config {path}: environment variable {name} is not set")
        return os.environ[name]
    return value
