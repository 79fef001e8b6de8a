"""The pages: sign-in, the inbox, a notice with its decisions, the decisions list, sources and digests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from scoring.engine import score_notice
from scoring.feedback import LABELS
from scoring.timing import response_window
from store.decisions import DECISIONS, decisions_csv, decisions_of, latest_decisions, record_decision
from store.models import FeedbackRow, NoticeRow, utcnow
from store.queries import (
    NoticeFilter,
    find_notices,
    get_notice,
    notice_history,
    release_count,
    same_procurement,
)
from store.scores import add_feedback, scores_for
from store.users import authenticate, end_sessions, start_visit
from tenderwatch.errors import InputError
from web.filters import notice_path
from web.security import safe_next

INBOX_LIMIT = 100
MAX_PAGE = 50  # pages read the ones before them: beyond this, a narrower filter is the answer
NOTICE_TYPES = tuple(f"UK{number}" for number in range(1, 18))
LOCAL_NEW_DAYS = 7  # without users there is no last visit: "new" is what arrived in the last week


def store() -> dict[str, Any]:
    from flask import current_app

    return current_app.extensions["tenderwatch"]


def register(app: Flask) -> None:
    app.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "logout", logout, methods=["POST"])
    app.add_url_rule("/", "inbox", inbox)
    app.add_url_rule("/notices/<path:key>/feedback", "feedback", feedback, methods=["GET", "POST"])
    app.add_url_rule("/notices/<path:key>/decision", "decide", decide, methods=["POST"])
    app.add_url_rule("/notices/<path:key>", "notice", notice_page)
    app.add_url_rule("/decisions", "decisions", decisions)
    app.add_url_rule("/decisions.csv", "decisions_csv", decisions_download)
    app.add_url_rule("/status", "status", status)
    app.add_url_rule("/status/preview/<path:channel>", "digest_preview", digest_preview)
    for code in (400, 403, 404, 405, 500):  # the page's own, with its navigation, never a bare one
        app.register_error_handler(code, _error)


def _error(error: Any) -> tuple[str, int]:
    return render_template("error.html", error=error), error.code


# ------------------------------------------------------------------------------------------- sign-in


def login() -> Any:
    if request.method == "GET":
        ended = request.args.get("ended") == "1"
        return render_template("login.html", next=request.args.get("next"), ended=ended)
    name, password = request.form.get("name", ""), request.form.get("password", "")
    database = store()["database"]
    with database.writing() as db:
        user = authenticate(db, name, password)
        previous, key = start_visit(user) if user else (None, None)
    if user is None:
        return render_template("login.html", next=request.form.get("next"), failed=True), 401
    session.clear()  # a new session on signing in: nothing set before it survives
    session.permanent = True
    session["user"] = name
    session["since"] = previous.isoformat() if previous else None
    session["key"] = key
    return redirect(safe_next(request.form.get("next")))


def logout() -> Response:
    """Signing out ends this user's sessions on every device: a copied cookie must not outlive it."""
    if g.signed_in and g.user:
        with store()["database"].writing() as db:
            end_sessions(db, g.user)
    session.clear()
    return redirect(url_for("login"))


def since_last_visit() -> datetime:
    """When the user's previous visit began (their inbox marks what arrived since as new)."""
    stamp = session.get("since") if g.signed_in else None
    if stamp:
        return datetime.fromisoformat(stamp)
    return utcnow() - timedelta(days=LOCAL_NEW_DAYS)


# ------------------------------------------------------------------------------------------- inbox


@dataclass(frozen=True)
class InboxQuery:
    """The inbox's filters, as URL query parameters so a reload or a shared link keeps them."""

    bands: tuple[str, ...]
    source: str
    notice_type: str
    open_only: bool
    min_value: float | None
    max_value: float | None
    buyer: str
    region: str
    text: str
    new_only: bool
    min_text: str = ""  # the amounts as sent ("250k", or "lots" to correct): the form shows them again
    max_text: str = ""


def inbox_query(args: Any, problems: list[str]) -> InboxQuery:
    """The filters asked for; a value that cannot be one is left out and said in `problems`, named
    by its label on the form."""
    # No NUL (%00) reaches the store: PostgreSQL refuses a string holding one (a 500), and no real
    # filter has one.
    args = MultiDict([(name, value.replace("\x00", "")) for name, value in args.items(multi=True)])
    bands = tuple(band for band in args.getlist("band") if band in ("strong", "possible")) or (
        "strong",
        "possible",
    )
    notice_type = args.get("type", "").strip().upper()
    if notice_type and notice_type not in NOTICE_TYPES:
        problems.append(f"Notice type: '{notice_type}' is not a notice type; choose UK1 to UK17")
        notice_type = ""
    return InboxQuery(
        bands=bands,
        source=args.get("source", "").strip(),
        notice_type=notice_type,
        open_only=args.get("open") == "1",
        min_value=_amount(args, "min_value", "Value from £", problems),
        max_value=_amount(args, "max_value", "to £", problems),
        buyer=args.get("buyer", "").strip(),
        region=args.get("region", "").strip().upper(),
        text=args.get("q", "").strip(),
        new_only=args.get("new") == "1",
        min_text=args.get("min_value", "").strip(),
        max_text=args.get("max_value", "").strip(),
    )


_SCALES = {"k": 1e3, "m": 1e6, "bn": 1e9}  # "250k", "1.5m", as bid teams write amounts


def _amount(args: Any, name: str, label: str, problems: list[str]) -> float | None:
    text = args.get(name, "").replace(",", "").replace("£", "").strip()
    if not text:
        return None
    number, scale = text.lower(), 1.0
    for suffix, factor in _SCALES.items():
        if number.endswith(suffix):
            number, scale = number[: -len(suffix)].strip(), factor
            break
    try:
        value = float(number) * scale
    except ValueError:
        problems.append(f"{label}: '{text}' is not an amount; write pounds, e.g. 250000 or 250k")
        return None
    if not math.isfinite(value) or value < 0:
        problems.append(f"{label}: give an amount of 0 or more")
        return None
    return value


def inbox() -> Any:
    from store.search import parse

    problems: list[str] = []
    query = inbox_query(request.args, problems)
    page = _page_number(request.args.get("page", "1"))
    if query.text:
        try:
            parse(query.text)
        except ValueError as exc:
            problems.append(f"Search: {exc}")
    live = store()["live"]
    since = since_last_visit()
    if problems:  # the form as it was sent and what to change; no list that ignores a filter
        return _inbox_page(query, live.profile(), since, [], page, more=False, problems=problems), 400
    live.ensure_scored()  # notices crawled since the last look are in the inbox at once
    profile = live.profile()
    now = utcnow()
    where = NoticeFilter(
        source=query.source or None,
        notice_types=(query.notice_type,) if query.notice_type else (),
        opportunities_only=query.open_only,
        open_at=now if query.open_only else None,
        text=query.text or None,
        bands=query.bands,
        profile=profile.name,
        min_value=query.min_value,
        max_value=query.max_value,
        buyer=query.buyer or None,
        region=query.region or None,
        first_seen_since=since if query.new_only else None,
    )
    with store()["database"].reading() as db:
        # Pages are few (a narrower filter beats paging far), so a page reads the ones before it
        # too: the same order as page 1, with search's ranking, and no offset in every query.
        shown = INBOX_LIMIT * page
        found = find_notices(db, where, limit=shown + 1)
        more = len(found) > shown
        found = found[shown - INBOX_LIMIT : shown]
        keys = [notice.id for notice in found]
        scores = scores_for(db, profile, keys)
        first_seen = dict(
            db.execute(select(NoticeRow.key, NoticeRow.first_seen).where(NoticeRow.key.in_(keys))).all()
        )
        decided = latest_decisions(db, keys)
        # Nothing found in a store with nothing in it: before the first crawl, not the filters.
        nothing_stored = not found and db.scalar(select(NoticeRow.id).limit(1)) is None  # not a count of all
    rows = [
        {
            "notice": notice,
            "score": scores.get(notice.id),
            "new": first_seen.get(notice.id, now) >= since,
            "decision": decided.get(notice.id),
        }
        for notice in found
    ]
    return _inbox_page(query, profile, since, rows, page, more=more, nothing_stored=nothing_stored)


def _inbox_page(
    query: InboxQuery,
    profile: Any,
    since: datetime,
    rows: list[dict[str, Any]],
    page: int,
    *,
    more: bool,
    problems: list[str] | None = None,
    nothing_stored: bool = False,
) -> str:
    return render_template(
        "inbox.html",
        rows=rows,
        query=query,
        since=since,
        sources=sorted(store()["config"].sources),
        types=NOTICE_TYPES,
        limit=INBOX_LIMIT,
        profile=profile,
        page=page,
        first=(page - 1) * INBOX_LIMIT + 1,
        next_page=_page_url(page + 1) if more else None,
        previous_page=_page_url(page - 1) if page > 1 else None,
        problems=problems or [],
        nothing_stored=nothing_stored,
    )


def _page_number(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        abort(400, f"page: '{value}' is not a page number from 1 to {MAX_PAGE}; narrow the filters instead")
    return int(value)


def _page_url(page: int) -> str:
    """This inbox URL, its filters kept, at another page."""
    arguments = request.args.to_dict(flat=False)
    arguments["page"] = [str(page)]
    return url_for("inbox", **arguments)


# ------------------------------------------------------------------------------------------- a notice


def _notice_or_404(db: Any, key: str) -> Any:
    notice = get_notice(db, key)
    if notice is None:
        abort(404, f"No notice '{key}' in the store.")
    return notice


def notice_page(
    key: str, *, error: str | None = None, status_code: int = 200, sent: dict[str, Any] | None = None
) -> Any:
    profile = store()["live"].profile()
    with store()["database"].reading() as db:
        notice = _notice_or_404(db, key)
        history, releases = notice_history(db, key), release_count(db, notice)
        related = same_procurement(db, notice)
        judged = db.scalars(
            select(FeedbackRow).where(FeedbackRow.notice_key == key).order_by(FeedbackRow.id.desc()).limit(1)
        ).first()
        decided = decisions_of(db, key)
    score = score_notice(notice, profile)
    timing = response_window(notice, profile.min_response_days, utcnow())
    html = render_template(
        "notice.html",
        notice=notice,
        history=history,
        releases=releases,
        related=related,
        score=score,
        timing=timing,
        profile=profile,
        judged=judged,
        decisions=decided,
        choices=DECISIONS,
        error=error,
        sent=sent,
    )
    return html, status_code


def feedback(key: str) -> Any:
    label = request.values.get("label", "")
    if label not in LABELS:
        abort(400, f"label must be {' or '.join(LABELS)}, not '{label}'")
    with store()["database"].reading() as db:
        notice = _notice_or_404(db, key)
    if request.method == "GET":  # a link in the e-mail: confirm first, as link scanners follow links
        return render_template("confirm_feedback.html", notice=notice, label=label)
    with store()["database"].writing() as db:
        add_feedback(db, key, label, f"by {g.user} on the web page")
    flash(f"Recorded: {label.replace('-', ' ')}.")
    return redirect(url_for("notice", key=notice_path(key)))


def decide(key: str) -> Any:
    problem = None
    chosen, reason = request.form.get("decision", ""), request.form.get("reason")
    with store()["database"].writing() as db:
        _notice_or_404(db, key)
        try:
            if not chosen:  # in the form's words, not the command's
                raise InputError("Choose Bid, No bid or Watching, then Record decision.")
            record_decision(db, key, chosen, reason, g.user)
        except InputError as exc:  # checked before anything is added: nothing to undo
            problem = str(exc)
    if problem:  # the form as it was sent, to add what is missing
        return notice_page(key, error=problem, status_code=400, sent={"decision": chosen, "reason": reason})
    flash("Decision recorded.")
    return redirect(url_for("notice", key=notice_path(key)))


# ------------------------------------------------------------------------------------------- decisions


def decisions() -> str:
    with store()["database"].reading() as db:
        latest = latest_decisions(db)
        titles = dict(
            db.execute(select(NoticeRow.key, NoticeRow.title).where(NoticeRow.key.in_(list(latest)))).all()
        )
    return render_template("decisions.html", decisions=list(latest.values()), titles=titles)


def decisions_download() -> Response:
    with store()["database"].reading() as db:
        text = decisions_csv(db)
    stamp = f"{utcnow():%Y-%m-%d}"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="bid-decisions-{stamp}.csv"'},
    )


# ------------------------------------------------------------------------------------------- status


def status() -> str:
    from notify.run import targets
    from tenderwatch.cli.base import State
    from tenderwatch.cli.schedule import DIGEST_HEADERS, SOURCE_HEADERS, status_report

    config, database = store()["config"], store()["database"]
    live = store()["live"]
    report = status_report(State.of(config, database, live.profile), utcnow())
    return render_template(
        "status.html",
        report=report,
        source_headers=SOURCE_HEADERS,
        digest_headers=DIGEST_HEADERS,
        targets=targets(config),
    )


def digest_preview(channel: str) -> Response:
    """The next digest for `channel` exactly as it would be sent now (nothing is sent or recorded)."""
    from notify.run import send_digests, targets

    config, database = store()["config"], store()["database"]
    chosen = [target for target in targets(config) if target.key == channel]
    if not chosen:
        abort(404, f"No channel '{channel}'.")
    live = store()["live"]
    if chosen[0].profile == live.name:
        live.ensure_scored()
        profiles = {live.name: live.profile()}
    else:  # a channel of another profile: send_digests loads and scores it
        profiles = {}
    result = send_digests(config, database, chosen, dry_run=True, profiles=profiles)[0]
    # Its links open in a tab of their own: in the frame, pages that refuse framing (this site's
    # too) would show only a broken frame.
    html = result.html.replace("<head>", '<head><base target="_blank">', 1)
    return Response(html, mimetype="text/html")
