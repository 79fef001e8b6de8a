"""The deployment files: a systemd unit systemd accepts, and crontab lines that call real commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenderwatch.cli import cli

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed: apt-get install systemd to check the unit file",
)
@pytest.mark.parametrize(
    ("name", "command"), [("tenderwatch.service", "daemon"), ("tenderwatch-web.service", "web")]
)
def test_the_systemd_unit_is_valid(tmp_path, name, command):
    unit = (DEPLOY / name).read_text()
    tenderwatch = Path(sys.executable).parent / "tenderwatch"
    assert f"ExecStart=/opt/tenderwatch/.venv/bin/tenderwatch {command}\n" in unit
    # Checked as installed on this machine: the real executable, and a user that exists here.
    local = (
        unit.replace("/opt/tenderwatch/.venv/bin/tenderwatch", str(tenderwatch))
        .replace("User=tenderwatch", "User=root")
        .replace("Group=tenderwatch", "Group=root")
    )
    path = tmp_path / name
    path.write_text(local)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, check=False
    )
    problems = [line for line in result.stderr.splitlines() if name in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_crontab_lines_call_real_commands():
    commands = set(cli.commands)
    lines = [line.lstrip("# ") for line in (DEPLOY / "crontab.example").read_text().splitlines()]
    called = [
        line.split("/bin/tenderwatch ", 1)[1].split()[0] for line in lines if "/bin/tenderwatch " in line
    ]
    assert called == ["run", "crawl", "digest"]
    assert set(called) <= commands
