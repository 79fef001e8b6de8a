"""Writing a file whole or not at all: what the bid manager opens is never a truncated half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")


def undecodable_line(exc: UnicodeDecodeError) -> int:
    """The line (from 1) of the first byte of a file that is not UTF-8, for saying where to look."""
    return bytes(exc.object).count(b"\n", 0, exc.start) + 1


def write_whole(path: Path, write: Callable[[IO[str]], T], *, encoding: str = "utf-8") -> T:
    """Write through a hidden `.part` file beside `path`, then put it in place.

    A failure (a full disk, a read-only folder) raises the OSError and leaves nothing new behind:
    no part file, and any old file at `path` whole.
    """
    handle, part = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with open(handle, "w", encoding=encoding, newline="") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())  # a full disk can refuse the data only when it is flushed
        os.replace(part, path)
    except BaseException:
        os.unlink(part)
        raise
    return result
