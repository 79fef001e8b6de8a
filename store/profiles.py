"""Published versions of the scoring rules, kept in the store; the newest is the one scoring uses.

`tenderwatch web` publishes a profile's rules here (after validating them) instead of writing its
rules file: every version is kept with who published it and when, and returning to an earlier one
publishes its text again. Until a profile has a published version, its configured rules file is used.
Every command that scores (digests, notices, explain, backtest, the daemon) asks `live_profile`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scoring.profile import Profile, configured_profile, load_profile_text
from store.db import Database
from store.models import ProfileVersion, utcnow
from tenderwatch.config import ScoringConfig


def version_label(profile: str, number: int) -> str:
    """How a published version is named in errors, where a rules file's path would be."""
    return f"published version {number} of profile {profile}"


def published(session: Session, profile: str) -> ProfileVersion | None:
    """The live published version of `profile`, or None while its rules file is used."""
    query = select(ProfileVersion).where(ProfileVersion.profile == profile)
    return session.scalars(query.order_by(ProfileVersion.number.desc()).limit(1)).first()


def versions(session: Session, profile: str) -> list[ProfileVersion]:
    """Every published version of `profile`, newest first."""
    query = select(ProfileVersion).where(ProfileVersion.profile == profile)
    return list(session.scalars(query.order_by(ProfileVersion.number.desc())))


def version(session: Session, profile: str, number: int) -> ProfileVersion | None:
    query = select(ProfileVersion).where(ProfileVersion.profile == profile, ProfileVersion.number == number)
    return session.scalars(query).first()


def publish(
    session: Session,
    profile: str,
    rules: str,
    by: str,
    note: str | None = None,
    *,
    folder: Path | None = None,
    now: datetime | None = None,
) -> ProfileVersion:
    """Make `rules` the live rules of `profile` (validated first: a ProfileError publishes nothing);
    `folder` is where its rules file is, for a learned words file named beside it."""
    number = (
        session.scalar(select(func.max(ProfileVersion.number)).where(ProfileVersion.profile == profile)) or 0
    ) + 1
    load_profile_text(rules, profile, version_label(profile, number), folder)
    row = ProfileVersion(
        profile=profile, number=number, rules=rules, published_by=by, published_at=now or utcnow(), note=note
    )
    session.add(row)
    session.flush()
    return row


def live_profile(database: Database, config: ScoringConfig, name: str | None = None) -> Profile:
    """The rules scoring uses for profile `name` (default: the configured default): its newest
    published version, else its configured rules file."""
    name = name or config.default_profile
    config.profile_path(name)  # an unknown name fails as it always has
    with database.reading() as session:
        live = published(session, name)
        text, number = (live.rules, live.number) if live else (None, 0)
    if text is None:
        return configured_profile(config, name)
    return load_profile_text(text, name, version_label(name, number), config.profile_path(name).parent)


def live_rules_text(database: Database, config: ScoringConfig, name: str) -> tuple[str, int | None]:
    """The live rules of `name` as text, and its published version number (None: the rules file)."""
    with database.reading() as session:
        live = published(session, name)
        if live is not None:
            return live.rules, live.number
    return config.profile_path(name).read_text(encoding="utf-8"), None
