"""The people who may sign in to `tenderwatch web`: names and argon2 hashes of their passwords.

argon2id (argon2-cffi's defaults, RFC 9106's second recommended setting) is slow and salted, so a
copied store does not give the passwords away cheaply. Each user has a session key that every signed
session carries: setting the password again or signing out replaces it, which ends every session
signed before (a signed cookie is otherwise valid until it expires, wherever it was copied to).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import WebUser, utcnow
from tenderwatch.errors import InputError

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Checked when the name is unknown, so a wrong name takes as long as a wrong password.
_UNKNOWN = _HASHER.hash("no such user: a hash to check against")


def check_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise InputError(
            f"'{name}' cannot be a user name: use letters, digits, '.', '_', '@' or '-' (at most 80)"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must be at least {MIN_PASSWORD} characters; choose a longer one")
    return password


def add_user(session: Session, name: str, password: str, *, now: datetime | None = None) -> bool:
    """Add a user, or set a known user's password; True if the user is new."""
    hashed = _HASHER.hash(check_password(password))
    user = session.scalars(select(WebUser).where(WebUser.name == check_name(name))).first()
    if user is not None:
        user.password_hash, user.session_key = hashed, _new_key()
        return False
    session.add(WebUser(name=name, password_hash=hashed, created_at=now or utcnow(), session_key=_new_key()))
    return True


def remove_user(session: Session, name: str) -> bool:
    user = session.scalars(select(WebUser).where(WebUser.name == name)).first()
    if user is None:
        return False
    session.delete(user)
    return True


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(WebUser)) or 0


def user_names(session: Session) -> list[str]:
    return list(session.scalars(select(WebUser.name).order_by(WebUser.name)))


def authenticate(session: Session, name: str, password: str) -> WebUser | None:
    """The user if the password is theirs, else None (in about the same time either way)."""
    user = session.scalars(select(WebUser).where(WebUser.name == name)).first()
    try:
        _HASHER.verify(user.password_hash if user else _UNKNOWN, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def start_visit(user: WebUser) -> tuple[datetime | None, str]:
    """Record a new visit by `user`: (when the previous one started, None the first time; the session
    key the new session carries)."""
    previous, user.last_visit_at = user.last_visit_at, utcnow()
    user.session_key = user.session_key or _new_key()  # a user added before session keys existed
    return previous, user.session_key


def session_valid(session: Session, name: str, key: str | None) -> bool:
    """Whether a session signed for `name` with `key` still stands: the user is there, with that key."""
    found = session.scalar(select(WebUser.session_key).where(WebUser.name == name))
    return bool(found and key) and secrets.compare_digest(found, key)


def end_sessions(session: Session, name: str) -> None:
    """Sign `name` out everywhere: every session carrying the current key ends."""
    user = session.scalars(select(WebUser).where(WebUser.name == name)).first()
    if user is not None:
        user.session_key = _new_key()


def _new_key() -> str:
    return secrets.token_urlsafe(32)
