"""The one place that reads configuration: a TOML file, then TENDERWATCH_* environment variables.

Precedence, lowest first: built-in defaults, the config file, the environment, command-line flags
(applied by the CLI on the returned object). Every value is validated here, so a mistake is reported
once, at start-up, with the file and key that caused it.

The file is found at ``--config``, else ``$TENDERWATCH_CONFIG``, else ``./tenderwatch.toml``, else
``~/.config/tenderwatch/tenderwatch.toml``; without one the built-in defaults run everything.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tenderwatch import __version__
from tenderwatch.errors import ConfigError
from tenderwatch.files import undecodable_line

ENV_PREFIX = "TENDERWATCH_"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")  # ${NAME} in a channel URL

# Live services and delays that keep under their published limits: Find a Tender allows about
# 12 requests per rolling 120 s (11 s apart stays under it); Contracts Finder blocks for 5 minutes
# when pushed, and observers stayed safe at 10 s.
SOURCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "find_a_tender": {"url": "https://www.find-tender.service.gov.uk", "delay": 11.0},
    "contracts_finder": {"url": "https://www.contractsfinder.service.gov.uk", "delay": 10.0},
    "public_contracts_scotland": {"url": "https://api.publiccontractsscotland.gov.uk", "delay": 10.0},
    # Off until enabled: unverified against the live service, and reported failing for weeks in 2026.
    "sell2wales": {
        "url": "https://api.sell2wales.gov.wales",
        "delay": 10.0,
        "enabled": False,
        "verified": False,
    },
    # Off until enabled (unverified); a daily poll of a small list is enough.
    "crown_commercial_service": {
        "url": "https://www.crowncommercial.gov.uk",
        "delay": 10.0,
        "enabled": False,
        "verified": False,
        "crawl_every_minutes": 1440.0,
    },
    "digital_outcomes": {
        "url": "https://www.contractawardservice.crowncommercial.gov.uk",
        "delay": 10.0,
        "enabled": False,
        "verified": False,
        "crawl_every_minutes": 1440.0,
    },
}


# Any RSS or Atom feeds, listed as [[feeds]] name, url: one source, "feeds", reads them all.
FEEDS = "feeds"
FEEDS_DEFAULTS: dict[str, Any] = {"url": "", "delay": 10.0, "verified": False}
_FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str
    delay: float
    enabled: bool = True
    crawl_every_minutes: float | None = None  # default: [schedule] crawl_every_minutes
    # Whether a real recorded response backs its spider (not a setting: what tenderwatch knows).
    verified: bool = True


@dataclass(frozen=True)
class CrawlConfig:
    overlap_minutes: int = 15
    initial_lookback_hours: int = 48
    timeout_seconds: int = 60
    max_rate_limit_wait: int = 600
    # What every request says it is; a portal's operators can then tell who to contact.
    user_agent: str = f"tenderwatch/{__version__} (open-source tender monitor for bid teams)"


# The shipped example scoring profile (package data of the scoring package).
EXAMPLE_PROFILE = Path(__file__).resolve().parent.parent / "scoring" / "profiles" / "example.yaml"
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class ScoringConfig:
    """Scoring profiles by name (each a YAML rules file) and the one used when none is named."""

    profiles: dict[str, Path] = field(default_factory=lambda: {"example": EXAMPLE_PROFILE})
    default_profile: str = "example"

    def profile_path(self, name: str | None = None) -> Path:
        name = name or self.default_profile
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ConfigError(
                f"unknown profile '{name}': configured profiles are {known} "
                "(add one under [scoring.profiles] in the config file, or give the path of a rules file)"
            ) from None


@dataclass(frozen=True)
class DigestConfig:
    """What a digest shows and when it is worth sending."""

    closing_soon_days: int = 7  # remind of notices already sent that close within this many days
    lookback_days: int = 30  # a match published longer ago than this and never sent is no longer "new"
    too_soon: str = "brief"  # new matches closing before the profile's minimum: "brief" or "omit"
    empty: str = "skip"  # a digest with nothing new: "skip" it or "send" a one-line "nothing new"
    teams_items_per_post: int = 12  # a longer Teams digest is split into several posts
    templates_dir: Path | None = None  # a firm's own copies of notify/templates/*.j2
    output_dir: Path | None = (
        None  # where HTML digests are written without a channel (default data_dir/digests)
    )
    # How long a mail server may take over each step, above all its final reply to a message it was
    # handed: RFC 5321 (4.5.3.2) gives that reply ten minutes. apprise's own default is 15 s, after
    # which a slow server that keeps the message would be sent it again.
    smtp_timeout_seconds: float = 600
    # The weekly section of contracts in the firm's field ending soon (`tenderwatch expiring`): on
    # the first digest of this UK weekday ("mon" ... "sun"), or "never"; for these months ahead.
    expiring_day: str = "mon"
    expiring_months: tuple[int, int] = (3, 18)


@dataclass(frozen=True)
class ChannelConfig:
    """One place digests go: an apprise URL (secrets may come from ${VARIABLES}) and the profile it serves."""

    name: str
    url: str
    profile: str | None = None  # default: the scoring default profile
    # Why the channel cannot send, e.g. its secret's variable is unset: reported by the commands that
    # send, so a crawl or `--help` still works on a machine without the secret.
    problem: str | None = None

    @property
    def kind(self) -> str:
        return channel_kind(self.url)


def channel_kind(url: str) -> str:
    """email, teams or other. Teams is any URL apprise posts through its Workflows plugin: workflows://
    and the https://....logic.azure.com/workflows/... URL Teams gives out, pasted as it is."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("mailto", "mailtos"):
        return "email"
    if scheme in ("workflow", "workflows") or _is_workflows(url):
        return "teams"
    return "other"


@functools.cache  # asked for each channel on every send and status
def _is_workflows(url: str) -> bool:
    import apprise  # only where a channel is used: a crawl or --help need not load it
    from apprise.plugins.workflows import NotifyWorkflows

    return isinstance(apprise.Apprise.instantiate(url), NotifyWorkflows)


DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = tuple(name[:3] for name in DAY_NAMES)


@dataclass(frozen=True)
class ScheduleConfig:
    """When the daemon (and `tenderwatch run`) crawls and sends; times are UK local time."""

    crawl_every_minutes: float = 60  # per source
    digest_at: tuple[time, ...] = (time(7, 30),)
    digest_days: tuple[str, ...] = WEEKDAYS[:5]
    retry_failed_digest_minutes: float = 15  # a digest that failed is tried again after this long
    crawl_timeout_minutes: float = 120  # a crawl still running after this long is stopped
    tick_seconds: float = 30  # how often the daemon looks at what is due


@dataclass(frozen=True)
class WebConfig:
    """`tenderwatch web`: where it listens, the address the team reaches it at, and its session key."""

    host: str = "127.0.0.1"  # beyond localhost only with users (`tenderwatch web adduser`)
    port: int = 8080
    # Where the team reaches the web app (https://tenders.example.org): digests link each notice
    # there and to its relevant / not-relevant pages. None: no links, the CLI command instead.
    public_url: str | None = None
    # Signs the session cookies; without it, a random key kept in DATA_DIR/web-secret-key.
    secret_key: str | None = field(default=None, repr=False)

    @property
    def local_only(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Config:
    data_dir: Path
    db_url: str
    crawl: CrawlConfig
    sources: dict[str, SourceConfig]
    path: Path | None = None
    log_level: str = "INFO"
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    channels: tuple[ChannelConfig, ...] = ()
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    feeds: tuple[FeedConfig, ...] = ()  # the RSS/Atom feeds the "feeds" source reads
    web: WebConfig = field(default_factory=WebConfig)
    unread_variables: tuple[str, ...] = ()  # TENDERWATCH_* names set that no setting reads (misspelt?)

    def source(self, name: str) -> SourceConfig:
        try:
            return self.sources[name]
        except KeyError:
            if name == FEEDS:  # a source only once a feed is listed
                raise ConfigError(
                    "no feed is configured: list each RSS or Atom feed as [[feeds]] with a name and a url "
                    "in the config file (README, 'The sources'), then crawl feeds"
                ) from None
            known = ", ".join(sorted(self.sources))
            raise ConfigError(f"unknown source '{name}': known sources are {known}") from None

    def crawl_interval_minutes(self, source: str) -> float:
        return self.source(source).crawl_every_minutes or self.schedule.crawl_every_minutes

    def enabled_sources(self) -> list[str]:
        return [name for name, source in self.sources.items() if source.enabled]

    def channel(self, name: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(channel.name for channel in self.channels)
        known = f"channels are {known}" if known else "no channel is configured"
        raise ConfigError(f"unknown channel '{name}': {known} ([[channels]] in the config file)")

    @property
    def digest_dir(self) -> Path:
        return self.digest.output_dir or self.data_dir / "digests"


# TENDERWATCH_* names that are not settings: deploy/with-secrets' command and secrets file, the
# tests' own server.
NOT_SETTINGS = (f"{ENV_PREFIX}BIN", f"{ENV_PREFIX}SECRETS", f"{ENV_PREFIX}TEST_")


class _Asked(Mapping[str, str]):
    """The environment, noting each name the configuration asked for (so a misspelt one is found)."""

    def __init__(self, env: Mapping[str, str]):
        self.env, self.asked = env, set[str]()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.env[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.env)

    def __len__(self) -> int:
        return len(self.env)


def _not_read(env: _Asked, feeds_listed: bool) -> tuple[str, ...]:
    """A warning for each TENDERWATCH_* variable set that no setting read, naming the one it was
    probably meant to be: a misspelt variable would otherwise be ignored in silence."""
    asked = sorted(name for name in env.asked if name.startswith(ENV_PREFIX))
    found = []
    for name in sorted(env.env):
        if not name.startswith(ENV_PREFIX) or name in env.asked or name.startswith(NOT_SETTINGS):
            continue
        if name.startswith(f"{ENV_PREFIX}{FEEDS.upper()}_") and not feeds_listed:
            why = "ignored: the feeds source's settings apply once [[feeds]] are listed in the config file"
        else:
            close = difflib.get_close_matches(name, asked, n=1)
            why = "not a setting and is ignored" + (f"; did you mean {close[0]}?" if close else "")
        found.append(f"environment variable {name} is {why}")
    return tuple(found)


def _beside(config_path: Path, url: str) -> str:
    """A SQLite URL of the config file with a relative path (three slashes) made relative to the file,
    as its other paths are: cron and a shell in another folder would otherwise use two stores. The
    path is before any query; a URI filename ("file:...", uri=true) keeps its "file:"; a database in
    memory (":memory:", or no path) is left as written."""
    scheme, slashes, rest = url.partition(":///")
    path, query, parameters = rest.partition("?")
    uri = path.startswith("file:") and "uri=true" in parameters.lower()  # "file:" then the path
    if uri:
        path = path.removeprefix("file:")
    if (
        not slashes
        or not scheme.startswith("sqlite")
        or path.startswith(("/", "~"))
        or path in ("", ":memory:")
    ):
        return url
    return f"{scheme}:///{'file:' if uri else ''}{(config_path.parent / path).resolve()}{query}{parameters}"


def load(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file (if any) and the environment into a validated Config."""
    env = _Asked(os.environ if environ is None else environ)
    config_path = _find_config_file(path, env)
    data = _read_toml(config_path) if config_path else {}
    where = str(config_path) if config_path else "defaults"
    _reject_unknown(
        data,
        {
            "data_dir",
            "log_level",
            "store",
            "crawl",
            "sources",
            "feeds",
            "scoring",
            "digest",
            "channels",
            "schedule",
            "web",
        },
        where,
        "",
    )

    if data.get("data_dir") is not None and not isinstance(data["data_dir"], str):
        raise ConfigError(
            f"{where}: data_dir must be a folder path in quotes, not {_shown(data['data_dir'])}, "
            'e.g. data_dir = "/srv/tenderwatch"'
        )
    data_dir_setting = env.get(f"{ENV_PREFIX}DATA_DIR") or data.get("data_dir")
    data_dir = Path(data_dir_setting or Path.home() / ".local" / "share" / "tenderwatch").expanduser()
    if config_path and not env.get(f"{ENV_PREFIX}DATA_DIR"):
        data_dir = (config_path.parent / data_dir).resolve()  # relative to the file, as its other paths
    if data_dir.exists() and not data_dir.is_dir():
        label = _given_by(env, "DATA_DIR", where)
        raise ConfigError(f"{label}: data_dir {data_dir} is a file, not a folder; choose a folder")
    store = _table(data, "store", where, secret=True)  # a database URL may hold a password
    _reject_unknown(store, {"url"}, where, "[store] ")
    db_url = env.get(f"{ENV_PREFIX}DB_URL") or store.get("url") or f"sqlite:///{data_dir / 'tenderwatch.db'}"
    if config_path and store.get("url") and not env.get(f"{ENV_PREFIX}DB_URL"):
        db_url = _beside(config_path, str(db_url))
    log_level = _log_level(data.get("log_level") or "INFO", where)  # checked even if the environment wins
    if env.get(f"{ENV_PREFIX}LOG_LEVEL"):
        log_level = _log_level(env[f"{ENV_PREFIX}LOG_LEVEL"], f"environment variable {ENV_PREFIX}LOG_LEVEL")
    feeds = _feeds(data.get("feeds", []), where)
    config = Config(
        data_dir=data_dir,
        db_url=str(db_url),
        crawl=_crawl_config(_table(data, "crawl", where), env, where),
        sources=_sources(_table(data, "sources", where), env, where, feeds),
        feeds=feeds,
        path=config_path,
        log_level=log_level,
        schedule=_schedule(_table(data, "schedule", where), where),
        scoring=(scoring := _scoring(_table(data, "scoring", where), env, where, config_path)),
        digest=_digest(_table(data, "digest", where), env, where, config_path),
        channels=_channels(data.get("channels", []), env, where, scoring),
        web=_web(_table(data, "web", where), env, where),
    )
    return replace(config, unread_variables=_not_read(env, bool(feeds)))


def _log_level(value: Any, label: str) -> str:
    level = str(value).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"{label}: log_level must be DEBUG, INFO, WARNING or ERROR, not '{level}'")
    return level


def _given_by(env: Mapping[str, str], name: str, where: str) -> str:
    """Where a setting came from, for its error: the environment variable if set, else the file."""
    return f"environment variable {ENV_PREFIX}{name}" if env.get(f"{ENV_PREFIX}{name}") else where


def _find_config_file(path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    from_environment = env.get(f"{ENV_PREFIX}CONFIG")  # a setting even when --config wins over it
    explicit = path or from_environment
    if explicit:
        explicit = Path(explicit).expanduser()
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist: check --config or TENDERWATCH_CONFIG")
        return explicit
    for candidate in (Path("tenderwatch.toml"), Path.home() / ".config" / "tenderwatch" / "tenderwatch.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark, as Windows editors save, is no text
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    except UnicodeDecodeError as exc:  # e.g. a '£' in a comment, saved by an editor as Latin-1
        raise ConfigError(
            f"{path}:{undecodable_line(exc)}: not UTF-8 text (a character such as £ or é on that line is "
            "in another encoding); save the config file as UTF-8 and run again"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); {_toml_advice(text, str(exc))}") from None
    except RecursionError:  # "[[[[..." hundreds deep: tomllib reads each level by recursion
        raise ConfigError(
            f"{path}: not valid TOML: lists or tables nested too deeply; no setting nests so deep"
        ) from None


# tomllib reports a list, inline table or string left open where it gave up (often "at end of
# document"), not where it was opened; these say what closes each.
_UNCLOSED = {
    "Unclosed array": "the list opened on line {line} is not closed; add its ']' (or a missing ',')",
    "Unclosed inline table": "the inline table opened on line {line} is not closed; add its '}' on that line",
    "Unterminated string": "the text opened on line {line} is not closed; add its closing quotes",
}


def _toml_advice(text: str, problem: str) -> str:
    for start, advice in _UNCLOSED.items():
        if problem.startswith(start):
            return advice.replace("{line}", str(_opening_line(text)))
    if "at end of document" in problem:
        return f"the value that starts on line {_opening_line(text)} is not finished; complete it"
    return "fix that line and run again"


def _opening_line(text: str) -> int:
    """The line where an unfinished value starts: the one after the longest start of the file that
    parses (a config file is short, so parsing it again line by line costs nothing noticeable)."""
    lines = text.split("\n")  # as tomllib counts lines
    for count in range(len(lines) - 1, 0, -1):
        try:
            tomllib.loads("\n".join(lines[:count]))
        except tomllib.TOMLDecodeError:
            continue
        return count + 1
    return 1


def _table(data: Mapping[str, Any], key: str, where: str, *, secret: bool = False) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        given = _kind(value) if secret else _shown(value)
        raise ConfigError(f"{where}: [{key}] must be a table ([{key}] on a line of its own), not {given}")
    return value


def _shown(value: Any) -> str:
    """A wrong value as an error message quotes it: on one line, short. Never for a secret (_kind)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return _kind(value)
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...") if isinstance(value, str) else text


def _kind(value: Any) -> str:
    """What a wrong value is, without showing it: for settings that may hold a secret (a channel URL,
    a database URL with its password)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a table"
    return "a list" if isinstance(value, list) else "text"


def _reject_unknown(table: Mapping[str, Any], allowed: set[str], where: str, section: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: {section}unknown key '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}"
        )


def _number(value: Any, label: str, *, minimum: float = 0) -> float:
    if isinstance(value, bool):  # TOML's true would otherwise read as 1
        raise ConfigError(f"{label} must be a number, not {str(value).lower()}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{label} must be a number, not '{value}'") from None
    if not math.isfinite(number):
        raise ConfigError(f"{label} must be a finite number, not '{value}'")
    if number < minimum:
        raise ConfigError(f"{label} must be at least {minimum:g}, not {number:g}")
    return number


def _boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{label} must be true or false, not '{value}'")


# A host name (letters of any script, for IDN), an IPv4 address, or an IPv6 one (written in [ ]).
_HOST = re.compile(r"[\w.-]+|[0-9a-f:.]+")


def _url(value: Any, label: str, *, base: bool = False) -> str:
    """An http(s) URL a crawl can fetch, checked now so that a mistake is an exit 2 naming its setting,
    not a crash of every crawl. A `base` URL (a source's, to which API paths and queries are added)
    has no query or fragment; a feed's URL may have a query."""
    text = str(value).strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{label} must be an http(s) URL, not {_shown(value)}")
    if _has_user_info(text):  # the URL is not repeated: it holds a password
        raise ConfigError(
            f"{label} must not hold a user name or password (user:password@): the sources are public, "
            "and tenderwatch would show them in its messages"
        )
    problem = _url_problem(text, base=base)
    if problem:
        raise ConfigError(f"{label} must be an http(s) URL, not {_shown(text)}: {problem}")
    return text


def _has_user_info(text: str) -> bool:
    """Whether the URL's authority (after :// and before any path, query or fragment) has a user@,
    told without urlsplit, which cannot read every URL this is asked about."""
    authority = re.split(r"[/?#]", text.split("://", 1)[1], maxsplit=1)[0]
    return "@" in authority


def _url_problem(text: str, *, base: bool) -> str | None:
    """What stops a crawl from fetching this http(s) URL, or None."""
    if any(char.isspace() or not char.isprintable() for char in text):
        return "it holds a space or an unprintable character"
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed or invalid [IPv6 address]
        return "its host cannot be read (an IPv6 address is written in [ ])"
    if not parts.hostname or not _HOST.fullmatch(parts.hostname):
        return "it names no valid host"
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        port = 0
    if port == 0:
        return "its port must be a number from 1 to 65535"
    if base and (parts.query or parts.fragment):
        return "a source's URL is its service's address, without ?query or #fragment"
    return None


def _crawl_config(table: dict[str, Any], env: Mapping[str, str], where: str) -> CrawlConfig:
    defaults = CrawlConfig()
    _reject_unknown(table, set(defaults.__dataclass_fields__), where, "[crawl] ")
    values: dict[str, Any] = {
        key: _whole_number(table.get(key, getattr(defaults, key)), f"{where}: [crawl] {key}", minimum)
        for key, minimum in CRAWL_MINIMUMS.items()
    }
    agent = _user_agent(table.get("user_agent", defaults.user_agent), where)  # checked even if overridden
    if env.get(f"{ENV_PREFIX}USER_AGENT"):
        agent = _user_agent(env[f"{ENV_PREFIX}USER_AGENT"], f"environment variable {ENV_PREFIX}USER_AGENT")
    return CrawlConfig(**values, user_agent=agent)


# The least each whole-number [crawl] setting may be: a crawl may start right at the watermark, but a
# first crawl of no hours, a request given no time, or a rate limit not waited out cannot work (0 or
# 0.5 lookback hours failed every crawl with a misleading "--to ... is before ...").
CRAWL_MINIMUMS = {
    "overlap_minutes": 0,
    "initial_lookback_hours": 1,
    "timeout_seconds": 1,
    "max_rate_limit_wait": 1,
}


def _whole_number(value: Any, label: str, minimum: int) -> int:
    """A whole number of at least `minimum`: 0.5 is refused, not cut to 0."""
    number = _number(value, label, minimum=-math.inf)  # a number at all; then the range, said here
    if number != int(number) or number < minimum:
        raise ConfigError(f"{label} must be a whole number of at least {minimum}, not {_shown(value)}")
    return int(number)


def _user_agent(value: Any, label: str) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise ConfigError(
            f"{label}: [crawl] user_agent must be one line of text, not {_shown(value)}, "
            'e.g. "tenderwatch (bids@firm.example)"'
        )
    return value.strip()


def _sources(
    table: dict[str, Any], env: Mapping[str, str], where: str, feeds: tuple[FeedConfig, ...]
) -> dict[str, SourceConfig]:
    _reject_unknown(table, {*SOURCE_DEFAULTS, FEEDS}, where, "[sources] ")
    sources = {name: _source(name, defaults, table, env, where) for name, defaults in SOURCE_DEFAULTS.items()}
    if feeds or FEEDS in table:
        feeds_source = _source(FEEDS, {**FEEDS_DEFAULTS, "enabled": bool(feeds)}, table, env, where)
        if feeds_source.enabled and not feeds:
            raise ConfigError(
                f"{where}: [sources.feeds] is enabled but no feed is listed; add [[feeds]] name and url"
            )
        sources[FEEDS] = feeds_source
    return sources


def _source(
    name: str, defaults: dict[str, Any], table: dict[str, Any], env: Mapping[str, str], where: str
) -> SourceConfig:
    section = table.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [sources.{name}] must be a table, not {_shown(section)}")
    keys = {"delay", "enabled", "crawl_every_minutes"} | ({"url"} if defaults["url"] else set())
    _reject_unknown(section, keys, where, f"[sources.{name}] ")
    known = {"enabled": True, **defaults}  # a source is on unless its defaults say otherwise

    def setting(key: str, read: Callable[[Any, str], Any]) -> Any:
        # The file's value is checked even when the environment overrides it, so a mistake there is
        # reported now rather than on the day the variable is unset.
        from_file = read(section.get(key, known[key]), f"{where}: [sources.{name}] {key}")
        env_name = f"{ENV_PREFIX}{name.upper()}_{key.upper()}"
        if env.get(env_name, "") != "":
            return read(env[env_name], f"environment variable {env_name}")
        return from_file

    return SourceConfig(
        name=name,
        url=setting("url", lambda value, label: _url(value, label, base=True)) if defaults["url"] else "",
        delay=setting("delay", _number),
        enabled=setting("enabled", _boolean),
        crawl_every_minutes=_number(
            section["crawl_every_minutes"],
            f"{where}: [sources.{name}] crawl_every_minutes",
            minimum=0.001,
        )
        if "crawl_every_minutes" in section
        else defaults.get("crawl_every_minutes"),
        verified=defaults.get("verified", True),
    )


def _feeds(value: Any, where: str) -> tuple[FeedConfig, ...]:
    """[[feeds]]: each a name (lower-case letters, digits, _ or -) and an http(s) URL."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(
            f'{where}: feeds must be tables: [[feeds]] with name = "..." and url = "https://...", '
            f"not {_shown(value)}"
        )
    feeds: list[FeedConfig] = []
    for number, item in enumerate(value, 1):
        label = f"{where}: [[feeds]] number {number}"
        _reject_unknown(item, {"name", "url"}, where, f"[[feeds]] number {number}: ")
        name = item.get("name")
        if not isinstance(name, str) or not _FEED_NAME.match(name):
            raise ConfigError(
                f"{label}: name must be lower-case letters, digits, _ or - (at most 40), not {name!r}"
            )
        if any(feed.name == name for feed in feeds):
            raise ConfigError(f"{label}: another feed is already called '{name}'; give each its own name")
        if "url" not in item:
            raise ConfigError(f"{label} ('{name}'): give its url, e.g. url = \"https://portal.example/rss\"")
        feeds.append(FeedConfig(name, _url(item["url"], f"{label} ('{name}'): url")))
    return tuple(feeds)


def _scoring(
    table: dict[str, Any], env: Mapping[str, str], where: str, config_path: Path | None
) -> ScoringConfig:
    """[scoring]: default_profile (or TENDERWATCH_PROFILE) and [scoring.profiles] name = "rules.yaml"."""
    _reject_unknown(table, {"default_profile", "profiles"}, where, "[scoring] ")
    named = table.get("profiles", {})
    if not isinstance(named, dict):
        raise ConfigError(
            f'{where}: [scoring.profiles] must be a table of name = "path/to/rules.yaml", not {_shown(named)}'
        )
    profiles = dict(ScoringConfig().profiles)
    base = config_path.parent if config_path else Path.cwd()
    for name, value in named.items():
        label = f"{where}: [scoring.profiles] {name}"
        if not _PROFILE_NAME.match(name):
            raise ConfigError(
                f"{label}: a profile name is lowercase letters, digits, - and _, e.g. 'example'"
            )
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f'{label} must be the path of a rules file, e.g. "rules/{name}.yaml", not {_shown(value)}'
            )
        path = Path(value).expanduser()
        # A missing file is that profile's problem, as a mistake in it is: the commands that use
        # the profile say so (as do `status` and `rules list`); crawls and other profiles go on.
        profiles[name] = path if path.is_absolute() else base / path
    # The file's default is checked even when the environment chooses another.
    default = _known_profile(
        table.get("default_profile", "example"), profiles, f"{where}: [scoring] default_profile"
    )
    if env.get(f"{ENV_PREFIX}PROFILE", "") != "":
        label = f"environment variable {ENV_PREFIX}PROFILE"
        default = _known_profile(env[f"{ENV_PREFIX}PROFILE"], profiles, label)
    return ScoringConfig(profiles=profiles, default_profile=default)


def _known_profile(name: Any, profiles: Mapping[str, Path], label: str) -> str:
    if not isinstance(name, str) or name not in profiles:
        raise ConfigError(f"{label}: unknown profile '{name}'; configured: {', '.join(sorted(profiles))}")
    return str(name)


def _digest(
    table: dict[str, Any], env: Mapping[str, str], where: str, config_path: Path | None
) -> DigestConfig:
    defaults = DigestConfig()
    _reject_unknown(table, set(defaults.__dataclass_fields__), where, "[digest] ")
    values: dict[str, Any] = {}
    for key in ("closing_soon_days", "lookback_days", "teams_items_per_post"):
        values[key] = _whole_number(table.get(key, getattr(defaults, key)), f"{where}: [digest] {key}", 1)
    for key, options in (("too_soon", ("brief", "omit")), ("empty", ("skip", "send"))):
        values[key] = str(table.get(key, getattr(defaults, key)))
        if values[key] not in options:
            raise ConfigError(f"{where}: [digest] {key} must be {' or '.join(options)}, not '{values[key]}'")
    base = config_path.parent if config_path else Path.cwd()
    for key in ("templates_dir", "output_dir"):
        if table.get(key):
            values[key] = (base / Path(str(table[key])).expanduser()).resolve()
    if values.get("templates_dir") and not values["templates_dir"].is_dir():
        raise ConfigError(f"{where}: [digest] templates_dir {values['templates_dir']} is not a directory")
    values["smtp_timeout_seconds"] = _smtp_timeout(table, env, where)
    values["expiring_day"], values["expiring_months"] = _expiring(table, defaults, where)
    return DigestConfig(**values)


def _expiring(table: dict[str, Any], defaults: DigestConfig, where: str) -> tuple[str, tuple[int, int]]:
    """[digest] expiring_day (a weekday or "never") and expiring_months ("3-18")."""
    day = str(table.get("expiring_day", defaults.expiring_day)).strip().lower()
    weekday = "never" if day == "never" else _weekday(day)
    if weekday is None:
        raise ConfigError(
            f'{where}: [digest] expiring_day must be a day such as "mon", or "never", not \'{day}\''
        )
    default_months = "-".join(map(str, defaults.expiring_months))
    months = str(table.get("expiring_months", default_months))
    found = re.fullmatch(r"\s*(\d{1,3})\s*-\s*(\d{1,3})\s*", months)
    if not found or int(found.group(1)) >= int(found.group(2)):
        raise ConfigError(
            f"{where}: [digest] expiring_months must be a range of months such as \"3-18\", not '{months}'"
        )
    return weekday, (int(found.group(1)), int(found.group(2)))


def _smtp_timeout(table: dict[str, Any], env: Mapping[str, str], where: str) -> float:
    """[digest] smtp_timeout_seconds, or TENDERWATCH_SMTP_TIMEOUT_SECONDS; the file's value is checked
    even when the variable overrides it, so a mistake there does not wait to surface."""
    seconds = _number(
        table.get("smtp_timeout_seconds", DigestConfig.smtp_timeout_seconds),
        f"{where}: [digest] smtp_timeout_seconds",
        minimum=0.001,
    )
    variable = f"{ENV_PREFIX}SMTP_TIMEOUT_SECONDS"
    if env.get(variable, "") != "":
        seconds = _number(env[variable], f"environment variable {variable}", minimum=0.001)
    return seconds


def _channels(
    entries: Any, env: Mapping[str, str], where: str, scoring: ScoringConfig
) -> tuple[ChannelConfig, ...]:
    if not isinstance(entries, list):
        # Never the value itself: it may be a channel URL with its password.
        raise ConfigError(f"{where}: channels must be written as [[channels]] tables, not {_kind(entries)}")
    channels = []
    for number, entry in enumerate(entries, start=1):
        label = f"{where}: [[channels]] #{number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{label} must be a table with name and url, not {_kind(entry)}")
        _reject_unknown(entry, {"name", "url", "profile"}, where, f"[[channels]] #{number} ")
        name, url = str(entry.get("name", "")).strip(), str(entry.get("url", "")).strip()
        if not name or not url:
            missing = " and ".join(key for key, given in (("name", name), ("url", url)) if not given)
            raise ConfigError(
                f"{label} needs a name and an apprise url (e.g. mailtos://... or workflows://...); "
                f"it has no {missing}"
            )
        if any(channel.name == name for channel in channels):
            raise ConfigError(f"{label}: another channel is already named '{name}'")
        profile = entry.get("profile")
        if profile is not None and str(profile) not in scoring.profiles:
            known = ", ".join(sorted(scoring.profiles))
            raise ConfigError(f"{label}: unknown profile '{profile}'; configured profiles are {known}")
        unset = [name for name in VARIABLE.findall(url) if name not in env]
        problem = None
        if unset:
            problem = f"{label} url uses ${{{unset[0]}}}, but that environment variable is not set"
        channels.append(ChannelConfig(name=name, url=_expand(url, env), profile=profile, problem=problem))
    return tuple(channels)


def expand_url(url: str, where: str) -> str:
    """A channel URL given on the command line, with ${NAME} read from the environment as in the file,
    so a secret need not be typed where `ps` and the shell's history would keep it."""
    unset = [name for name in VARIABLE.findall(url) if name not in os.environ]
    if unset:
        raise ConfigError(f"{where} uses ${{{unset[0]}}}, but that environment variable is not set")
    return _expand(url, os.environ)


def _expand(text: str, env: Mapping[str, str]) -> str:
    """Replace ${NAME} with the environment variable NAME, so secrets stay out of the file."""
    return VARIABLE.sub(lambda match: env.get(match.group(1), match.group(0)), text)


def _schedule(table: dict[str, Any], where: str) -> ScheduleConfig:
    defaults = ScheduleConfig()
    _reject_unknown(table, set(defaults.__dataclass_fields__), where, "[schedule] ")
    numbers = {
        key: _number(table.get(key, getattr(defaults, key)), f"{where}: [schedule] {key}", minimum=0.001)
        for key in (
            "crawl_every_minutes",
            "retry_failed_digest_minutes",
            "crawl_timeout_minutes",
            "tick_seconds",
        )
    }
    times = table.get("digest_at", [t.strftime("%H:%M") for t in defaults.digest_at])
    days = table.get("digest_days", list(defaults.digest_days))
    if not isinstance(times, list) or not times:
        raise ConfigError(
            f'{where}: [schedule] digest_at must be a list of times, e.g. ["07:30"], not {_shown(times)}'
        )
    if not isinstance(days, list) or not days or any(_weekday(day) is None for day in days):
        wrong = next((day for day in days if _weekday(day) is None), days) if isinstance(days, list) else days
        raise ConfigError(
            f'{where}: [schedule] digest_days must list days such as ["mon", "tue", "wed"], '
            f"not {_shown(wrong) if wrong != [] else 'an empty list'}"
        )
    return ScheduleConfig(
        digest_at=tuple(sorted(_clock(t, where) for t in times)),
        digest_days=tuple(_weekday(day) for day in days),
        **numbers,
    )


def _weekday(value: Any) -> str | None:
    """ "fri", "Fri" or "friday" as "fri"; None for anything else ("friyay")."""
    text = str(value).strip().lower()
    return next((name[:3] for name in DAY_NAMES if text in (name[:3], name)), None)


def _clock(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: [schedule] digest_at: '{value}' is not a time like 07:30") from None


def _web(table: dict[str, Any], env: Mapping[str, str], where: str) -> WebConfig:
    """[web] host, port, public_url (or TENDERWATCH_WEB_HOST, _PORT, _PUBLIC_URL); the session key only
    from TENDERWATCH_WEB_SECRET_KEY, never the file, as it is a secret."""
    _reject_unknown(table, {"host", "port", "public_url"}, where, "[web] ")

    def setting(key: str) -> tuple[Any, str]:
        variable = f"{ENV_PREFIX}WEB_{key.upper()}"
        if env.get(variable, "") != "":
            return env[variable], f"environment variable {variable}"
        return table.get(key, getattr(WebConfig, key)), f"{where}: [web] {key}"

    host, label = setting("host")
    if not isinstance(host, str) or not re.fullmatch(r"[A-Za-z0-9.:_-]{1,253}", host.strip()):
        raise ConfigError(f'{label} must be an address to listen on, e.g. "127.0.0.1" or "0.0.0.0"')
    port, label = setting("port")
    number = _number(port, label, minimum=1)
    if number != int(number) or number > 65535:
        raise ConfigError(f"{label} must be a port number from 1 to 65535, not {port}")
    public_url, label = setting("public_url")
    secret = env.get(f"{ENV_PREFIX}WEB_SECRET_KEY") or None
    if secret is not None and len(secret) < 32:
        raise ConfigError(
            f"environment variable {ENV_PREFIX}WEB_SECRET_KEY must be at least 32 characters; "
            "e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return WebConfig(
        host=host.strip(),
        port=int(number),
        public_url=_public_url(public_url, label) if public_url else None,
        secret_key=secret,
    )


def _public_url(url: Any, label: str) -> str:
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"{label} must be the web app's address, e.g. https://tenders.example.org, not '{url}'"
        )
    return str(url).rstrip("/")
