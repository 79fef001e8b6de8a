"""The `tenderwatch` group and what every command shares: state, error handling, logging, output.

Exit codes: 0 success; 1 a source, a channel or the database failed (the rest still ran), or `status`
found a problem; 2 bad usage, config or input.
"""

from __future__ import annotations

import logging
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from notify.redact import hide, url_secrets
from store.db import Database, database_failure, open_database
from store.models import utcnow
from tenderwatch import __version__
from tenderwatch import config as configuration
from tenderwatch.errors import ConfigError, TenderwatchError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from scoring.profile import Profile
    from store.notice import Notice

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # for dates given on the command line
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PROFILE_HELP = (
    "A profile named in [scoring.profiles], or a rules file to try (its scores are never stored); "
    "default: the configured default profile."
)


def profile_option(help: str = PROFILE_HELP) -> Callable[[Callable[..., Any]], Any]:
    """--profile NAME|FILE, the same on every command that scores (see State.profile)."""
    return click.option("--profile", metavar="NAME|FILE", help=help)


PROFILE_OPTION = profile_option()


class Limit(click.IntRange):
    """--limit N: 0 or more, 0 for all. A number larger than any database can count (2**63 - 1, the
    largest LIMIT SQLite and PostgreSQL take) is all of them too, never the database's OverflowError."""

    LARGEST = 2**63 - 1

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return min(super().convert(value, param, ctx), self.LARGEST)


LIMIT = Limit()
logger = logging.getLogger("tenderwatch")


class State:
    """What every command needs: the configuration, and the store opened on first use."""

    def __init__(self, config_path: str | None, verbose: bool):
        self.config_path = config_path
        self.verbose = verbose
        self._config: configuration.Config | None = None
        self._database: Database | None = None
        self._given_urls: list[str] = []
        self._profiles: Callable[[str | None], Profile] | None = None

    @classmethod
    def of(
        cls,
        config: configuration.Config,
        database: Database,
        profiles: Callable[[str | None], Profile] | None = None,
    ) -> State:
        """A State over a configuration and store already open (the web page's), and what gives the
        live rules of a profile (its cache), if not store.profiles.live_profile."""
        state = cls(None, False)
        state._config, state._database, state._profiles = config, database, profiles
        return state

    @property
    def config(self) -> configuration.Config:
        """Read when a command first needs it, so `--help` works whatever the config file says."""
        if self._config is None:
            self._config = configuration.load(self.config_path)
            self._configure_logging()
            for warning in self._config.unread_variables:
                echo(f"tenderwatch: warning: {warning}", err=True)
        return self._config

    def channel_url(self, url: str) -> str:
        """A channel URL given on the command line (--to): ${NAME} expanded, and its secrets kept out
        of --verbose logs like those of the configured channels."""
        url = configuration.expand_url(url, "--to")
        self._given_urls.append(url)
        self._configure_logging()
        return url

    def _configure_logging(self) -> None:
        urls = [c.url for c in self.config.channels] + self._given_urls
        configure_logging(self.verbose, self.config.log_level, channel_urls=urls)

    def profile(self, value: str | None = None) -> Profile:
        """The rules `--profile NAME|FILE` names: a rules file to try (never live), else the live rules
        of the profile called NAME (the default one without it)."""
        from scoring.profile import chosen_profile

        if value is not None and value not in self.config.scoring.profiles:
            return chosen_profile(self.config.scoring, value)
        return self.live_profile(value)

    def live_profile(self, name: str | None = None) -> Profile:
        """The rules scoring uses for profile `name` (store.profiles.live_profile): a version published
        with `tenderwatch web`, else the configured rules file. Without a store yet (SQLite), the file:
        checking rules must not create an empty store."""
        from scoring.profile import configured_profile
        from store.db import missing_sqlite_file
        from store.profiles import live_profile

        if self._profiles is not None:
            return self._profiles(name)
        if missing_sqlite_file(self.config.db_url):
            return configured_profile(self.config.scoring, name)
        return live_profile(self.database, self.config.scoring, name)

    def profile_problem(self, name: str) -> str | None:
        """Why profile `name` cannot be used (its live rules' first mistake), or None."""
        try:
            self.live_profile(name)
        except TenderwatchError as exc:
            return str(exc)
        return None

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = open_database(self.config.db_url)
        return self._database


def command(
    group: click.Group, name: str | None = None, short_help: str | None = None
) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand that receives State and turns tenderwatch errors into one line and an exit code.

    `short_help` is its line in its group's --help, which click would otherwise cut off mid-sentence.
    """

    def decorate(function: Callable[..., Any]) -> click.Command:
        @wraps(function)
        @click.pass_obj
        def run(state: State, *args: Any, **kwargs: Any) -> Any:
            return function(state, *args, **kwargs)

        return group.command(name, short_help=short_help)(run)

    return decorate


# The group's own options, which click reads only before the command's name.
GLOBAL_OPTIONS = {"--config": True, "-v": False, "--verbose": False, "--version": False}  # takes a value?


class Tenderwatch(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["tenderwatch.args"] = list(args)  # to suggest the right order if a command refuses one
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as exc:
            if exc.option_name not in GLOBAL_OPTIONS:
                raise
            echo(f"tenderwatch: {global_option_after_command(exc.option_name, ctx)}", err=True)
            ctx.exit(2)
        except TenderwatchError as exc:
            echo(f"tenderwatch: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except OperationalError as exc:  # busy, gone or full: the database's own words, in one line
            echo(f"tenderwatch: {database_failure(exc)}", err=True)
            ctx.exit(1)
        except DBAPIError as exc:  # a constraint or a schema the store does not have: a fault, in one line
            logger.debug("the database refused a statement", exc_info=True)
            hint = "" if ctx.obj and ctx.obj.verbose else "; tenderwatch --verbose shows where"
            echo(f"tenderwatch: {database_failure(exc)}{hint}", err=True)
            ctx.exit(1)


def global_option_after_command(option: str, ctx: click.Context) -> str:
    """What to type instead: the group's options moved before the command, the rest kept in order."""
    moved: list[str] = []
    kept: list[str] = []
    seen: set[str] = set()
    args = iter(ctx.meta.get("tenderwatch.args", []))
    for arg in args:
        name = arg.split("=", 1)[0]
        if name not in GLOBAL_OPTIONS:
            kept.append(arg)
            continue
        value = next(args, None) if GLOBAL_OPTIONS[name] and "=" not in arg else None
        if name in seen:  # given before the command already: the one after it goes
            continue
        seen.add(name)
        moved.append(arg)
        if value is not None:
            moved.append(value)  # --config FILE
    return f"put {option} before the command: {shlex.join(['tenderwatch', *moved, *kept])}"


@click.group(cls=Tenderwatch, context_settings=CONTEXT, invoke_without_command=True)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (default: $TENDERWATCH_CONFIG, else ./tenderwatch.toml, "
    "else ~/.config/tenderwatch/tenderwatch.toml). Give it before the command.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show detailed logs, including Scrapy's. Give it before the command.",
)
@click.version_option(__version__, prog_name="tenderwatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Find UK public-sector tender opportunities worth a bid/no-bid decision.

    Without a command, runs the main job (`tenderwatch run`): crawl every enabled source, then send
    the digests that are due (with no channel configured, write the digest to a dated HTML file).

    \b
    Examples:
      tenderwatch                       # the main job, on the configured defaults
      tenderwatch crawl find_a_tender --from 2026-08-01 --to 2026-08-02
      tenderwatch notices --opportunities
    """
    configure_logging(verbose)
    ctx.obj = State(config_path, verbose)
    if ctx.invoked_subcommand is None:
        ctx.invoke(cli.get_command(ctx, "run"))


@cli.command("help", short_help="Help on tenderwatch or one command: tenderwatch help crawl.")
@click.argument("names", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def help_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Show the help of tenderwatch, or of COMMAND: the same as `tenderwatch COMMAND --help`.

    \b
    Examples:
      tenderwatch help
      tenderwatch help crawl
      tenderwatch help sources check
    """
    shown = ctx.find_root()
    for depth, name in enumerate(names):
        group = shown.command
        found = group.get_command(shown, name) if isinstance(group, click.Group) else None
        if found is None:
            asked, parent = " ".join(names[: depth + 1]), " ".join(["tenderwatch", "help", *names[:depth]])
            said = "lists them" if isinstance(group, click.Group) else "shows how to use it"
            echo(f"tenderwatch: there is no command '{asked}': `{parent}` {said}", err=True)
            ctx.exit(2)
        shown = click.Context(found, info_name=name, parent=shown)
    echo(shown.get_help())


def configure_logging(verbose: bool, level: str = "INFO", channel_urls: Sequence[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s" if verbose else "%(message)s", "%H:%M:%S")
    )
    if not verbose:
        # Scrapy and Twisted talk a lot at INFO; without --verbose only their problems are shown.
        # apprise's own warnings are dropped: tenderwatch reports each channel's outcome itself.
        # A cut-off response is retried and, if it persists, the crawl's one line says so: Scrapy's
        # own warning about it would advise a setting that keeps broken pages.
        handler.addFilter(
            lambda record: (
                not record.name.startswith("apprise")
                and (
                    record.levelno >= logging.WARNING
                    or not record.name.startswith(("scrapy", "twisted", "py.warnings"))
                )
                and not (record.name.startswith("scrapy") and record.getMessage().startswith("Got data loss"))
            )
        )
    else:
        handler.addFilter(ChannelSecretsFilter(channel_urls))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("tenderwatch").setLevel(logging.DEBUG if verbose else level)
    for noisy in ("alembic", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class ChannelSecretsFilter(logging.Filter):
    """apprise and the HTTP libraries under it log request URLs at DEBUG, and those hold the channels'
    secrets: a Teams ?sig=, a webhook token in the path, a password. Each is hidden before it is shown."""

    def __init__(self, channel_urls: Sequence[str]):
        super().__init__()
        self.secrets = url_secrets(channel_urls)  # once, not on every record

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(("apprise", "urllib3", "requests")):
            record.msg, record.args = hide(record.getMessage(), self.secrets), None
        return True


# ---------------------------------------------------------------------------------------------- options


NOT_A_DATE = (
    "is not a date; write ISO 8601 such as 2026-08-11 or 2026-08-11T06:00 (UK time unless an offset is given)"
)


def parse_time_option(
    ctx: click.Context,
    param: click.Parameter,
    value: str | None,
    *,
    not_a_date: str = NOT_A_DATE,
    later: bool = False,
) -> datetime | None:
    from spiders.windows import parse_moment

    if value is None:
        return None
    try:
        moment = parse_moment(value, later=later)
    except ConfigError as exc:  # a UK time the clocks skip
        raise click.BadParameter(str(exc)) from None
    except ValueError:
        raise click.BadParameter(f"'{value}' {not_a_date}") from None
    except OverflowError:
        raise click.BadParameter(f"'{value}' is out of range") from None
    if moment < EARLIEST:  # the services would answer 400, or hold nothing that old
        raise click.BadParameter(f"'{value}' is before 2000; no service publishes notices that old")
    return moment


def parse_end_time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """The end of a period: in the hour the clocks go back, the second of the two times so named, so
    that the period covers both."""
    return parse_time_option(ctx, param, value, later=True)


def parse_since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    units = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
    if value[:-1].isdigit() and value[-1:] in units:
        try:
            moment = utcnow() - int(value[:-1]) * units[value[-1]]
        except OverflowError:  # "99999999d": before year 1
            moment = EARLIEST - timedelta(days=1)
        if moment < EARLIEST:
            raise click.BadParameter(
                f"'{value}' reaches back before 2000; no service publishes notices that old"
            )
        return moment
    return parse_time_option(
        ctx, param, value, not_a_date="is neither an age such as 7d, 24h or 2w nor a date such as 2026-08-11"
    )


def notice_key(session: Session, text: str) -> str:
    """The notice id a user typed, completed when they gave only the source's own id (as the digest's
    link shows it: 076396-2026) and one stored notice has it."""
    from store.queries import keys_of_source_id

    text = text.strip()
    if ":" in text:
        return text
    keys = keys_of_source_id(session, text)
    if len(keys) > 1:
        raise ConfigError(f"'{text}' is the id of {len(keys)} notices ({', '.join(keys)}): give one in full")
    if not keys:
        raise unknown_notice(session, text)
    return keys[0]


def stored_notice(session: Session, text: str) -> Notice:
    """The stored notice a user named (see notice_key), or a ConfigError saying it is not stored."""
    from store.queries import get_notice

    notice = get_notice(session, notice_key(session, text))
    if notice is None:
        raise unknown_notice(session, text)
    return notice


def unknown_notice(session: Session, text: str) -> ConfigError:
    """The error for a notice id not in the store, with the stored ids closest to it as a hint."""
    from store.queries import similar_keys

    near = similar_keys(session, text.strip())
    hint = f"did you mean {' or '.join(near)}?" if near else "ids look like find_a_tender:076396-2026"
    return ConfigError(f"no notice '{text.strip()}' in the store: {hint} (see `tenderwatch notices`)")


# ---------------------------------------------------------------------------------------------- output

# Control characters other than tab and newline, and the marks that reverse text's direction. Notice
# text and a service's error reply are untrusted: an escape sequence in a title could retitle the
# terminal or overwrite the line above.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def echo(text: str = "", *, err: bool = False) -> None:
    """click.echo, with control characters shown as \ufffd: everything the commands print goes here.

    A Windows line ending (Contracts Finder's text has them) is an ordinary one, not a stray character."""
    click.echo(CONTROL.sub("\ufffd", text.replace("\r\n", "\n")), err=err)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(str(row[i])) for row in rows)]) for i, h in enumerate(headers)]
    echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def local_time(moment: datetime | None, *, date_only: bool = False) -> str:
    from store.notice import LONDON

    if moment is None:
        return "-"
    local = moment.astimezone(LONDON)
    return f"{local:%Y-%m-%d}" if date_only else f"{local:%Y-%m-%d %H:%M}"


def shorten(text: str | None, width: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
