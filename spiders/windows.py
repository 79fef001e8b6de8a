"""Time windows for window-paged APIs, and how to write them the way the UK services read them.

Both national services read `...From`/`...To` as Europe/London local time with seconds. When the
clocks go back an hour happens twice, so a boundary inside it is widened to cover both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tenderwatch.errors import ConfigError

LONDON = ZoneInfo("Europe/London")
QUERY_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True, order=True)
class Window:
    """A half-open interval [start, end) of update times, in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window boundaries need a time zone")
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def halves(self) -> tuple[Window, Window]:
        middle = (self.start + self.length / 2).replace(microsecond=0)
        return Window(self.start, middle), Window(middle, self.end)

    def query(self) -> tuple[str, str]:
        """(from, to) as UK local times with seconds, widened across a repeated hour."""
        return local_text(self.start, earliest=True), local_text(self.end, earliest=False)

    def __str__(self) -> str:
        start, end = self.start.astimezone(LONDON), self.end.astimezone(LONDON)
        return (
            f"{start:%Y-%m-%d %H:%M} to {end:%H:%M}"
            if start.date() == end.date()
            else f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
        )


def slices(start: datetime, end: datetime, step: timedelta) -> Iterator[Window]:
    """Consecutive windows of at most `step` covering [start, end), oldest first."""
    cursor = start
    while cursor < end:
        following = min(cursor + step, end)
        yield Window(cursor, following)
        cursor = following


def local_text(moment: datetime, *, earliest: bool) -> str:
    """The UK wall-clock time of `moment`; inside a repeated hour, its first (or last) occurrence."""
    local = moment.astimezone(LONDON)
    ambiguous = local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
    if ambiguous:
        # A wall-clock time here names two instants; the server reads one of them. Move the boundary
        # outward by the hour so the window covers both.
        shifted = moment - timedelta(hours=1) if earliest else moment + timedelta(hours=1)
        local = shifted.astimezone(LONDON)
    return local.strftime(QUERY_FORMAT)


def parse_moment(text: str, *, later: bool = False) -> datetime:
    """An ISO date or date-time from the user; without an offset it is UK local time.

    A time in the hour the clocks go back happens twice: it is read as the first, or with `later`
    the second (so a period from and to such times covers both). A time in the hour they go forward
    never happens, and is refused rather than moved.
    """
    text = text.strip()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        local = moment
        moment = local.replace(tzinfo=LONDON, fold=1 if later else 0)
        if moment.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != local:
            raise ConfigError(_skipped_hour(text, local))
    return moment.astimezone(UTC)


def _skipped_hour(text: str, local: datetime) -> str:
    """Why a UK time in the hour the clocks skip is refused, and two ways to write the moment meant."""
    before_change = local.replace(tzinfo=LONDON, fold=0)  # read with the offset of before the change
    after_change = before_change.astimezone(UTC).astimezone(LONDON)
    precision = "seconds" if local.second or local.microsecond else "minutes"
    return (
        f"'{text}' does not exist in UK time: the clocks go forward an hour that night and skip it; "
        f"write {after_change.replace(tzinfo=None).isoformat(timespec=precision)} ({after_change:%Z}) or "
        f"{local.isoformat(timespec=precision)}{before_change.isoformat()[-6:]} ({before_change:%Z}), "
        "which are the same moment"
    )
