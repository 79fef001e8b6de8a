"""The same procurement on two services, found by evidence (see store.opportunities)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session


def match_procurements(session: Session, procurements: Sequence[str], now: datetime) -> int:
    """Merge each of these procurements into the same procurement on another service, if evidence
    shows one; returns how many were merged."""
    return 0


def match_all(session: Session, now: datetime) -> int:
    """Match every stored procurement (after an upgrade); returns how many were merged."""
    return 0
