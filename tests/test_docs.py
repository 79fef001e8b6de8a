"""The README and the example configuration must match the code."""

from __future__ import annotations

from pathlib import Path

import click

from tenderwatch import config as configuration
from tenderwatch.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def command_names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix}{name} ")
    return names


def test_every_command_is_in_the_readme_and_has_help():
    for name in command_names(cli):
        assert f"tenderwatch {name}" in README, f"`tenderwatch {name}` is not documented in README.md"
        command = cli
        for part in name.split():
            command = command.commands[part]
        assert command.help and len(command.help) > 20, f"`tenderwatch {name}` needs a helpful --help"


def test_the_example_config_is_valid_and_documents_every_environment_variable(env, monkeypatch):
    loaded = configuration.load(ROOT / "tenderwatch.example.toml")
    assert set(loaded.sources) == set(configuration.SOURCE_DEFAULTS)
    for source in configuration.SOURCE_DEFAULTS:
        for suffix in ("URL", "DELAY"):
            assert f"TENDERWATCH_{source.upper()}_{suffix}" in README


def test_the_quick_start_is_exactly_two_commands():
    quick_start = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in quick_start.strip().splitlines()] == [
        "./dev run",
        "./dev test",
    ]
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()
