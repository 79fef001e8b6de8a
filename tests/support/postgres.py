"""A throwaway PostgreSQL server for the tests, started from the installed binaries (like pytest-postgresql).

One server per test session, listening on 127.0.0.1 only, with trust authentication and fsync off; each
test gets a fresh database copied from a template that already holds the current schema (a copy takes
milliseconds, a migration a second). TENDERWATCH_TEST_POSTGRES_URL points the tests at a server you own
instead (the role needs CREATEDB); their databases are named tenderwatch_test_* and dropped afterwards.

initdb refuses to run as root, so as root (the sandbox, CI containers) the server runs as the `postgres`
system user that Debian's postgresql package creates.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url

URL_VARIABLE = "TENDERWATCH_TEST_POSTGRES_URL"
HOW_TO_RUN = (
    "PostgreSQL binaries not found: install Debian's postgresql package (apt-get install postgresql) "
    f"or set {URL_VARIABLE} to a server you own"
)


# Read when the tests are collected: the `env` fixture clears every TENDERWATCH_* variable before a test.
CONFIGURED_URL = os.environ.get(URL_VARIABLE)  # noqa: TID251 - a test setting, not tenderwatch configuration


class Unavailable(Exception):
    """No PostgreSQL server can be used; the message says how to get one."""


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: pg_config's, Debian's newest, or PATH's."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(bindir))
        except (OSError, subprocess.SubprocessError):
            pass
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name), reverse=True
    )
    candidates += [Path(path) for path in debian]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if all((candidate / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return candidate
    return None


class Server:
    """A PostgreSQL server that tests may create and drop databases on."""

    def __init__(self, admin_url: str, *, stop: Callable[[], None] | None = None):
        # admin_url: a psycopg conninfo URL (postgresql://...) of a database to connect to for admin work.
        self.admin_url = admin_url
        self._stop = stop
        self._names = (f"tenderwatch_test_{os.getpid()}_{n}" for n in itertools.count(1))
        self._admin = psycopg.connect(admin_url, autocommit=True)
        self._template: str | None = None
        self._kept: list[str] = []  # databases to copy from (the template among them), dropped on close

    def sqlalchemy_url(self, database: str) -> str:
        url = make_url(self.admin_url).set(drivername="postgresql+psycopg", database=database)
        return url.render_as_string(hide_password=False)

    def create_database(self, template: str | None = None, *, ctype: str | None = None) -> str:
        """A new empty database (or a copy of `template`, or with character locale `ctype`); its name."""
        name = next(self._names)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if ctype:
            statement += sql.SQL(" LC_CTYPE {} TEMPLATE template0").format(sql.Literal(ctype))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self._admin.execute(statement)
        return name

    def migrated_database(self) -> str:
        """A new database at the current schema, copied from a template migrated once per session."""
        if self._template is None:
            from store.db import open_database

            template = self.create_database()
            open_database(self.sqlalchemy_url(template)).close()  # a template must have no connections
            self._template = template
            self._kept.append(template)
        return self.create_database(self._template)

    def kept_database(self) -> str:
        """A new database at the current schema, kept until the server closes (to fill and copy)."""
        name = self.migrated_database()
        self._kept.append(name)
        return name

    def replace_with_copy(self, name: str, template: str) -> None:
        """Database `name` made again as a copy of `template`; refused while `name` has connections."""
        self._admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        names = sql.Identifier(name), sql.Identifier(template)
        self._admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(*names))

    def drop_database(self, name: str) -> None:
        self._admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        try:
            for name in self._kept:
                self.drop_database(name)
        finally:
            self._admin.close()
            if self._stop:
                self._stop()


def start() -> Server:
    """The server named by TENDERWATCH_TEST_POSTGRES_URL, else a throwaway one; raises Unavailable."""
    existing = CONFIGURED_URL
    if existing:
        url = make_url(existing).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            return Server(url)
        except psycopg.Error as exc:
            raise Unavailable(f"cannot connect to {URL_VARIABLE}: {exc}") from None
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(HOW_TO_RUN)
    return _throwaway(bindir)


def _throwaway(bindir: Path) -> Server:
    run_as: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None or _no_user("postgres"):
            raise Unavailable(
                "running as root, and initdb refuses to: create a 'postgres' system user (Debian's "
                f"postgresql package does) or set {URL_VARIABLE} to a server you own"
            )
        run_as = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="tenderwatch-postgres-"))
    if run_as:
        shutil.chown(base, user="postgres")
    data, log = base / "data", base / "server.log"

    def pg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*run_as, *args], capture_output=True, text=True, timeout=120, check=False)

    # A UTF-8 character locale, as distributions' clusters have: under plain C, PostgreSQL's text search
    # keeps a bullet joined to the next word ("•review"). Collation stays C, fast and predictable.
    for ctype in ("C.UTF-8", "en_US.UTF-8", "C"):  # the first this machine has (macOS lacks C.UTF-8)
        initialised = pg(
            str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", f"--lc-ctype={ctype}", "--no-sync",
        )  # fmt: skip
        if initialised.returncode == 0:
            break
    if initialised.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise Unavailable(f"initdb failed: {initialised.stderr.strip()[-500:]}")

    def stop() -> None:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)

    for _attempt in range(5):  # a free port can be taken between the probe and the start
        port = _free_port()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={port}",
                f"-c unix_socket_directories={base}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c deadlock_timeout=200ms",
            ]
        )
        started = pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        if started.returncode == 0:
            break
        time.sleep(0.2)
    else:
        tail = log.read_text(errors="replace")[-800:] if log.exists() else started.stderr
        shutil.rmtree(base, ignore_errors=True)
        raise Unavailable(f"the throwaway PostgreSQL server did not start: {tail.strip()}")
    try:
        return Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", stop=stop)
    except psycopg.Error as exc:
        stop()
        raise Unavailable(f"the throwaway PostgreSQL server does not answer: {exc}") from None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _no_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False
