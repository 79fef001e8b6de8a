"""The `tenderwatch` command: thin wrappers that turn arguments into calls of the packages.

Exit codes: 0 success; 1 a source, a channel or the database failed (the rest still ran), or `status`
found a problem; 2 bad usage, config or input.
Each module registers its commands on the group defined in base.
"""

import atexit
import gc
import os

from tenderwatch.cli import (  # noqa: F401 - registers the commands
    db,
    digest,
    notices,
    opportunities,
    schedule,
    scoring,
    web,
)
from tenderwatch.cli.base import cli


def main() -> None:
    # What is loaded by now lives until exit, so the collector need not walk it again. At exit,
    # CPython's last collections walk the whole heap (Scrapy, Twisted, SQLAlchemy): about 0.25 s
    # of every crawl. Freezing first skips that; the operating system frees the memory anyway.
    gc.freeze()
    atexit.register(gc.freeze)
    # The store, digests and exports hold contact details (personal data): readable by their owner
    # alone, whatever the shell's umask (a stricter one is kept).
    os.umask(os.umask(0) | 0o077)
    cli(prog_name="tenderwatch")
