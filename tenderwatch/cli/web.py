"""`tenderwatch web`: serve the bid team's web page; add and remove its users."""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from tenderwatch.cli.base import CONTEXT, State, cli, command, echo
from tenderwatch.errors import ConfigError, InputError


@cli.group(
    "web", context_settings=CONTEXT, invoke_without_command=True, short_help="Serve the bid team's web page."
)
@click.option("--host", metavar="ADDRESS", help="Address to listen on (default [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default [web] port, 8080).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the bid team's web page on the store: the inbox of matches, each notice with its
    decisions, the decisions list (CSV), the rules (edit, try, publish, roll back), and sources
    and digests. Runs until stopped (Ctrl-C).

    It listens on 127.0.0.1 unless told otherwise. Beyond localhost it needs users (`tenderwatch web
    adduser NAME`); with any user, every page asks to sign in.

    \b
    Examples:
      tenderwatch web                                  # http://127.0.0.1:8080/ on this machine
      tenderwatch web adduser alice                    # asks for her password twice
      tenderwatch web --host 0.0.0.0 --port 8080       # the office network (users needed)
    """
    if ctx.invoked_subcommand is None:
        _serve(ctx.obj, host, port)


def _serve(state: State, host: str | None, port: int | None) -> None:
    from store.users import user_count
    from web.app import create_app, keep_scored
    from web.server import make_server

    config = state.config
    settings = replace(config.web, host=host or config.web.host, port=port or config.web.port)
    config = replace(config, web=settings)
    with state.database.reading() as session:
        users = user_count(session)
    if not settings.local_only and not users:
        given = f"--host {host}" if host else f"host {settings.host} ([web] host or TENDERWATCH_WEB_HOST)"
        raise ConfigError(
            f"{given}: serving beyond this machine needs users; add one with "
            "`tenderwatch web adduser NAME`, or serve on 127.0.0.1"
        )
    app = create_app(config, state.database)
    try:
        server = make_server(app, settings.host, settings.port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror or exc}); choose another --port"
        ) from None
    stop = keep_scored(app.extensions["tenderwatch"]["live"])
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    who = f"{users} user(s) may sign in" if users else "no sign-in: this machine only"
    echo(f"tenderwatch web: serving http://{shown}:{server.effective_port}/ ({who}); Ctrl-C stops it")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        server.close()


@command(web, "adduser", short_help="Add a user (or set a user's password).")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def adduser(state: State, name: str, password_stdin: bool) -> None:
    """Add a user who may sign in to the web page, or set a known user's new password.

    Asks for the password twice (at least 10 characters); with --password-stdin, reads it from the
    first line of standard input instead (for scripts). Passwords are stored as argon2id hashes.

    \b
    Examples:
      tenderwatch web adduser alice
      printf '%s\\n' "$PASSWORD" | tenderwatch web adduser alice --password-stdin
    """
    from store.users import add_user, check_name, check_password

    check_name(name)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    check_password(password)
    with state.database.writing() as session:
        new = add_user(session, name, password)
    echo(f"{name}: {'added' if new else 'password changed'}")


@command(web, "deluser", short_help="Remove a user.")
@click.argument("name")
def deluser(state: State, name: str) -> None:
    """Remove a user: they can no longer sign in (a session already open ends at its next request)."""
    from store.users import remove_user

    with state.database.writing() as session:
        if not remove_user(session, name):
            raise InputError(f"no user '{name}'; see `tenderwatch web users`")
    echo(f"{name}: removed")


@command(web, "users", short_help="List the users.")
def users(state: State) -> None:
    """List the users who may sign in to the web page."""
    from store.users import user_names

    with state.database.reading() as session:
        names = user_names(session)
    for name in names:
        echo(name)
    if not names:
        echo(
            "No users: the web page serves this machine only. Add one with `tenderwatch web adduser NAME`.",
            err=True,
        )
