"""Is a channel reachable? Checked without sending anything, for `tenderwatch status`.

A mail server: connect, EHLO, STARTTLS and login when the URL asks for them, then QUIT before any
message (no MAIL FROM, nothing queued). A Teams Workflows webhook: a TCP connection to its host and
the TLS handshake with the certificate checked as apprise would, but no HTTP request at all. Any
request to the workflow's URL could run the workflow (a Power Automate HTTP trigger can accept any
method) and post to the channel, so none is made: the check proves the name resolves, the host
answers and its certificate is good, not that the workflow's signature is still valid (only a post
can: `tenderwatch notify test`). Other apprise services are not checked (no host to try).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from notify.redact import scrub
from notify.send import SMTP_REPLY, not_connected


@dataclass(frozen=True)
class Reachability:
    where: str  # "the mail server smtp.example.org:587", never the URL (it holds secrets)
    problem: str | None = None  # why it cannot be reached, or None when it can


def check_channel(url: str, kind: str, timeout: float) -> Reachability | None:
    """Whether this channel's server answers; None for a kind not checked (other apprise services
    read tokens where a host would be, e.g. discord://ID/TOKEN: no host to try, none to name)."""
    import apprise

    if kind not in ("email", "teams"):
        return None
    plugin: Any = apprise.Apprise.instantiate(url)
    if plugin is None or not getattr(plugin, "host", None):
        return None
    if kind == "email":
        return _check_mail_server(plugin, url, timeout)
    port = int(plugin.port or 443)  # Workflows posts over https only
    return _check_web_host(plugin.host, port, bool(plugin.verify_certificate), url, timeout)


def _check_mail_server(plugin: Any, url: str, timeout: float) -> Reachability:
    host, mode = plugin.smtp_host, plugin.secure_mode
    port = int(plugin.port or (465 if mode == "ssl" else 587 if plugin.secure else 25))
    where = f"the mail server {host}:{port}"
    context = _tls_context(bool(plugin.verify_certificate))
    try:
        if mode == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        try:
            server.ehlo()
            if mode == "starttls":
                server.starttls(context=context)
                server.ehlo()
            if plugin.user and plugin.password:
                server.login(plugin.user, plugin.password)
        finally:
            _quit(server)
    except (OSError, smtplib.SMTPException) as error:
        raw = str(error) or type(error).__name__
        reply = SMTP_REPLY.search(repr(error.args))
        replied = scrub(f"{reply[1]} {reply[3]}", url) if reply else ""
        if isinstance(error, smtplib.SMTPResponseException):
            replied = scrub(f"{error.smtp_code} {_text(error.smtp_error)}", url)
        return Reachability(where, not_connected(raw.lower(), scrub(raw, url), replied, timeout))
    return Reachability(where)


def _check_web_host(host: str, port: int, verify: bool, url: str, timeout: float) -> Reachability:
    where = f"the webhook host {host}:{port}"
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as connection,
            _tls_context(verify).wrap_socket(connection, server_hostname=host),
        ):
            pass  # the handshake is the check; nothing is sent over it
    except TimeoutError:
        return Reachability(where, f"no answer within {timeout:g} s")
    except socket.gaierror as error:
        return Reachability(where, f"its name does not resolve ({scrub(str(error), url)})")
    except ssl.SSLError as error:
        return Reachability(where, f"the TLS handshake failed ({scrub(error.reason or str(error), url)})")
    except OSError as error:
        return Reachability(where, scrub(error.strerror or str(error), url))
    return Reachability(where)


def _tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:  # the URL's ?verify=no, as apprise honours it when sending
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _quit(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except (OSError, smtplib.SMTPException):
        server.close()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
