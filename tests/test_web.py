"""`tenderwatch web` over real HTTP: the application served by waitress on 127.0.0.1, on a real store
(SQLite and PostgreSQL) holding two recorded days of Find a Tender and a Contracts Finder page.

Security first (who may see what, CSRF, escaping, headers), then each page: the inbox and its
filters, a notice and the digest e-mail's links to it, decisions and their CSV, the rules (check,
try, publish, return), and sources and digests.
"""

from __future__ import annotations

import csv
import html
import io
import re
import subprocess
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from scoring.profile import load_profile
from store.ingest import save_notices
from store.models import BidDecision, FeedbackRow, ProfileVersion, utcnow
from store.notice import LONDON
from store.profiles import live_profile, publish
from store.queries import get_notice
from store.scores import add_feedback
from store.users import add_user, remove_user
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tenderwatch.config import EXAMPLE_PROFILE
from tenderwatch.errors import ConfigError
from tests.support.cli import TENDERWATCH
from tests.support.receivers import free_port
from tests.support.stored import RECORDED, filled_store, store_recorded
from tests.support.web import PASSWORD, VRP, WebServer, csrf_token, hostile_notice, sign_in

THE_PAGES_OWN_CHECKS = "the web page's own checks and escaping, whatever stores the notices"

HOSTILE = "find_a_tender:099999-2026"


@pytest.fixture
def stored(request, env):
    return filled_store(request, env, RECORDED, store_recorded)


@pytest.fixture
def site(config, stored):
    with WebServer(config, stored) as server:
        yield server


@pytest.fixture
def alice(stored):
    with stored.writing() as session:
        add_user(session, "alice", PASSWORD)
    return "alice"


def feedback_rows(database) -> list[tuple[str, str]]:
    with database.reading() as session:
        return [tuple(row) for row in session.execute(select(FeedbackRow.notice_key, FeedbackRow.label))]


# ---------------------------------------------------------------------------------------------- security


@pytest.mark.above_the_store(reason=THE_PAGES_OWN_CHECKS)
def test_without_users_it_serves_this_machine_with_a_strict_policy_and_no_script(site):
    page = requests.get(site.url("/"))
    assert page.status_code == 200
    assert "Violence Reduction" in page.text  # the strong match is in the inbox
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy and page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in page.text.lower()
    # A page on another site that rebinds its own name to 127.0.0.1 is refused.
    rebound = requests.get(site.url("/"), headers={"Host": f"evil.example:{site.server.effective_port}"})
    assert rebound.status_code == 403 and "Violence Reduction" not in rebound.text


def test_with_a_user_every_page_asks_to_sign_in_and_a_wrong_password_is_refused(site, alice, stored):
    for path in ("/", f"/notices/{VRP}", "/rules", "/status", "/decisions", "/decisions.csv"):
        answer = requests.get(site.url(path), allow_redirects=False)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    client = requests.Session()
    token = csrf_token(client.get(site.url("/login")).text)
    wrong = client.post(site.url("/login"), data={"name": "alice", "password": "guess", "csrf_token": token})
    assert wrong.status_code == 401 and "do not match" in wrong.text
    unknown = client.post(site.url("/login"), data={"name": "bob", "password": PASSWORD, "csrf_token": token})
    assert unknown.status_code == 401
    assert client.get(site.url("/"), allow_redirects=False).status_code == 302
    client = sign_in(site, "alice")
    cookie = next(c for c in client.cookies if c.name == "tenderwatch_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert "Violence Reduction" in client.get(site.url("/")).text
    # Signing out ends the session.
    token = csrf_token(client.get(site.url("/")).text)
    client.post(site.url("/logout"), data={"csrf_token": token})
    assert client.get(site.url("/"), allow_redirects=False).status_code == 302
    # A user removed while signed in is signed out at the next request.
    client = sign_in(site, "alice")
    with stored.writing() as session:
        add_user(session, "bob", PASSWORD)
        remove_user(session, "alice")
    assert client.get(site.url("/"), allow_redirects=False).status_code == 302


def copied(client: requests.Session) -> requests.Session:
    """Another browser holding a copy of the client's session cookie."""
    thief = requests.Session()
    thief.cookies.update(client.cookies)
    return thief


def test_a_copied_session_cookie_stops_working_at_sign_out_and_at_a_new_password(site, alice, stored):
    client = sign_in(site, "alice")
    thief = copied(client)
    assert "Violence Reduction" in thief.get(site.url("/")).text
    client.post(site.url("/logout"), data={"csrf_token": csrf_token(client.get(site.url("/")).text)})
    assert thief.get(site.url("/"), allow_redirects=False).status_code == 302
    # A second device signed in stays signed in until a new password is set.
    laptop, phone = sign_in(site, "alice"), sign_in(site, "alice")
    thief = copied(laptop)
    assert phone.get(site.url("/"), allow_redirects=False).status_code == 200
    token = csrf_token(thief.get(site.url(f"/notices/{VRP}")).text)
    with stored.writing() as session:
        add_user(session, "alice", PASSWORD[::-1])  # `web adduser alice` again: the password reset
    for old in (thief, laptop, phone):
        assert old.get(site.url("/"), allow_redirects=False).status_code == 302
    refused = thief.post(
        site.url(f"/notices/{VRP}/decision"),  # a form whose action takes POSTs only
        data={"decision": "bid", "csrf_token": token},
        headers={"Referer": site.url(f"/notices/{VRP}")},
        allow_redirects=False,
    )
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    # The sign-in page says the form was not saved, and signing in returns to the page it came from.
    assert f"next=/notices/{VRP}&" in unquote(refused.headers["Location"])
    said = thief.get(site.url(refused.headers["Location"])).text
    assert "Your session had ended, so what you sent was not saved" in said
    with stored.reading() as session:
        assert session.scalars(select(BidDecision)).first() is None
    assert sign_in(site, "alice", PASSWORD[::-1]).get(site.url("/")).status_code == 200


@pytest.mark.above_the_store(reason=THE_PAGES_OWN_CHECKS)
def test_a_post_without_the_csrf_token_or_with_another_is_refused_and_changes_nothing(site, stored):
    client = requests.Session()
    page = client.get(site.url(f"/notices/{VRP}"))
    token = csrf_token(page.text)
    url = site.url(f"/notices/{VRP}/feedback")
    missing = client.post(url, data={"label": "not-relevant"})
    other = client.post(url, data={"label": "not-relevant", "csrf_token": token[::-1]})
    # Another browser's token (its own session) is not this session's.
    stranger = requests.Session()
    theirs = csrf_token(stranger.get(site.url(f"/notices/{VRP}")).text)
    crossed = client.post(url, data={"label": "not-relevant", "csrf_token": theirs})
    decision = client.post(site.url(f"/notices/{VRP}/decision"), data={"decision": "bid"})
    for refused in (missing, other, crossed, decision):
        assert refused.status_code == 400 and "reload the page" in refused.text
    assert feedback_rows(stored) == []
    with stored.reading() as session:
        assert session.scalars(select(BidDecision)).first() is None
    accepted = client.post(url, data={"label": "not-relevant", "csrf_token": token})
    assert accepted.status_code == 200 and "Recorded: not relevant" in accepted.text
    assert feedback_rows(stored) == [(VRP, "not-relevant")]


@pytest.mark.above_the_store(reason=THE_PAGES_OWN_CHECKS)
def test_hostile_notice_text_is_escaped_and_its_links_stay_on_the_source_host(site, stored):
    with stored.writing() as session:
        save_notices(session, [hostile_notice()], now=utcnow())
    for path in ("/", f"/notices/{HOSTILE}", "/?q=evaluation"):
        page = requests.get(site.url(path)).text
        assert "&lt;script&gt;alert" in page, path
        assert "<script" not in page and "<b>services" not in page and "<at>" not in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert 'href="javascript:' not in page and "evil.example.org" not in page
        assert 'href="https://ev.il' not in page  # Markdown is not rendered: the brackets stay text
    notice = requests.get(site.url(f"/notices/{HOSTILE}")).text
    assert "[click](javascript:alert(1))" in notice  # shown as the text it is
    assert 'href="https://www.find-tender.service.gov.uk/Notice/099999-2026"' in notice


# ---------------------------------------------------------------------------------------------- the inbox


def test_the_inbox_lists_matches_best_first_with_what_a_bid_manager_needs(site):
    page = requests.get(site.url("/")).text
    assert "best first" in page
    bands = re.findall(r"(STRONG|POSSIBLE)</span>", page)
    assert "STRONG" in bands and "POSSIBLE" in bands
    assert bands == sorted(bands, key=("STRONG", "POSSIBLE").index)  # strong matches above possible ones
    item = next(li for li in page.split('<li class="item">') if "Violence Reduction" in li)
    item = item[: item.index("</li>")]
    assert "STRONG" in item and "Why:" in item and "Find a Tender" in item
    assert re.search(r"£[\d,.]+m?|value not stated", item)
    assert "Closes" in item or "No deadline stated" in item
    published = [m.group(1) for m in re.finditer(r'<li class="item">.*?href="/notices/([^"]+)"', page, re.S)]
    assert len(published) > 5


def test_inbox_filters_are_url_parameters_and_narrow_the_list(site):
    everything = requests.get(site.url("/")).text
    strong = requests.get(site.url("/?band=strong")).text
    assert strong.count('class="item"') < everything.count('class="item"')
    assert "POSSIBLE</span>" not in strong and "STRONG</span>" in strong
    assert 'value="strong" checked' in strong  # the form shows the filter it came from
    searched = requests.get(site.url("/?q=violence+reduction")).text
    assert "Violence Reduction" in searched and searched.count('class="item"') < 5
    buyer = requests.get(site.url("/?buyer=no+such+buyer+anywhere")).text
    assert "No match meets these filters" in buyer
    costly = requests.get(site.url("/?min_value=1000000000000")).text
    assert "No match meets these filters" in costly
    cf = requests.get(site.url("/?source=contracts_finder")).text
    assert "Find a Tender</p>" not in cf
    # A NUL (%00) in a filter is left out: PostgreSQL refused it (a 500), and SQLite's search did.
    for nul in ("q=violence%00reduction", "buyer=%00", "region=%00", "source=%00"):
        assert requests.get(site.url(f"/?{nul}")).status_code == 200, nul
    # A value that cannot be a filter: the form again, as sent, with what to change by its label.
    bad = requests.get(site.url("/?min_value=lots&buyer=Brighton"))
    assert bad.status_code == 400 and "Value from £: &#39;lots&#39; is not an amount" in bad.text
    assert 'name="buyer" value="Brighton"' in bad.text and "No match meets" not in bad.text
    # The amount to correct is still in its box, marked, not emptied; one that reads is kept as written.
    assert 'name="min_value" value="lots" inputmode="numeric" size="9" aria-invalid="true">' in bad.text
    assert 'name="max_value" value="250k" inputmode="numeric" size="9">' in (
        requests.get(site.url("/?max_value=250k")).text
    )
    assert 'href="/"' in bad.text and 'class="filters"' in bad.text
    wrong_type = requests.get(site.url("/?type=UK99"))
    assert (
        wrong_type.status_code == 400
        and "Notice type: &#39;UK99&#39; is not a notice type" in wrong_type.text
    )
    # Amounts as bid teams write them.
    assert requests.get(site.url("/?min_value=1000bn")).text.count('class="item"') == 0
    assert "No match meets these filters" in requests.get(site.url("/?min_value=1000bn")).text
    assert requests.get(site.url("/?max_value=250k")).status_code == 200


def test_before_the_first_crawl_the_inbox_says_so_not_that_the_filters_match_nothing(config, database):
    with WebServer(config, database) as server:
        page = requests.get(server.url("/"))
        assert page.status_code == 200
        assert "No notice is stored yet" in page.text and "No match meets these filters" not in page.text


def test_the_inbox_pages_through_every_match_with_its_filters_kept(site, monkeypatch):
    monkeypatch.setattr("web.pages.INBOX_LIMIT", 4)  # the real page holds 100: fewer than stored here
    items = re.compile(r'class="item".*?href="/notices/([^"]+)"', re.S)
    first = requests.get(site.url("/?source=find_a_tender")).text
    second_link = html.unescape(re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first)[1])
    assert "source=find_a_tender" in second_link and "page=2" in second_link
    second = requests.get(site.url(second_link)).text
    assert "Matches 5 to 8." in second and 'rel="prev">Previous page' in second
    page_one, page_two = items.findall(first), items.findall(second)
    assert len(page_one) == len(page_two) == 4 and not set(page_one) & set(page_two)
    everything = []
    for page in range(1, 100):
        found = items.findall(requests.get(site.url(f"/?source=find_a_tender&page={page}")).text)
        everything += found
        if len(found) < 4:
            break
    assert everything[:8] == page_one + page_two and len(everything) == len(set(everything))
    monkeypatch.setattr("web.pages.INBOX_LIMIT", 1000)
    assert items.findall(requests.get(site.url("/?source=find_a_tender")).text) == everything
    assert requests.get(site.url("/?page=0")).status_code == 400
    assert requests.get(site.url("/?page=two")).status_code == 400


# ---------------------------------------------------------------------------------------------- a notice


def test_a_notice_shows_its_details_reasons_changes_and_source_link(site):
    page = requests.get(site.url(f"/notices/{VRP}")).text
    assert "Violence Reduction Partnership" in page
    assert 'href="https://www.find-tender.service.gov.uk/Notice/076396-2026"' in page
    assert ">Points</th>" in page and re.search(r'<td class="num">\+\d', page)
    for heading in ("Details", "Changes seen", "Same procurement", "Decide"):
        assert f">{heading}</h2>" in page
    encoded = requests.get(site.url("/notices/" + quote(VRP, safe="")))  # %3A as some mailers write it
    assert encoded.status_code == 200 and "Violence Reduction Partnership" in encoded.text
    missing = requests.get(site.url("/notices/find_a_tender:000000-2000"))
    assert missing.status_code == 404 and "No notice" in missing.text


def test_the_digest_links_ask_before_recording_as_a_link_scanner_follows_them(site, stored):
    client = requests.Session()
    url = site.url(f"/notices/{quote(VRP, safe=':')}/feedback?label=not-relevant")
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Mark as not relevant?" in confirm.text
    assert feedback_rows(stored) == []  # a GET changes nothing
    assert requests.get(site.url(f"/notices/{VRP}/feedback?label=maybe")).status_code == 400
    done = client.post(url, data={"label": "not-relevant", "csrf_token": csrf_token(confirm.text)})
    assert done.status_code == 200 and "Recorded: not relevant" in done.text
    relevant = client.get(site.url(f"/notices/{VRP}/feedback?label=relevant"))
    client.post(
        site.url(f"/notices/{VRP}/feedback"),
        data={"label": "relevant", "csrf_token": csrf_token(relevant.text)},
    )
    assert feedback_rows(stored) == [(VRP, "not-relevant"), (VRP, "relevant")]


def test_bid_decisions_record_who_and_when_and_export_as_csv(site, alice, stored):
    client = sign_in(site, "alice")
    token = csrf_token(client.get(site.url(f"/notices/{VRP}")).text)
    url = site.url(f"/notices/{VRP}/decision")
    no_reason = client.post(url, data={"decision": "no-bid", "csrf_token": token})
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.text
    # The form comes back as it was sent, to add what is missing: No bid still chosen, the reason kept.
    assert '<input type="radio" name="decision" value="no-bid" checked>' in no_reason.text
    unchosen = client.post(url, data={"reason": "too small <for us>", "csrf_token": token})
    assert unchosen.status_code == 400 and "Choose Bid, No bid or Watching" in unchosen.text
    assert 'name="reason" maxlength="500" value="too small &lt;for us&gt;"' in unchosen.text
    assert " checked>" not in unchosen.text.split('id="decide"')[1].split("</form>")[1]
    unknown = client.post(url, data={"decision": "maybe", "csrf_token": token})
    assert unknown.status_code == 400
    client.post(url, data={"decision": "watching", "csrf_token": token})
    recorded = client.post(
        url, data={"decision": "no-bid", "reason": "=HYPERLINK(x) too small", "csrf_token": token}
    )
    assert recorded.status_code == 200 and "by alice" in recorded.text
    listing = client.get(site.url("/decisions")).text
    assert "Violence Reduction" in listing and "no-bid" in listing
    download = client.get(site.url("/decisions.csv"))
    assert download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 1  # the latest decision of each notice
    assert rows[0]["notice"] == VRP and rows[0]["decision"] == "no-bid" and rows[0]["by"] == "alice"
    assert rows[0]["reason"] == "'=HYPERLINK(x) too small"  # never a formula in the register
    assert "Violence Reduction" in rows[0]["title"]
    # UK time to the minute, as the pages show it (the deadline stored in UTC).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+0[01]:00", rows[0]["when"])
    with stored.reading() as session:
        deadline = get_notice(session, VRP).deadline
    assert rows[0]["deadline"] == deadline.astimezone(LONDON).isoformat(timespec="minutes")


# ---------------------------------------------------------------------------------------------- rules


def without_police() -> str:
    """The example rules, changed to gate out police and crime commissioners (VRP's buyer)."""
    text = EXAMPLE_PROFILE.read_text()
    changed = text.replace(
        "  exclude_buyers:\n", "  exclude_buyers:\n    - police and crime commissioner\n", 1
    )
    assert changed != text
    return changed


def _rules_post(client, site, text: str, action: str, **extra):
    token, _, based_on = _editor(client, site)
    return client.post(
        site.url("/rules"),
        data={"rules": text, "action": action, "csrf_token": token, "based_on": based_on, **extra},
    )


def test_a_mistake_in_the_rules_is_shown_beside_its_line_and_nothing_is_published(site, stored):
    client = requests.Session()
    text = EXAMPLE_PROFILE.read_text()
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if re.match(r"\s+strong:\s*\d", line))
    lines[at] = re.sub(r"strong:\s*\d+", "strong: lots", lines[at])
    for action in ("check", "try", "publish"):
        answer = _rules_post(client, site, "\n".join(lines), action)
        assert answer.status_code == 400
        assert f'<span class="rules-error" data-line="{at + 1}">' in answer.text
        assert f"Line {at + 1}</a>, scoring.bands.strong" in answer.text
    with stored.reading() as session:
        assert session.scalars(select(ProfileVersion)).first() is None
    fine = _rules_post(client, site, text, "check")
    assert fine.status_code == 200 and "No mistakes" in fine.text


def test_returning_to_a_rules_file_broken_since_shows_its_mistakes_and_publishes_nothing(
    env, tmp_path, stored
):
    rules = tmp_path / "firm.yaml"
    rules.write_text(EXAMPLE_PROFILE.read_text())
    (tmp_path / "tenderwatch.toml").write_text(
        '[scoring]\ndefault_profile = "firm"\n[scoring.profiles]\nfirm = "firm.yaml"\n'
    )
    with WebServer(configuration.load(), stored) as site:
        client = requests.Session()
        assert _rules_post(client, site, rules.read_text(), "publish").status_code == 200
        rules.write_text(rules.read_text().replace("strong: ", "strong: lots #", 1))  # edited by hand since
        token = csrf_token(client.get(site.url("/rules")).text)
        back = client.post(site.url("/rules/versions/0/restore"), data={"csrf_token": token})
        assert (
            back.status_code == 400
            and 'class="rules-error"' in back.text
            and "scoring.bands.strong" in back.text
        )
        with stored.reading() as session:
            assert [row.number for row in session.scalars(select(ProfileVersion))] == [1]
        # A page asked for the wrong way is the site's own error page, with its navigation.
        wrong = client.get(site.url("/logout"))
        assert wrong.status_code == 405 and 'href="/rules"' in wrong.text


def with_two_bad_service_lines() -> tuple[str, list[int]]:
    """The example rules with a keyword's points made text in each of the first two service lines;
    returns the rules and the two (1-based) lines that are wrong."""
    lines = EXAMPLE_PROFILE.read_text().split("\n")
    starts = [i for i, line in enumerate(lines) if re.match(r"\s+- name:", line)][:2]
    bad = []
    for start in starts:
        at = next(i for i in range(start + 2, len(lines)) if re.match(r"\s+[\w ]+: \d+$", lines[i]))
        lines[at] = re.sub(r": \d+$", ": lots", lines[at])
        bad.append(at + 1)
    return "\n".join(lines), bad


def test_every_mistake_in_the_rules_is_shown_each_beside_its_own_line(site, stored):
    text, bad = with_two_bad_service_lines()
    answer = _rules_post(requests.Session(), site, text, "check")
    assert answer.status_code == 400
    assert "2 mistakes, each shown beside its line. Nothing was published." in answer.text
    for number, line in enumerate(bad, start=1):
        shown = re.search(rf'<li class="bad" id="line-{line}"><code>[^<]*</code>(.*?)</li>', answer.text)
        assert shown, f"line {line} is not marked"
        assert shown[1].count('class="rules-error"') == 1
        assert f'data-line="{line}">← service_lines[{number}].keywords.' in shown[1]
        assert "must be a number" in shown[1]
        assert f'<a href="#line-{line}">Line {line}</a>, service_lines[{number}].keywords.' in answer.text
    assert answer.text.count('class="rules-error"') == 2


def test_try_it_shows_what_a_change_adds_and_drops_and_agreement_with_decisions(site, stored, config):
    with stored.writing() as session:
        add_feedback(session, VRP, "relevant")
    client = requests.Session()
    tried = _rules_post(client, site, without_police(), "try")
    assert tried.status_code == 200
    # Said above the editor, as Check's answer is: the lists are below it, out of sight on a laptop.
    top = tried.text[: tried.text.index('<form method="post" action="/rules"')]
    assert re.search(
        r'role="status">No mistakes\. Tried on [\d,]+ stored notices: it would add 0 and drop \d+\.', top
    )
    assert '<a href="#tried">See what moves</a>' in top
    assert "Would add (0)" in tried.text
    dropped = tried.text[tried.text.index('id="dropped"') :]
    assert "Violence Reduction" in dropped and "strong 100 → none" in dropped
    # The team's word on a moved notice is beside it: dropping one judged relevant is the cost.
    judged = [item for item in dropped.split("<li>")[1:] if VRP.split(":")[1] in item]
    assert len(judged) == 1 and '<span class="badge decided">judged relevant</span>' in judged[0]
    assert dropped.count("badge decided") == 1  # the others were never judged
    assert "Precision (strong + possible)" in tried.text
    # Beside each figure its 95% interval: one judged notice says little (1 of 1: 21-100%).
    # Each row is named by its header cell, for a screen reader reading a figure in its row.
    assert '<th scope="row">strong</th>' in tried.text and '<th scope="col">Measure</th>' in tried.text
    recall = tried.text[tried.text.index('<th scope="row">Recall (strong + possible)</th>') :].split("</tr>")[
        0
    ]
    assert recall.count('<span class="hint">') == 2
    assert '100% <span class="hint">21-100%</span>' in recall
    assert '0% <span class="hint">0-79%</span>' in recall
    with stored.reading() as session:  # trying changes nothing
        assert session.scalars(select(ProfileVersion)).first() is None
    assert live_profile(stored, config.scoring).path == EXAMPLE_PROFILE


def test_publish_makes_the_rules_live_for_every_command_and_one_click_returns(site, alice, stored, config):
    client = sign_in(site, "alice")
    published = _rules_post(client, site, without_police(), "publish", note="no police work")
    assert published.status_code == 200 and "Published version 1" in published.text
    assert "by alice" in published.text and "no police work" in published.text
    assert '<span class="plus">+    - police and crime commissioner</span>' in published.text  # the diff
    # The store's live rules, and so digests and every command, are version 1 now.
    assert "police and crime commissioner" in live_profile(stored, config.scoring).gates.exclude_buyers
    runner = CliRunner()
    explained = runner.invoke(cli, ["explain", VRP])
    assert explained.exit_code == 0 and "band strong" not in explained.output
    checked = runner.invoke(cli, ["rules", "check"])
    shipped = load_profile(EXAMPLE_PROFILE).gates.exclude_buyers
    assert checked.exit_code == 0 and f"{len(shipped) + 1} excluded buyers" in checked.output
    listed = runner.invoke(cli, ["rules", "list"]).output  # which rules are live, not only the file's path
    today = datetime.now(LONDON).date().isoformat()
    live = rf"^\* example +\S+example\.yaml +version 1 \(web, {today} by alice\) +valid$"
    assert re.search(live, listed, re.MULTILINE)
    inbox = client.get(site.url("/?band=strong")).text
    assert "Violence Reduction" not in inbox  # the inbox's stored bands were scored again
    # One click returns to the rules file, as a new version.
    token, _, based_on = _editor(client, site)
    back = client.post(
        site.url("/rules/versions/0/restore"), data={"csrf_token": token, "based_on": based_on}
    )
    assert back.status_code == 200 and "Published version 2" in back.text
    assert "police and crime commissioner" not in live_profile(stored, config.scoring).gates.exclude_buyers
    assert runner.invoke(cli, ["explain", VRP]).output.count("band strong") == 1
    token = csrf_token(back.text)
    again = client.post(site.url("/rules/versions/1/restore"), data={"csrf_token": token, "based_on": "2"})
    assert "Published version 3" in again.text
    assert "police and crime commissioner" in live_profile(stored, config.scoring).gates.exclude_buyers
    with stored.reading() as session:
        notes = [row.note for row in session.scalars(select(ProfileVersion).order_by(ProfileVersion.number))]
    assert notes == ["no police work", "return to the rules file", "return to version 1"]


def _editor(client, site) -> tuple[str, str, str]:
    """The rules page as a browser holds it: its CSRF token, the rules in its editor, and the live
    version its editor began from."""
    page = client.get(site.url("/rules")).text
    text = html.unescape(re.search(r'<textarea id="rules"[^>]*>(.*?)</textarea>', page, re.S)[1])
    return csrf_token(page), text, re.search(r'name="based_on" value="([^"]+)"', page)[1]


def test_publishing_over_a_version_published_since_the_page_was_opened_asks_first(
    site, alice, stored, config
):
    with stored.writing() as session:
        add_user(session, "bob", PASSWORD)
    alice_client, bob_client = sign_in(site, "alice"), sign_in(site, "bob")
    alice_token, alice_text, alice_base = _editor(alice_client, site)
    bob_token, _, bob_base = _editor(bob_client, site)
    bob_client.post(
        site.url("/rules"),
        data={
            "rules": without_police(),
            "action": "publish",
            "note": "no police work",
            "csrf_token": bob_token,
            "based_on": bob_base,
        },
    )
    # Alice, from the page she opened before Bob published, changes something else.
    hers = alice_text.replace("strong: ", "strong:  ", 1)
    sent = {
        "rules": hers,
        "action": "publish",
        "note": "mine",
        "csrf_token": alice_token,
        "based_on": alice_base,
    }
    refused = alice_client.post(site.url("/rules"), data=sent)
    assert refused.status_code == 409
    assert "bob published version 1" in refused.text and "Nothing was published" in refused.text
    assert '<span class="plus">+    - police and crime commissioner</span>' in refused.text  # what he changed
    kept = re.search(r'<textarea id="rules"[^>]*>(.*?)</textarea>', refused.text, re.S)[1]
    assert html.unescape(kept) == hers  # her draft is kept in the editor
    with stored.reading() as session:
        assert [row.number for row in session.scalars(select(ProfileVersion))] == [1]
    assert "police and crime commissioner" in live_profile(stored, config.scoring).gates.exclude_buyers
    # Having seen it, she can publish hers on top of it: the page now begins from version 1.
    assert re.search(r'name="based_on" value="1"', refused.text)
    again = alice_client.post(site.url("/rules"), data={**sent, "based_on": "1"})
    assert again.status_code == 200 and "Published version 2" in again.text
    # Returning to an earlier version from a page opened before a newer one was published asks too.
    back = alice_client.post(
        site.url("/rules/versions/1/restore"), data={"csrf_token": alice_token, "based_on": alice_base}
    )
    assert back.status_code == 409 and "alice published version 2" in back.text
    with stored.reading() as session:
        assert [row.number for row in session.scalars(select(ProfileVersion))] == [1, 2]
    # A draft tried or checked keeps the version it began from: trying it again does not hide Bob's.
    tried = alice_client.post(site.url("/rules"), data={**sent, "action": "try", "based_on": "1"})
    assert re.search(r'name="based_on" value="1"', tried.text)


def test_publishing_over_an_edit_of_the_rules_file_made_since_the_page_was_opened_asks_first(
    alice, stored, tmp_path
):
    # While no version is published the rules file is live, and someone may edit it on the server.
    rules = tmp_path / "rules" / "example.yaml"
    rules.parent.mkdir()
    rules.write_text(EXAMPLE_PROFILE.read_text())
    (tmp_path / "tenderwatch.toml").write_text('[scoring.profiles]\nexample = "rules/example.yaml"\n')
    with WebServer(configuration.load(), stored) as site:
        client = sign_in(site, "alice")
        token, text, based_on = _editor(client, site)
        assert based_on.startswith("file:")
        rules.write_text(without_police())  # edited on the server after the page was opened
        hers = text.replace("strong: ", "strong:  ", 1)
        sent = {"rules": hers, "action": "publish", "note": "mine", "csrf_token": token, "based_on": based_on}
        refused = client.post(site.url("/rules"), data=sent)
        assert refused.status_code == 409 and "the rules file was edited on the server" in refused.text
        assert '<span class="minus">-    - police and crime commissioner</span>' in refused.text  # undone
        kept = re.search(r'<textarea id="rules"[^>]*>(.*?)</textarea>', refused.text, re.S)[1]
        assert html.unescape(kept) == hers
        with stored.reading() as session:
            assert session.scalars(select(ProfileVersion)).all() == []
        # Having seen it, she may publish hers all the same: the page now begins from the edited file.
        begun = re.search(r'name="based_on" value="([^"]+)"', refused.text)[1]
        assert begun.startswith("file:") and begun != based_on
        again = client.post(site.url("/rules"), data={**sent, "based_on": begun})
        assert again.status_code == 200 and "Published version 1" in again.text


def test_the_note_typed_before_check_or_try_it_is_still_there_to_publish(site, stored):
    client = requests.Session()
    for action in ("check", "try"):
        answer = _rules_post(client, site, without_police(), action, note="no police <work>")
        assert answer.status_code == 200
        assert (
            'name="note" maxlength="200" placeholder="what changed, and why" value="no police &lt;work&gt;"'
            in (answer.text)
        )


def test_a_published_version_with_a_mistake_cannot_be_stored(stored, config):
    from scoring.yamlnodes import ProfileError

    with (
        pytest.raises(ProfileError, match="published version 1 of profile example:"),
        stored.writing() as session,
    ):
        publish(session, "example", "service_lines: []\n", "alice")
    with stored.reading() as session:
        assert session.scalars(select(ProfileVersion)).first() is None
    assert live_profile(stored, config.scoring).path == EXAMPLE_PROFILE


# ---------------------------------------------------------------------------------------------- status


def test_sources_and_digests_say_what_status_says_and_preview_the_next_digest(site, stored):
    page = requests.get(site.url("/status"))
    assert page.status_code == 200
    for name in ("find_a_tender", "contracts_finder", "public_contracts_scotland"):
        assert name in page.text
    assert "never crawled" in page.text  # a warning, as `status` gives it
    assert 'src="/status/preview/file"' in page.text
    # Sandboxed, but its links may open a tab of their own (in the frame they would show a broken one).
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.text
    preview = requests.get(site.url("/status/preview/file"))
    assert preview.status_code == 200 and "tenderwatch" in preview.text
    assert '<head><base target="_blank">' in preview.text
    assert "style-src 'unsafe-inline'" in preview.headers["Content-Security-Policy"]
    assert "script" not in preview.headers["Content-Security-Policy"]
    assert requests.get(site.url("/status/preview/nowhere")).status_code == 404


# ---------------------------------------------------------------------------------------------- the command


def test_adduser_and_the_command_that_serves(env, tmp_path):
    added = subprocess.run(
        [*TENDERWATCH, "web", "adduser", "alice", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0 and "alice: added" in added.stdout
    short = subprocess.run(
        [*TENDERWATCH, "web", "adduser", "bob", "--password-stdin"],
        input="short\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    runner = CliRunner()
    assert runner.invoke(cli, ["web", "users"]).output == "alice\n"
    missing = runner.invoke(cli, ["web", "deluser", "bob"])
    assert missing.exit_code == 2 and "no user 'bob'" in missing.output
    bad_name = runner.invoke(cli, ["web", "adduser", "<script>", "--password-stdin"], input=PASSWORD + "\n")
    assert bad_name.exit_code == 2 and "cannot be a user name" in bad_name.output
    port = free_port()
    server = subprocess.Popen(
        [*TENDERWATCH, "web", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline()
        assert f"serving http://127.0.0.1:{port}/" in line and "1 user(s)" in line
        answer = requests.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=10)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.above_the_store(reason=THE_PAGES_OWN_CHECKS)
def test_serving_beyond_this_machine_needs_a_user(env, monkeypatch):
    refused = subprocess.run(
        [*TENDERWATCH, "web", "--host", "0.0.0.0"], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "needs users" in refused.stderr
    assert refused.stderr.startswith("tenderwatch: --host 0.0.0.0:")
    # Set in the environment, not on the command line: the message names where it can be changed.
    monkeypatch.setenv("TENDERWATCH_WEB_HOST", "0.0.0.0")
    from_env = subprocess.run([*TENDERWATCH, "web"], capture_output=True, text=True, check=False)
    assert from_env.returncode == 2
    assert from_env.stderr.startswith("tenderwatch: host 0.0.0.0 ([web] host or TENDERWATCH_WEB_HOST):")


@pytest.mark.above_the_store(reason=THE_PAGES_OWN_CHECKS)
def test_web_settings_are_checked_with_the_file_and_key(env, tmp_path, monkeypatch):
    (tmp_path / "tenderwatch.toml").write_text('[web]\nport = "eighty"\n')
    with pytest.raises(ConfigError, match=r"\[web\] port must be a number"):
        configuration.load()
    (tmp_path / "tenderwatch.toml").write_text(
        '[web]\nhost = "0.0.0.0"\nport = 9000\npublic_url = "https://t.example"\n'
    )
    web = configuration.load().web
    assert (web.host, web.port, web.public_url, web.local_only) == (
        "0.0.0.0",
        9000,
        "https://t.example",
        False,
    )
    monkeypatch.setenv("TENDERWATCH_WEB_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="TENDERWATCH_WEB_SECRET_KEY must be at least 32"):
        configuration.load()


# ---------------------------------------------------------------------------------------------- suggestions


def test_suggestions_open_as_drafts_that_try_the_change(env, database, tmp_path, monkeypatch):
    from tests.scoring.helpers import write
    from tests.test_scoring_suggest import NOW, RULES, labelled_notices

    path = write(tmp_path, RULES, "firm.yaml")
    toml = write(
        tmp_path, f'[scoring]\ndefault_profile = "firm"\n[scoring.profiles]\nfirm = "{path}"\n', "t.toml"
    )
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(toml))
    with database.writing() as session:
        save_notices(session, [found for found, _ in labelled_notices()], now=NOW)
        for found, label in labelled_notices():
            if label:
                add_feedback(session, found.id, label, now=NOW)
    with WebServer(configuration.load(), database) as server:
        client = requests.Session()
        page = client.get(server.url("/rules/suggestions"))
        assert page.status_code == 200 and "From 11 judged notices (4 relevant)" in page.text
        assert "paste under service_lines &gt; Research &gt; keywords:" in page.text
        draft = html.unescape(
            re.search(r'<textarea name="rules" hidden>(.*?)</textarea>', page.text, re.S)[1]
        )
        assert draft != RULES and "social research: " in draft  # the suggestion, in place
        tried = client.post(
            server.url("/rules"), data={"rules": draft, "action": "try", "csrf_token": csrf_token(page.text)}
        )
        assert tried.status_code == 200 and "Social research on transport" in tried.text
        assert "Would add (0)" not in tried.text
        with database.reading() as session:  # a draft publishes nothing
            assert session.scalars(select(ProfileVersion)).first() is None


def test_without_judgements_the_suggestions_say_how_to_give_them(site):
    page = requests.get(site.url("/rules/suggestions"))
    assert page.status_code == 200 and "No notice judged relevant yet" in page.text


def test_the_digest_scores_with_the_published_rules(stored, config):
    from notify.run import send_digests, targets

    with stored.writing() as session:
        save_notices(
            session, [hostile_notice(title="Independent evaluation and review of services")], now=utcnow()
        )

    def listed() -> set[str]:
        result = send_digests(config, stored, targets(config), dry_run=True)[0]
        return {item.notice.id for items in result.digest.sections.values() for item in items}

    assert HOSTILE in listed()
    rules = EXAMPLE_PROFILE.read_text().replace(
        "  exclude_buyers:\n", "  exclude_buyers:\n    - council\n", 1
    )
    with stored.writing() as session:
        publish(session, "example", rules, "alice")
    assert HOSTILE not in listed()  # its buyer is a council: gated out by version 1
    with stored.writing() as session:
        publish(session, "example", EXAMPLE_PROFILE.read_text(), "alice", "return to the rules file")
    assert HOSTILE in listed()


def test_new_means_new_since_the_users_last_visit(site, alice, stored):
    first = sign_in(site, "alice")  # a first visit: what arrived in the last week is new
    page = first.get(site.url("/?new=1")).text
    new = '<span class="badge new">New</span>'  # once in the explanation above the list, then per item
    assert "Violence Reduction" in page and page.count(new) > 2
    second = sign_in(site, "alice")  # the next visit: nothing arrived since the first
    assert "No match meets these filters" in second.get(site.url("/?new=1")).text
    everything = second.get(site.url("/")).text
    assert "Violence Reduction" in everything and everything.count(new) == 1
    with stored.writing() as session:
        save_notices(session, [hostile_notice()], now=utcnow())
    fresh = second.get(site.url("/?new=1")).text
    assert fresh.count('<li class="item">') == 1 and "&lt;script&gt;" in fresh


@pytest.mark.above_the_store(reason=THE_PAGES_OWN_CHECKS)
@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "https://evil.example/"],
)
def test_signing_in_never_leads_to_another_site(site, alice, target):
    client = requests.Session()
    token = csrf_token(client.get(site.url("/login")).text)
    answer = client.post(
        site.url("/login"),
        data={"name": "alice", "password": PASSWORD, "csrf_token": token, "next": target},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    assert urlsplit(answer.headers["Location"]).path == "/"  # the inbox, not the target


def test_signing_in_returns_to_the_page_asked_for(site, alice):
    client = requests.Session()
    token = csrf_token(client.get(site.url("/login")).text)
    answer = client.post(
        site.url("/login"),
        data={"name": "alice", "password": PASSWORD, "csrf_token": token, "next": "/decisions?x=1"},
        allow_redirects=False,
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/decisions?x=1")


def test_a_shouted_title_reads_as_the_digest_shows_it(site, stored):
    shouted = "INDEPENDENT   EVALUATION AND REVIEW OF NHS SERVICES"
    with stored.writing() as session:
        save_notices(session, [hostile_notice(title=shouted)], now=utcnow())
    for path in ("/?q=evaluation", f"/notices/{HOSTILE}"):
        page = html.unescape(requests.get(site.url(path)).text)
        assert "Independent evaluation and review of NHS services" in page, path
        assert shouted not in page, path
