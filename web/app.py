"""`tenderwatch web`: the bid team's page on the store, a Flask application.

Server-rendered HTML in the digest's look, no script. The pages: the inbox (matches, with filters
in the URL), a notice (everything `show` and `explain` print, with the team's decisions), the
decisions list (and its CSV), the rules (edit, check, try, publish, return to an earlier version),
and sources and digests (what `status` says, and the next digest as it will be sent).
Security is web.security's; the queries are the store's, shared with the commands.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from scoring.profile import Profile
from store.db import Database
from store.models import NoticeRow
from store.profiles import live_profile, published
from store.scores import rescore
from store.users import session_valid, user_count
from tenderwatch.config import Config
from web import filters, security

logger = logging.getLogger("tenderwatch")


@dataclass
class Live:
    """The live rules of each profile, loaded once per published version (or rules file change)."""

    config: Config
    database: Database
    _loaded: dict[str, tuple[tuple[Any, ...], Profile]] = field(default_factory=dict)
    _scored: tuple[Any, ...] | None = None  # (rules hash, store state) at the last rescore

    @property
    def name(self) -> str:
        """The profile the page serves: the default one."""
        return self.config.scoring.default_profile

    def profile(self, name: str | None = None) -> Profile:
        """The live rules of `name` (store.profiles.live_profile), reloaded only when they change."""
        name = name or self.name
        key = self._version_key(name)
        loaded = self._loaded.get(name)
        if loaded is None or loaded[0] != key + _words_key(loaded[1]):
            profile = live_profile(self.database, self.config.scoring, name)
            loaded = key + _words_key(profile), profile
            self._loaded[name] = loaded
        return loaded[1]

    def _version_key(self, name: str) -> tuple[Any, ...]:
        with self.database.reading() as session:
            version = published(session, name)
        if version is not None:
            return ("published", version.number)
        path = self.config.scoring.profile_path(name)
        return ("file", str(path), path.stat().st_mtime_ns)

    def rescore(self) -> int:
        """Bring every stored score under the live rules up to date (new notices, changed rules)."""
        profile = self.profile()
        before = self._store_state()
        with self.database.writing() as session:
            count = rescore(session, profile)
        self._scored = (profile.hash, before)
        return count

    def ensure_scored(self) -> None:
        """Rescore only if a notice was stored or changed, or the rules changed, since the last time:
        finding stale scores reads every notice, which a page cannot afford on each request."""
        if self._scored != (self.profile().hash, self._store_state()):
            self.rescore()

    def _store_state(self) -> tuple[Any, ...]:
        with self.database.reading() as session:
            return tuple(
                session.execute(
                    select(func.count(NoticeRow.id), func.max(NoticeRow.id), func.max(NoticeRow.changed_at))
                ).one()
            )


def create_app(config: Config, database: Database) -> Flask:
    """The application over `config` and an open store, its scores brought up to date."""
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.jinja_env.autoescape = True  # every template: notice text is untrusted
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    filters.install(app)
    live = Live(config, database)
    app.extensions["tenderwatch"] = {"config": config, "database": database, "live": live}

    def users_exist() -> bool:
        with database.reading() as session:
            return user_count(session) > 0

    def signed_session_valid(name: str, key: str | None) -> bool:
        with database.reading() as session:
            return session_valid(session, name, key)

    security.install(app, config, users_exist, signed_session_valid)
    from web import pages, rules

    pages.register(app)
    rules.register(app)
    live.rescore()
    return app


def keep_scored(live: Live, every_seconds: float = 60) -> Callable[[], None]:
    """Score newly crawled notices every minute in the background (the inbox reads stored bands);
    returns a function that stops it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_seconds):
            try:
                live.ensure_scored()
            except Exception as exc:  # a busy or full store: the next minute tries again
                logger.warning("web: scoring new notices failed (%s); trying again in a minute", exc)

    threading.Thread(target=loop, name="tenderwatch-web-rescore", daemon=True).start()
    return stop.set


def _words_key(profile: Profile) -> tuple[Any, ...]:
    """When the profile's learned words file last changed (`rules learn` rewrites it in place, and
    the daemon scores with the new words from its next run): the page must not score with the old."""
    if profile.learned is None:
        return ()
    try:
        return (profile.learned.words.stat().st_mtime_ns,)
    except OSError:
        return ("missing",)
