"""The `tenderwatch` command: thin wrappers that turn arguments into calls of the packages.

Exit codes: 0 success; 1 a source or channel failed (the rest still ran); 2 bad usage, config or input.
Each module registers its commands on the group defined in base.
"""

from tenderwatch.cli import db, digest, notices, schedule, scoring  # noqa: F401 - registers the commands
from tenderwatch.cli.base import cli


def main() -> None:
    cli(prog_name="tenderwatch")
