"""Named locks that processes on one machine (SQLite) or on several (PostgreSQL) use to take turns.

A crawl of a source takes `crawl:<source>`; a digest for a channel takes `digest:<channel>`. Taking a lock
never waits unless asked to: `try_lock` returns None when another process holds it, and `holder` says who.

    with hold(database, "crawl:find_a_tender") as lock:
        if lock is None:
            ...  # someone else is crawling it: say so and move on

How each store does it:

- **PostgreSQL**: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
  kept open while the lock is held. The key is a stable 64-bit hash of the name (BLAKE2b), so every
  worker on every machine computes the same one. The holder is written into that connection's
  `application_name` (`tenderwatch-lock PID SINCE HOST`), readable through `pg_stat_activity`.
- **SQLite**: `fcntl.flock` on `<database file>.locks/<name>.lock`, which holds the holder as JSON
  (read without locking, so looking at a lock never gets in the way of taking it).

Both are released by the operating system or the server when the holding process dies, however it
dies (a kill -9 included): a lock left behind is free for the next process at once. (On PostgreSQL, if
the holder's *machine* vanishes without closing its connection, the server frees the lock when TCP
keepalives notice the connection is dead, or at once with `pg_terminate_backend`.) A lock belongs to
the process that took it: do not hand one to a forked child.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tenderwatch.errors import StoreError

if TYPE_CHECKING:
    from store.db import Database

NAME = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$")
APPLICATION_NAME = "tenderwatch-lock"  # then: pid, since (epoch seconds), host; PostgreSQL keeps 63 bytes


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: the process id and host name, and since when."""

    pid: int | None
    host: str | None
    since: datetime | None

    def describe(self) -> str:
        """E.g. "pid 4242 on bidserver since 14:05" (UK time), for messages."""
        from store.notice import LONDON

        parts = [f"pid {self.pid}" if self.pid else "unknown process"]
        if self.host:
            parts.append(f"on {self.host}")
        if self.since:
            parts.append(f"since {self.since.astimezone(LONDON):%H:%M}")
        return " ".join(parts)


class Lock:
    """A lock this process holds; release it (or leave the `with` block) to let others take it."""

    def __init__(self, name: str, holder: Holder, release: Any):
        self.name = name
        self.holder = holder
        self._release = release

    @property
    def held(self) -> bool:
        return self._release is not None

    def release(self) -> None:
        """Let the lock go; calling it twice is harmless."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<Lock {self.name} {'held' if self.held else 'released'}>"


def try_lock(database: Database, name: str) -> Lock | None:
    """Take the lock `name` if no other process holds it; None at once if one does."""
    _check(name)
    me = Holder(os.getpid(), socket.gethostname(), datetime.now(UTC).replace(microsecond=0))
    if database.dialect == "postgresql":
        return _try_postgres(database, name, me)
    return _try_file(database, name, me)


def acquire(database: Database, name: str, *, timeout: float, poll: float = 0.25) -> Lock | None:
    """Take the lock, waiting up to `timeout` seconds for its holder to let go; None if it did not."""
    deadline = time.monotonic() + timeout
    while True:
        lock = try_lock(database, name)
        if lock is not None or time.monotonic() >= deadline:
            return lock
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


@contextlib.contextmanager
def hold(database: Database, name: str, *, timeout: float = 0) -> Iterator[Lock | None]:
    """`with hold(db, name) as lock:` the lock for the block, or None if another process has it."""
    lock = acquire(database, name, timeout=timeout) if timeout else try_lock(database, name)
    try:
        yield lock
    finally:
        if lock is not None:
            lock.release()


def holder(database: Database, name: str) -> Holder | None:
    """Who holds `name` now, or None if nobody does."""
    _check(name)
    if database.dialect == "postgresql":
        return _postgres_holder(database, name)
    return _file_holder(_lock_dir(database) / f"{name}.lock")


def who_holds(database: Database, name: str) -> str:
    """Who holds `name`, for a message ("pid 4242 on bidserver since 14:05"), or "another process"
    if it was let go meanwhile."""
    found = holder(database, name)
    return found.describe() if found else "another process"


def held_locks(database: Database, names: Iterable[str]) -> dict[str, Holder]:
    """Which of `names` are held now, and by whom (for status displays)."""
    found = {}
    for name in names:
        who = holder(database, name)
        if who is not None:
            found[name] = who
    return found


def key(name: str) -> int:
    """The 64-bit advisory lock key of `name`: the same in every process and on every machine."""
    digest = hashlib.blake2b(f"tenderwatch:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# ---------------------------------------------------------------------------------------------- PostgreSQL


def _try_postgres(database: Database, name: str, me: Holder) -> Lock | None:
    label = f"{APPLICATION_NAME} {me.pid} {int(me.since.timestamp())} {me.host}"[:63]
    # A connection of its own, outside the pool: the lock lives exactly as long as this session.
    engine = create_engine(database.url, poolclass=NullPool, connect_args={"application_name": label})
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key(name)}).scalar()
    except BaseException:
        engine.dispose()
        raise
    if not got:
        connection.close()
        engine.dispose()
        return None

    def release() -> None:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key(name)})
        except DBAPIError:
            pass  # the server is gone, and the lock with its session
        finally:
            connection.close()  # ending the session frees the lock even if the unlock failed
            engine.dispose()

    return Lock(name, me, release)


def _postgres_holder(database: Database, name: str) -> Holder | None:
    # A bigint advisory lock shows in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1.
    unsigned = key(name) & 0xFFFFFFFFFFFFFFFF
    query = text(
        """
        SELECT a.application_name, a.backend_start
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid::bigint = :high AND l.objid::bigint = :low
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    )
    with database.engine.connect() as connection:
        row = connection.execute(query, {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF}).first()
    if row is None:
        return None
    parts = (row.application_name or "").split(" ", 3)
    if len(parts) == 4 and parts[0] == APPLICATION_NAME and parts[1].isdigit() and parts[2].isdigit():
        return Holder(int(parts[1]), parts[3], datetime.fromtimestamp(int(parts[2]), UTC))
    return Holder(None, None, row.backend_start)  # locked by something other than tenderwatch's locks


# ---------------------------------------------------------------------------------------------- SQLite

_memory_dir: Path | None = None


def _lock_dir(database: Database) -> Path:
    """`<database file>.locks/` next to the file (a temporary directory for an in-memory database)."""
    global _memory_dir  # noqa: PLW0603 - one directory per process for in-memory databases
    path = make_url(database.url).database
    if not path or path == ":memory:":
        if _memory_dir is None:
            _memory_dir = Path(tempfile.mkdtemp(prefix="tenderwatch-locks-"))
        return _memory_dir
    return Path(path).expanduser().resolve().with_name(Path(path).name + ".locks")


def _try_file(database: Database, name: str, me: Holder) -> Lock | None:
    directory = _lock_dir(database)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # The file is never deleted (that would let two processes lock two different files of one
        # name); only its content changes.
        fd = os.open(directory / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:  # a read-only or full store folder: one line, not a traceback
        raise StoreError(_unwritable(directory, exc, f"cannot take the lock '{name}'")) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    record = {"pid": me.pid, "host": me.host, "since": me.since.isoformat()}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
    except OSError as exc:
        os.close(fd)  # lets the lock go again
        raise StoreError(_unwritable(directory, exc, f"cannot take the lock '{name}'")) from exc

    def release() -> None:
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the file releases the flock

    return Lock(name, me, release)


def _unwritable(folder: Path, exc: OSError, what: str) -> str:
    """One line for a store folder the system refused to write: what failed, where, why, what to do."""
    return (
        f"{what}: {folder}: {exc.strerror or exc} (the store's folder must be writable by this user, "
        "with free space)"
    )


def _file_holder(path: Path) -> Holder | None:
    # Read without locking: a reader must never make a process that is taking the lock fail to.
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    if not content:
        return None  # released (or just taken and not yet written)
    try:
        record = json.loads(content)
        who = Holder(int(record["pid"]), str(record["host"]), datetime.fromisoformat(record["since"]))
    except (ValueError, KeyError, TypeError):
        return Holder(None, None, None)
    if who.host == socket.gethostname() and not _alive(who.pid):
        return None  # its holder died: the lock is free, only the note remains
    return who


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _check(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"lock name {name!r}: use letters, digits, '_', '.', '-' and ':' separators")
    return name
