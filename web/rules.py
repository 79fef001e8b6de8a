"""The rules page: the live profile's rules in the browser; check, try (a backtest against the live
rules and the team's decisions), publish (a new version in the store), and return to any earlier one.

Rules reach the store only through validation (store.profiles.publish), and never a file: the page
reads only the configured rules file of the profile it serves (and the learned words file the rules
name, found beside it), and writes nothing on disk.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, abort, flash, g, redirect, render_template, request, url_for

from scoring.profile import load_profile_text
from scoring.yamlnodes import ProfileError
from store.profiles import publish, published, version, versions
from store.scores import run_backtest

DRAFT = "draft"  # how the rules being edited are named in their errors
MOVED_SHOWN = 50  # notices listed each way after "Try it"
SUGGESTIONS_SHOWN = 10


def register(app: Flask) -> None:
    app.add_url_rule("/rules", "rules", rules_page, methods=["GET", "POST"])
    app.add_url_rule("/rules/versions/<int:number>/restore", "restore", restore, methods=["POST"])
    app.add_url_rule("/rules/suggestions", "suggestions", suggestions)


def _store() -> dict[str, Any]:
    from flask import current_app

    return current_app.extensions["tenderwatch"]


def _file_text() -> str:
    """The profile's configured rules file: the one file this page reads (it writes none)."""
    config, live = _store()["config"], _store()["live"]
    return config.scoring.profile_path(live.name).read_text(encoding="utf-8")


def _began_from(number: int | None) -> str:
    """What a page's editor begins from: the live version's number, or while the rules file is live
    a fingerprint of its text ("file:..."), so that an edit of the file on the server is not undone."""
    if number:
        return str(number)
    try:
        text = _file_text()
    except OSError:
        return "0"  # unreadable: publishing is refused for that reason anyway
    return "file:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _history(name: str) -> list[dict[str, Any]]:
    """Every published version, newest first, each with its diff from the one before."""
    with _store()["database"].reading() as db:
        rows = versions(db, name)
    if not rows:
        return []
    earlier = [row.rules for row in rows[1:]] + [_file_text()]
    return [
        {"row": row, "diff": _diff(before, row.rules), "live": index == 0}
        for index, (row, before) in enumerate(zip(rows, earlier, strict=True))
    ]


def _diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1)
    return list(lines)[2:]  # without the ---/+++ header


def _live_text(name: str) -> tuple[str, int | None]:
    from store.profiles import live_rules_text

    return live_rules_text(_store()["database"], _store()["config"].scoring, name)


def rules_page() -> Any:
    live = _store()["live"]
    name = live.name
    text, _ = _live_text(name)
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        text = request.form.get("rules", "").replace("\r\n", "\n")
        action = request.form.get("action")
        if action not in ("check", "try", "publish"):
            abort(400, "choose Check, Try it or Publish")
        # The live version the draft began from, kept through Check and Try it: publishing over a
        # version someone published since would silently undo their change.
        context["based_on"] = request.form.get("based_on", "")
        context["note"] = request.form.get("note")  # typed before Check or Try it: kept for Publish
        try:
            draft = load_profile_text(text, name, DRAFT, _folder())
        except ProfileError as exc:
            context["problem"], context["mistakes"], status = exc, _mistakes_by_line(exc), 400
        else:
            if action == "publish":
                return _publish(name, text, request.form.get("note"), context["based_on"])
            if action == "try":
                with _store()["database"].reading() as db:
                    result = context["result"] = run_backtest(db, live.profile(), draft)
                context["shown"] = MOVED_SHOWN
                # What the team said of each moved notice: dropping one judged relevant is the cost.
                context["labels"] = {judged.key: judged.label for judged in result.judged}
            else:
                context["checked"] = draft
    return _page(name, text, status, **context)


def _page(name: str, text: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """The rules page with `text` in the editor (and what was done with it)."""
    _, number = _live_text(name)
    shown = {
        "name": name,
        "live_number": number,
        "problem": None,
        "result": None,
        "based_on": _began_from(number),
    }
    shown.update(context)
    shown.update(text=text, lines=text.split("\n"), history=_history(name))
    return render_template("rules.html", **shown), status


def _mistakes_by_line(problem: ProfileError) -> dict[int | None, list[ProfileError]]:
    """Every mistake found, grouped by its line (None: no line), each shown beside its line."""
    grouped: dict[int | None, list[ProfileError]] = {}
    for mistake in problem.mistakes:
        grouped.setdefault(mistake.line, []).append(mistake)
    return grouped


def _folder() -> Path:
    """The folder of the profile's rules file, where a learned words file it names is found."""
    return _store()["config"].scoring.profile_path(_store()["live"].name).parent


def _publish(name: str, text: str, note: str | None, based_on: str) -> Any:
    """Publish `text`, unless a version was published (or the rules file edited) since the page's
    editor was filled from `based_on` (`_began_from`): then nothing is, and the draft comes back beside
    what changed, to publish again once it holds that change too (or leaves it out on purpose)."""
    live = _store()["live"]
    since = None
    with _store()["database"].writing() as db:
        newest = published(db, name)
        if newest is None and based_on.startswith("file:") and based_on != _began_from(None):
            since = {"file": True, "diff": _diff(_file_text(), text)}
        elif newest is not None and based_on != str(newest.number):
            begun = version(db, name, int(based_on)) if based_on.isdigit() and based_on != "0" else None
            since = {
                "number": newest.number,
                "by": newest.published_by,
                "at": newest.published_at,
                "note": newest.note,
                "diff": _diff(begun.rules if begun else _file_text(), newest.rules),
            }
        else:
            number = publish(db, name, text, g.user, (note or "").strip() or None, folder=_folder()).number
    if since is not None:
        return _page(name, text, 409, since=since, note=note)  # begun again from what is live now
    scored = live.rescore()
    flash(f"Published version {number}: it is live, and {scored:,} notices were scored again.")
    return redirect(url_for("rules"))


def restore(number: int) -> Any:
    """Publish an earlier version's rules again (0: the configured rules file) as the newest."""
    name = _store()["live"].name
    if number == 0:
        try:
            text = _file_text()
        except OSError as exc:
            abort(
                400,
                f"The configured rules file cannot be read ({exc.strerror or exc}); nothing was published.",
            )
    else:
        with _store()["database"].reading() as db:
            row = version(db, name, number)
            text = row.rules if row else None
    if text is None:
        abort(404, f"No version {number} of profile {name}.")
    what = "the rules file" if number == 0 else f"version {number}"
    try:  # the file may have changed since: its mistakes are shown in the editor, nothing published
        load_profile_text(text, name, DRAFT, _folder())
    except ProfileError as exc:
        return _page(name, text, 400, problem=exc, mistakes=_mistakes_by_line(exc))
    return _publish(name, text, f"return to {what}", request.form.get("based_on", ""))


def suggestions() -> Any:
    """`rules suggest` on the page: each change the team's judgements support, with its effect, as a
    draft one click opens in the editor (checked, not published)."""
    from scoring.edit import apply_suggestion
    from scoring.report import suggestion_lines
    from store.scores import suggest_rules

    live = _store()["live"]
    text, live_number = _live_text(live.name)
    with _store()["database"].reading() as db:
        found, labels, tried = suggest_rules(db, live.profile(), None, SUGGESTIONS_SHOWN)
    items = [
        {
            "suggestion": suggestion,
            "lines": suggestion_lines([suggestion], labels)[1:],  # without its number
            "draft": apply_suggestion(text, suggestion.where, suggestion.yaml),
        }
        for suggestion in found
    ]
    relevant = sum(1 for label in labels.values() if label == "relevant")
    return render_template(
        "suggestions.html",
        name=live.name,
        items=items,
        judged=len(labels),
        relevant=relevant,
        tried=tried,
        live_number=live_number,
    )
