"""Docs that are generated from the code stay in step with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_format_tables_are_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_format_tables.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # installed or not
    assert result.returncode == 0, result.stderr
