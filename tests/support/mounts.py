"""Real small and read-only filesystems for the fault tests, where this machine lets us mount them.

A full disk and a read-only store are conditions of the filesystem, so they are made with real mounts
(a tmpfs of a few megabytes; a read-only bind mount) rather than faked. Mounting needs root (or
CAP_SYS_ADMIN): where it is refused, the tests that need it are skipped with the reason, and the
same call sites are still covered by tests that inject the OSError.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "8m") mounted at `path` for the block."""
    path.mkdir(parents=True, exist_ok=True)
    _mount_or_skip(["-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)])
    try:
        yield path
    finally:
        _unmount(path)


def resize(path: Path, size: str) -> None:
    """Give a mounted tmpfs more room, as an operator freeing space would."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True, capture_output=True)


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` as seen through a read-only bind mount (its content unchanged), for the block."""
    view = folder.with_name(folder.name + "-mounted")
    view.mkdir()
    _mount_or_skip(["--bind", str(folder), str(view)])
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True, capture_output=True)
        yield view
    finally:
        _unmount(view)


def _mount_or_skip(arguments: list[str]) -> None:
    try:
        done = subprocess.run(["mount", *arguments], capture_output=True, text=True, check=False)
    except OSError as exc:
        pytest.skip(f"cannot run mount ({exc.strerror}): the injected-error tests cover these call sites")
    if done.returncode != 0:
        said = done.stderr.strip() or f"exit {done.returncode}"
        pytest.skip(
            f"cannot mount here ({said}; needs root): the injected-error tests cover these call sites"
        )


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "--lazy", str(path)], check=False, capture_output=True)
