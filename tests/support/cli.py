"""Running `tenderwatch` as a real subprocess (Scrapy's reactor runs once per process)."""

from __future__ import annotations

import os
import subprocess
import sys

TENDERWATCH = [sys.executable, "-m", "tenderwatch"]


def tenderwatch(
    *args: str, env_extra: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`tenderwatch ARGS` in the current directory and environment (plus `env_extra`), its output kept."""
    return subprocess.run(
        [*TENDERWATCH, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env_extra or {})},
    )
