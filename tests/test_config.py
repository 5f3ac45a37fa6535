"""Settings resolution: defaults < file < environment < flags; validation names the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from omniroute.config import Settings, resolve
from omniroute.errors import GatewayError


def test_defaults() -> None:
    s = resolve({}, {})
    assert (s.host, s.port, s.data_dir, s.require_api_key) == ("127.0.0.1", 20128, "~/.omniroute", False)
    assert s.worker_count >= 1


def test_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[server]\nport = 1111\nhost = '0.0.0.0'\nworkers = 3\n")
    env = {"OMNIROUTE_CONFIG": str(cfg), "OMNIROUTE_PORT": "2222", "REQUIRE_API_KEY": "true"}
    s = resolve({"workers": 5}, env)
    assert (s.port, s.host, s.workers, s.require_api_key) == (2222, "0.0.0.0", 5, True)


def test_runtime_round_trip() -> None:
    s = Settings(port=1234, initial_password="pw")
    assert Settings.from_runtime_env({"OMNIROUTE_RUNTIME_SETTINGS": s.to_runtime_env()}) == s


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"OMNIROUTE_PORT": "eighty"}, "OMNIROUTE_PORT"),
        ({"OMNIROUTE_MAX_BODY_BYTES": "0"}, "server.max_body_bytes"),
        ({"OMNIROUTE_FIRST_BYTE_TIMEOUT": "-1"}, "server.first_byte_timeout"),
        ({"OMNIROUTE_LOG_LEVEL": "loud"}, "server.log_level"),
        ({"OMNIROUTE_CONFIG": "/nonexistent/omniroute.toml"}, "cannot read config file"),
    ],
)
def test_invalid_settings_name_the_option(env: dict[str, str], words: str) -> None:
    with pytest.raises(GatewayError) as info:
        resolve({}, env)
    assert words in info.value.message


def test_config_file_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("not = [toml")
    with pytest.raises(GatewayError, match="not valid TOML"):
        resolve({"config": str(cfg)}, {})
    cfg.write_text("[mystery]\nx = 1\n")
    with pytest.raises(GatewayError, match="mystery"):
        resolve({"config": str(cfg)}, {})
