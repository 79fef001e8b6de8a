"""Opening the database: engines, transactions, and the schema version (Alembic).

SQLite is set up so a cron crawl and a daemon can share one file: WAL, a busy timeout, and
`BEGIN IMMEDIATE` for writers, which takes the write lock up front instead of failing half-way when
a read transaction tries to become a write (measured: 0 "database is locked" errors against 72-110).
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import Session, sessionmaker

from tenderwatch.errors import ConfigError, StoreError

logger = logging.getLogger("tenderwatch.store")
MIGRATIONS = Path(__file__).parent / "migrations"
PROBE_BYTES = 64 * 1024  # a few of SQLite's pages: less free space than this and a crawl cannot store one
# What to do about the failures an operator can fix, after the database's own words.
FAILURE_HINTS = {
    "disk is full": "; free some space on the store's disk, and run it again: nothing stored is lost",
    "readonly database": "; the store's file and folder must be writable by this user",
}
UNPARSEABLE = "(unparseable URL)"  # never echo a URL we cannot parse: it may hold a password
# JSON columns (CPV codes, regions, lots, reasons) are written on every notice stored: orjson is fast.
JSON_CODEC = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}
# The newest migration. Checked against Alembic by a test; lets a current database open without
# loading Alembic at all (a third of a second on every cron run).
SCHEMA_REVISION = "0016"
# Revisions that read something new from releases, and the text a release must hold for its notice
# to need compiling again. An upgrade from before one of them compiles those notices again from their
# releases, in the upgrade's transaction. A later normalisation change adds a revision and an entry.
EVERY_RELEASE = ""  # held by every release: each stored notice is compiled again
RECOMPILE_AFTER = {
    "0006": "futureNoticeDate",
    "0007": "/v1/Notice?id=",
    "0008": EVERY_RELEASE,  # end-of-day deadlines, placeholder values, repaired mojibake
    "0009": EVERY_RELEASE,  # notices.details: clarification deadline, contract period, award criteria, ...
    "0012": EVERY_RELEASE,  # references to other services, and the contracts of award notices
    "0014": EVERY_RELEASE,  # markup in text, planning-and-tender releases, ends at 23:59:59, gross values
    "0015": "minValue",  # the lower end of a value range (details.value_from)
    "0016": "amountGross",  # values stated gross only: 0014's first release did not mark them
}
# Sources whose every stored notice an upgrade past the revision compiles again (their normaliser
# read something better: Proactis times as UK clock time, Digital Outcomes amounts, CCS awards).
RECOMPILE_SOURCES_AFTER = {
    "0013": ("public_contracts_scotland", "sell2wales", "crown_commercial_service", "digital_outcomes"),
}
# The revision that brought opportunities: an upgrade from before it matches the stored procurements
# across services (store.matching.match_all) once every notice has its own opportunity.
OPPORTUNITIES_REVISION = "0012"
# Seconds a SQLite writer waits for another to finish before giving up (a cron crawl and the daemon).
BUSY_TIMEOUT = 30


class Database:
    """An engine plus the two kinds of transaction tenderwatch uses."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back (nothing half-written) on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def trying(self) -> Iterator[Session]:
        """A write transaction that is always rolled back: to see what rules being tried would do
        (scores written, queries run on them) while nothing stays in the store."""
        with self._sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._sessions() as session:
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            yield session

    def upgrade(self) -> None:
        """Apply pending migrations; safe to run on every start (a no-op when current).

        Safe when several processes start at once: one migrates while the others wait, then find
        nothing left to do (Alembic reads the version inside the transaction). SQLite's BEGIN IMMEDIATE
        already serialises them; on PostgreSQL a transaction-level advisory lock does.
        """
        found = self.current_revision()
        if found == SCHEMA_REVISION:
            return
        if found is not None and found > SCHEMA_REVISION:  # revisions are numbered 0001, 0002, ...
            raise StoreError(
                f"the database at {_safe(self.url)} is at schema {found}, newer than this tenderwatch "
                f"knows ({SCHEMA_REVISION}): upgrade tenderwatch, or point it at another database"
            )
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                from store.locks import key

                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key("schema-upgrade")})
            # Read again under the lock: another process may have upgraded it meanwhile.
            before = MigrationContext.configure(connection).get_current_revision()
            config = _alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            if before is not None:
                mentioning = [text for revision, text in RECOMPILE_AFTER.items() if before < revision]
                sources = {
                    s
                    for revision, named in RECOMPILE_SOURCES_AFTER.items()
                    if before < revision
                    for s in named
                }
                if mentioning or sources:
                    _recompile_notices(connection, mentioning, sources)
                if before < OPPORTUNITIES_REVISION:
                    _match_stored_procurements(connection)

    def current_revision(self) -> str | None:
        """The schema's revision, or None for a new, empty database."""
        # A reader: it must not wait behind a writer (SQLite's WAL lets it read at once).
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as connection:
            try:
                return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except (OperationalError, ProgrammingError) as exc:
                if _no_such_table(exc):
                    return None
                raise

    def search_locale_problem(self) -> str | None:
        """Why PostgreSQL's search would split words differently from SQLite's, or None.

        Under a C character locale (LC_CTYPE), PostgreSQL keeps a symbol joined to the next word
        ("•review" is one word), so bulleted descriptions are not found by their words.
        """
        if self.dialect != "postgresql":
            return None
        with self.engine.connect() as connection:
            ctype = connection.execute(
                text("SELECT datctype FROM pg_database WHERE datname = current_database()")
            ).scalar()
        if ctype not in ("C", "POSIX"):
            return None
        return (
            f"the database's character locale (LC_CTYPE) is {ctype}, so search misses words joined to "
            "symbols (a bulleted '•review'); create it with a UTF-8 one, e.g. CREATE DATABASE tenderwatch "
            "LC_CTYPE 'C.UTF-8' TEMPLATE template0, and move the store with `tenderwatch db copy`"
        )

    def close(self) -> None:
        self.engine.dispose()


def _recompile_notices(connection: Connection, mentioning: list[str], sources: set[str]) -> None:
    """Compile again the stored notices whose releases mention what the new schema reads, and every
    stored notice of `sources`."""
    from store.ingest import compiled_notice_ids, recompile_in_batches
    from store.queries import sources_with_releases

    every = EVERY_RELEASE in mentioning
    with Session(bind=connection) as session:
        for source in sources_with_releases(session):
            if every or source in sources:
                notice_ids = compiled_notice_ids(session, source)
            elif mentioning:
                notice_ids = compiled_notice_ids(session, source, mentioning=mentioning)
            else:
                continue
            done = recompile_in_batches(lambda: nullcontext(session), source, notice_ids)  # one transaction
            logger.info("%s: %d stored notices compiled again for the new schema", source, len(done.keys))
        session.flush()


def _match_stored_procurements(connection: Connection) -> None:
    from store.matching import match_all
    from store.models import utcnow

    with Session(bind=connection) as session:
        merged = match_all(session, utcnow())
        session.flush()
    logger.info("%d procurements found on two services and merged into one opportunity", merged)


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the store, creating or upgrading its schema, or explain why it cannot be used."""
    with opening(url):
        database = Database(url)
        if migrate:
            database.upgrade()
        elif database.current_revision() != SCHEMA_REVISION:
            raise StoreError(
                f"the database at {_safe(url)} is not at the current schema: "
                "run `tenderwatch db upgrade` first"
            )
    return database


@contextmanager
def opening(url: str) -> Iterator[None]:
    """The database's own reason, in one line, when it cannot be opened (a StoreError, no traceback)."""
    try:
        yield
    except OperationalError as exc:
        # SQLite says "unable to open database file" for a store it could read but not write beside.
        why = sqlite_write_problem(url) or _one_line(exc.orig)
        raise StoreError(f"cannot open the database at {_safe(url)}: {why}") from None
    except DatabaseError as exc:
        hint = ""
        if make_url(url).get_backend_name() == "sqlite":  # e.g. "file is not a database"
            hint = "; is this the right file? (TENDERWATCH_DB_URL or [store] url)"
        raise StoreError(f"cannot open the database at {_safe(url)}: {_one_line(exc.orig)}{hint}") from None


def _no_such_table(exc: DatabaseError) -> bool:
    """Whether the error says a table does not exist (SQLite's words, or PostgreSQL's code 42P01)."""
    return "no such table" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "42P01"


def head_revision() -> str | None:
    """The newest migration according to Alembic's scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("")).get_current_head()


_AT_HINT = "; an '@' in the password must be written %40"
CONFIGURED = "TENDERWATCH_DB_URL or [store] url"  # where the store's URL is given, for messages


def parse_url(url: str, where: str = CONFIGURED) -> URL:
    """The database URL, or a configuration error saying what one looks like and `where` it was given."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        shown = _safe(url)
        shown = (
            f"'{shown}' is not a database URL" if shown != UNPARSEABLE else "the database URL is malformed"
        )
        raise ConfigError(
            f"{shown}{_AT_HINT if url.count('@') > 1 else ''}: use sqlite:///PATH or "
            f"postgresql+psycopg://USER@HOST/DB ({where})"
        ) from None
    except ImportError:
        pass  # a known database whose driver is missing: make_engine says so
    if "@" in (parsed.host or ""):
        # A password with an '@' in it splits the URL in the wrong place; the "host" is then the rest
        # of the password, so it must not be echoed.
        raise ConfigError(f"the database URL is malformed{_AT_HINT} ({where})")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"'{_safe(url)}': tenderwatch stores notices in SQLite or PostgreSQL; use sqlite:///PATH or "
            f"postgresql+psycopg://USER@HOST/DB ({where})"
        )
    return parsed


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, if it does not exist (opening the store would create it)."""
    path = _sqlite_file(parse_url(url))
    return path if path and not path.is_file() else None


def sqlite_write_problem(url: str) -> str | None:
    """Why a SQLite store cannot be written now (a read-only mount, a full disk), or None if it can.

    Tried, not guessed: a little data is written (and removed) beside the file, where SQLite keeps
    its journal and tenderwatch its locks. A crawl that fails on such a store cannot record why, so
    `status` looks for itself. The file itself is only asked about, never opened: closing any handle
    to it would drop this process's SQLite locks (POSIX locks belong to the process), and another
    program closing the store would then delete the write-ahead log still in use here.
    """
    path = _sqlite_file(parse_url(url))
    if path is None or not path.is_file():
        return None
    try:
        with tempfile.TemporaryFile(dir=path.parent) as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return _cannot_write(path.parent, exc.strerror or str(exc))
    if not os.access(path, os.W_OK):
        return _cannot_write(path, os.strerror(errno.EACCES))
    return None


def _cannot_write(where: Path, why: str) -> str:
    return (
        f"the store cannot be written: {where}: {why}; crawls and digests fail until it can (free some "
        "space, or check the folder's mount and permissions for this user)"
    )


def _sqlite_file(parsed: URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def make_engine(url: str) -> Engine:
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(url, pool_pre_ping=True, hide_parameters=True, **JSON_CODEC)
        except ImportError as exc:
            raise StoreError(
                f"{parsed.drivername} needs a driver that is not installed ({exc.name}): for PostgreSQL, "
                "pip install 'tenderwatch[postgres]' and use postgresql+psycopg://USER@HOST/DB"
            ) from None
    if path := _sqlite_file(parsed):
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database's folder {folder}: {exc.strerror}") from None
    # hide_parameters: a failed statement's values (raw releases with contact details) never reach a log.
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT}, hide_parameters=True, **JSON_CODEC)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _switch_to_wal(cursor)  # the busy timeout is already set: sqlite3's `timeout` (make_engine)
    for pragma in ("synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (it stays so), waiting for other processes as long as a busy lock would.

    Processes opening a new store at once race to switch it; SQLite tells a loser "database is
    locked" at once, without waiting for the busy timeout (its deadlock rule), so try again.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_sqlite(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _alembic_config(url: str) -> Any:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def database_failure(exc: DBAPIError) -> str:
    """What the database said, in one line, without the statement or its values (notice data)."""
    said = _one_line(exc.orig)
    if said == "database is locked":  # SQLite, after the busy timeout
        return (
            f"the store is busy: another process has been writing to it for over {BUSY_TIMEOUT} s "
            "(a long crawl?); try again when it has finished"
        )
    hint = next((hint for words, hint in FAILURE_HINTS.items() if words in said), "")
    return f"the database failed: {said}{hint}"


def _one_line(error: BaseException | None) -> str:
    return " ".join(str(error).split())  # PostgreSQL's messages add hints on lines of their own


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # whatever the parser trips on, the URL is not shown
        return UNPARSEABLE
