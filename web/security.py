"""What keeps the web page safe: sign-in, CSRF tokens, the session key, and the response headers.

- **Who.** With any user in the store (`tenderwatch web adduser`), every page but the sign-in page
  needs a signed-in user, on any address. With none, the page serves only on the local machine, and
  only to requests addressed to it by a local name (so a web page that rebinds its own host name to
  127.0.0.1 cannot read it); the CLI refuses to listen beyond localhost without users.
- **Sessions** are Flask's signed cookies (itsdangerous, HMAC-SHA1 over the session key), HttpOnly,
  SameSite=Lax, and Secure when the public address is https. Signing in starts a new session. Each
  carries its user's session key (store.users): signing out, or setting the password again, replaces
  it, so a copied cookie stops working then, on every device.
- **CSRF.** Every form carries the session's random token; a POST without it, or with another one,
  is refused (400) before any handler runs. GETs never change anything.
- **Headers.** A Content-Security-Policy that allows no script at all, styles only from the page's
  own stylesheet, forms only back to itself and no framing (the digest preview: its own frame).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, redirect, request, session, url_for

from tenderwatch.config import Config
from tenderwatch.files import write_whole

CSRF_FIELD = "csrf_token"
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The digest preview is the e-mail as it will be sent: inline styles, never a script, and shown
# only inside the page's own frame.
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'"
OPEN_ENDPOINTS = ("login", "static")


def session_key(config: Config) -> str:
    """TENDERWATCH_WEB_SECRET_KEY, else a random key kept (owner-only) in the data folder."""
    if config.web.secret_key:
        return config.web.secret_key
    path = config.data_dir / "web-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, lambda out: out.write(secrets.token_hex(32)))
        path.chmod(0o600)
    return Path(path).read_text(encoding="utf-8").strip()


def csrf_token() -> str:
    """The session's CSRF token (made on first use), for every form's hidden field."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def install(
    app: Flask,
    config: Config,
    users_exist: Callable[[], bool],
    session_valid: Callable[[str, str | None], bool],
) -> None:
    """Sign-in, CSRF and the headers, on every request of `app`."""
    app.config.update(
        SECRET_KEY=session_key(config),
        SESSION_COOKIE_NAME="tenderwatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config.web.public_url and config.web.public_url.startswith("https:")),
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,  # a rules file is a few KB
    )
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def guard() -> Response | None:
        g.signed_in = users_exist()
        if not g.signed_in:
            if not config.web.local_only or not _local_host(request.host):
                abort(403, "This page serves only the local machine until a user is added")
            g.user = "local"
        else:
            g.user = session.get("user")
            # Removed, signed out elsewhere or given a new password since this session began.
            if g.user is not None and not session_valid(g.user, session.get("key")):
                session.clear()
                g.user = None
            if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
                if request.method == "GET":
                    return redirect(url_for("login", next=request.full_path))
                # A form sent after the session ended (signed out elsewhere, 12 hours on): say that
                # nothing was saved, and come back to the page it was sent from.
                return redirect(url_for("login", next=_page_sent_from(), ended="1"))
        if request.method == "POST" and not _token_matches(request.form.get(CSRF_FIELD)):
            abort(400, "This form has expired or did not come from this page: reload the page and try again")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        preview = request.endpoint == "digest_preview"
        response.headers["Content-Security-Policy"] = PREVIEW_POLICY if preview else PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "SAMEORIGIN" if preview else "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if response.mimetype != "text/css":
            response.headers["Cache-Control"] = "no-store"  # notices and decisions stay off disk caches
        return response


def _page_sent_from() -> str | None:
    """The page of this site a form was sent from (its action may take POSTs only), else None."""
    sent_from = urlsplit(request.referrer or "")
    if sent_from.netloc != request.host or not sent_from.path:
        return None
    return sent_from.path + (f"?{sent_from.query}" if sent_from.query else "")


def _token_matches(given: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))


def _local_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in LOCAL_NAMES


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another site. Browsers drop tabs
    and line breaks from a URL and read a backslash as a slash, so "/\t/evil.example" would be
    "//evil.example": a target holding any of them is refused."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
            return target
    return url_for("inbox")
