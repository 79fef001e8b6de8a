"""A digest item is what a bid manager decides bid/no-bid from (issue 19): the facts of the notice,
the why in plain words, links to act on, and a layout nothing a notice says can widen.

Digests go through the real local SMTP server and Teams webhook of tests/test_digest.py, built from
the recorded Find a Tender days; the layout is measured in Debian's headless Chromium.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from notify.facts import award_words, decide_by, facts, region_words
from notify.render import WRAP_STYLE
from scoring.result import Reason, Score
from store.ingest import save_notices
from store.models import utcnow
from store.notice import LONDON, Criterion, Details
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tenderwatch.errors import ConfigError
from tests import test_digest as shared
from tests.support import browser
from tests.support.recorded import release_by_id
from tests.test_digest import AS_OF, VRP, Links, configure, matching_notice, send

# The fixtures of tests/test_digest.py: a store of real notices, the local SMTP and Teams receivers.
stored, smtp, teams = shared.stored, shared.smtp, shared.teams

# As long as the web address a real notice of 13 August 2026 had for its title (240 characters).
URL_TITLE = (
    "https://www.delta-esourcing.com/tenders/UK-UK-Birmingham:-Research-and-evaluation-services-"
    "for-the-violence-reduction-partnership-community-research-programme-2026-2029-lots-1-2-and-3"
    "./9378W497XYZ1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ01234567"
)
# The links tenderwatch writes: to the sources' own pages and to the web app.
OUR_LINK = re.compile(
    r"\S*(?:find-tender\.service\.gov\.uk|contractsfinder\.service\.gov\.uk|tenders\.example\.org)\S*"
)


def email_parts(smtp_receiver) -> tuple[str, str]:
    [message] = smtp_receiver.messages
    text, html = (part.get_content() for part in list(message.walk())[1:])
    return text, html


def vrp_like(**fields):
    """A strong match with VRP's real details (lots, deadlines, criteria), `fields` changed."""
    from store.normalise import compile_notice, format_for

    vrp = compile_notice([release_by_id("076396-2026")], [], format_for("find_a_tender"))
    real = {"description": vrp.description, "lots": vrp.lots, "details": vrp.details, "regions": vrp.regions}
    return matching_notice(**{**real, **fields})


def test_the_email_keeps_to_the_screen_with_a_240_character_address_as_a_title(env, tmp_path, stored, smtp):
    assert len(URL_TITLE) == 240
    unbroken = "https://www.example.org/" + "x" * 300  # a description of one unbroken word
    with stored.writing() as session:
        save_notices(session, [vrp_like(title=URL_TITLE, description=unbroken)], now=utcnow())
    send(configure(tmp_path, [("bids", smtp.url())]), stored)
    _, html = email_parts(smtp)
    assert "delta-esourcing" in html
    widths = (375, 600, 1024)
    assert browser.rendered_widths(html, widths) == {width: width for width in widths}
    # The measure can fail: without the wrapping styles the same title widens the page on a phone.
    unwrapped = html.replace(WRAP_STYLE, "").replace("table-layout:fixed;", "")
    assert browser.rendered_widths(unwrapped, (375,))[375] > 375


def test_a_strong_item_carries_what_a_bid_no_bid_decision_needs(env, tmp_path, stored, smtp):
    send(configure(tmp_path, [("bids", smtp.url())]), stored)
    text, html = email_parts(smtp)
    start = text.index("Violence Reduction Partnership Research and Evaluation")
    item = text[start : text.index("tenderwatch feedback", start)]
    for fact in (
        "Tender notice (UK4)",
        "The Violence Reduction Partnership are seeking support to deliver Research and Evaluation",
        "Decide bid/no-bid by: Fri 21 Aug 2026",  # the clarification deadline and 28 Aug less 7 days
        "Clarification questions by: Fri 21 Aug 2026 23:59",
        "Lots (3):",
        "Lot 1 - Violence Reduction Partnership Community Research: £115,000",
        "Research and Evaluation Support: £90,000",
        "Habitual Knife Carriers Evaluation.: £45,000",
        "Contract: Thu 1 Oct 2026 to Wed 31 Mar 2027, up to Sat 31 Mar 2029 with extensions",
        "Extensions: Lot 1 - Violence Reduction Partnership Community Research Extension clause of 1 + 1",
        "Award criteria: quality 80%, price 20%",
        "Region: West Midlands (UKG)",
        "Procedure: Below threshold - open competition; suitable for SMEs",
        "How to respond: https://www.westmidlands-pcc.gov.uk/grants-contracts/",
        "https://www.find-tender.service.gov.uk/Notice/076396-2026",
    ):
        assert fact in " ".join(item.split()), fact
    documents = (
        "https://www.westmidlands-pcc.gov.uk/grants-contracts/"
        "violence-reduction-partnership-research-and-evaluation-procurement-exercise/"
    )
    assert documents in Links(html).hrefs
    excerpt = re.search(r"The Violence Reduction Partnership are seeking.*?…", " ".join(item.split()))
    assert excerpt and len(excerpt.group(0)) <= 301  # about 300 characters, cut at a word


def test_every_link_in_the_plain_text_part_is_a_whole_https_address(env, tmp_path, stored, smtp, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_WEB_PUBLIC_URL", "https://tenders.example.org/")
    send(configure(tmp_path, [("bids", smtp.url())]), stored)
    text, _ = email_parts(smtp)
    links = OUR_LINK.findall(text)
    assert len(links) > 20
    assert [link for link in links if not link.strip("()").startswith("https://")] == []


def test_each_item_links_to_the_web_app_for_feedback_when_its_address_is_set(
    env, tmp_path, stored, smtp, monkeypatch
):
    odd = matching_notice(source="email", source_id="call off/2 x", title="Independent evaluation review")
    with stored.writing() as session:
        save_notices(session, [odd], now=utcnow())
    monkeypatch.setenv("TENDERWATCH_WEB_PUBLIC_URL", "https://tenders.example.org/")
    [result] = send(configure(tmp_path, [("bids", smtp.url())]), stored)
    text, html = email_parts(smtp)
    hrefs = Links(html).hrefs
    page = "https://tenders.example.org/notices/find_a_tender:076396-2026"
    assert {page, f"{page}/feedback?label=relevant", f"{page}/feedback?label=not-relevant"} <= set(hrefs)
    assert "https://tenders.example.org/notices/email:call%20off%2F2%20x" in hrefs  # quoted, ':' kept
    assert f"({page}/feedback?label=relevant)" in text  # plain-text readers can act too
    assert "Open in tenderwatch" in html and "tenderwatch feedback" not in text
    items = [item for section in result.digest.sections.values() for item in section]
    assert sum(href.endswith("label=not-relevant") for href in hrefs) == len(items)


def test_without_the_web_app_the_plain_text_part_gives_the_feedback_command(env, tmp_path, stored, smtp):
    send(configure(tmp_path, [("bids", smtp.url())]), stored)
    text, html = email_parts(smtp)
    assert f"tenderwatch feedback {VRP} relevant" in " ".join(text.split())
    assert "Open in tenderwatch" not in html and "/feedback?label=" not in html


def test_the_web_apps_address_must_be_a_web_address(env, tmp_path, monkeypatch):
    (tmp_path / "tenderwatch.toml").write_text('[web]\npublic_url = "tenders.example.org"\n')
    with pytest.raises(ConfigError, match=r"\[web\] public_url must be the web app's address"):
        configuration.load()
    monkeypatch.setenv("TENDERWATCH_WEB_PUBLIC_URL", "https://tw.example.org/")
    assert configuration.load().web.public_url == "https://tw.example.org"
    (tmp_path / "tenderwatch.toml").write_text('[web]\nsecret = "x"\n')
    with pytest.raises(ConfigError, match="secret"):
        configuration.load()


def test_the_new_facts_are_escaped_and_only_web_addresses_are_linked(env, tmp_path, stored, smtp, teams):
    hostile = dataclasses.replace(
        vrp_like(ocid="ocds-h6vhtk-fffff9", source_id="099998-2026"),
        details=Details(
            enquiry_deadline=AS_OF + timedelta(days=5),
            extensions="<script>alert(1)</script> one year",
            submission="<img src=x onerror=alert(1)> via [portal](javascript:alert(2))",
            documents_url="javascript:alert(3)",
            award_criteria=(Criterion("quality", "<b>Quality</b>", 60), Criterion("price", None, 40)),
        ),
    )
    lots = tuple(dataclasses.replace(lot, title="<i>Lot</i> " + (lot.title or "")) for lot in hostile.lots)
    with stored.writing() as session:
        save_notices(session, [dataclasses.replace(hostile, lots=lots)], now=utcnow())
    send(configure(tmp_path, [("bids", smtp.url()), ("teams", teams.url())]), stored)
    _, html = email_parts(smtp)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "<i>Lot</i>" not in html and "&lt;i&gt;Lot" in html
    assert not [href for href in Links(html).hrefs if not href.startswith("https://")]
    assert "javascript:" not in "".join(Links(html).hrefs)
    card = str(teams.posts)
    assert "<script>" not in card and "javascript:alert(3)" not in card


def test_the_decision_date_is_the_earlier_of_clarification_and_deadline_less_the_response_days():
    deadline = datetime(2026, 9, 30, 12, 0, tzinfo=LONDON)
    as_of = datetime(2026, 9, 1, 7, 30, tzinfo=LONDON)
    plain = matching_notice(deadline=deadline)
    assert decide_by(plain, 7, as_of).isoformat() == "2026-09-23"
    asked = dataclasses.replace(
        plain, details=Details(enquiry_deadline=datetime(2026, 9, 10, 12, tzinfo=LONDON))
    )
    assert decide_by(asked, 7, as_of).isoformat() == "2026-09-10"
    assert decide_by(plain, 7, datetime(2026, 9, 25, tzinfo=LONDON)).isoformat() == "2026-09-25"  # today
    assert decide_by(dataclasses.replace(plain, deadline=None), 7, as_of) is None
    # A deadline at midnight closes at the end of the day before, so the decision is due a day earlier.
    midnight = dataclasses.replace(plain, deadline=datetime(2026, 10, 1, tzinfo=LONDON))
    assert decide_by(midnight, 7, as_of).isoformat() == "2026-09-23"
    asked_by_midnight = dataclasses.replace(
        plain, details=Details(enquiry_deadline=datetime(2026, 9, 11, tzinfo=LONDON))
    )
    assert decide_by(asked_by_midnight, 7, as_of).isoformat() == "2026-09-10"


def test_a_clarification_deadline_already_passed_says_so():
    as_of = datetime(2026, 8, 11, 7, 30, tzinfo=LONDON)
    notice = matching_notice(deadline=datetime(2026, 8, 28, 17, tzinfo=LONDON))

    def shown(enquiry: datetime) -> str | None:
        asked = dataclasses.replace(notice, details=Details(enquiry_deadline=enquiry))
        return facts(asked, min_response_days=7, as_of=as_of, public_url=None).enquiry_deadline

    assert shown(datetime(2026, 8, 10, 12, tzinfo=LONDON)) == "Mon 10 Aug 2026 12:00 (passed)"
    assert shown(datetime(2026, 8, 21, 12, tzinfo=LONDON)) == "Fri 21 Aug 2026 12:00"


def test_award_criteria_and_regions_read_as_words():
    harrogate = (
        Criterion("quality", "Bidder Experience", 30),
        Criterion("quality", "Technical Proposal", 50),
        Criterion("price", "Commercial Proposal", 20),
    )
    assert award_words(harrogate, False) == (
        "quality 80% (Bidder Experience 30%, Technical Proposal 50%), price 20%"
    )
    assert award_words((Criterion("quality", "Quality", None), Criterion("cost", "Cost", None)), True) == (
        "quality, cost (lot 1; the lots differ)"
    )
    assert region_words(("UKG31", "UKE22", "UKI", "FR")) == (
        "West Midlands (Birmingham, Coventry, the Black Country) (UKG31), North Yorkshire (UKE22), "
        "London (UKI), FR"
    )


def test_the_why_is_in_plain_words_with_cpv_codes_named_and_a_cpv_only_match_said_plainly():
    line = "Evaluation, research and economic analysis"
    names = {"79419000": "Evaluation consultancy services"}.get
    worded = Score(
        80,
        "strong",
        line,
        (
            Reason(30, "keyword process evaluation", "'process evaluation' in the title"),
            Reason(20, "keyword research", "'research' in the title"),
            Reason(15, "CPV 79419", "CPV 79419000"),
            Reason(5, "SME suitability", "suitable for SMEs"),
        ),
    )
    assert worded.in_plain_words(names) == (
        f"{line}: 'process evaluation' and 'research' in the title; "
        "CPV 79419000 (evaluation consultancy services)"
    )
    assert worded.summary.startswith(f"{line}: 'process evaluation' in the title")  # explain's, as it was
    codes_only = Score(
        30, "possible", line, (Reason(15, "CPV 79419", "CPV 79419000"), Reason(15, "CPV 73", "CPV 73000000"))
    )
    assert codes_only.in_plain_words(names) == (
        f"{line}: matched on CPV codes only, no words of the firm's work: "
        "CPV 79419000 (evaluation consultancy services), CPV 73000000"
    )


def test_the_digest_explains_notice_types_and_says_why_in_plain_words(env, tmp_path, stored, smtp):
    [result] = send(configure(tmp_path, [("bids", smtp.url())]), stored)
    _, html = email_parts(smtp)
    assert "Tender notice (UK4)" in html
    if result.digest.sections["early_warning"]:
        assert re.search(
            r"(Preliminary market engagement|Planned procurement|Pipeline) notice \(UK[123]\)", html
        )
    assert "&middot;&nbsp; UK4 &nbsp;" not in html  # never the bare code
    [vrp] = [item for item in result.digest.sections["strong"] if item.notice.id == VRP]
    assert vrp.why.startswith("Evaluation, research and economic analysis: 'research and evaluation'")
    assert " in the title" in vrp.why and vrp.why.count(" in the title") == 1  # grouped by place


def test_shouting_titles_are_tidied_for_display(env, tmp_path, stored, smtp):
    shouting = matching_notice(
        ocid="ocds-h6vhtk-fffff8",
        source_id="099997-2026",
        title="REQUEST FOR INFORMATION  For   NHS ICT EVALUATION AND REVIEW",
    )
    with stored.writing() as session:
        save_notices(session, [shouting], now=utcnow())
    send(configure(tmp_path, [("bids", smtp.url())]), stored)
    text, html = email_parts(smtp)
    assert "Request for information for NHS ICT evaluation and review" in html
    # A real title that shouts only its first words (the example), on 11 August 2026:
    assert "Request for information For Housing Market Needs Assessment For Herefordshire" in text
    assert "REQUEST FOR INFORMATION" not in text


def elements(node, kind: str) -> list[dict]:
    """Every element of a card of `kind` (e.g. FactSet), at any depth."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            found.append(node)
        for value in node.values():
            found += elements(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += elements(value, kind)
    return found


def test_the_teams_post_is_an_adaptive_card_with_facts_a_badge_and_buttons(
    env, tmp_path, stored, teams, monkeypatch
):
    tricky = matching_notice(
        ocid="ocds-h6vhtk-fffff7",
        source_id="099996-2026",
        title="Evaluation {{app_title}} {{ app_body }} review",
    )
    with stored.writing() as session:
        save_notices(session, [tricky], now=utcnow())
    monkeypatch.setenv("TENDERWATCH_WEB_PUBLIC_URL", "https://tenders.example.org")
    [result] = send(configure(tmp_path, [("teams", teams.url())]), stored)
    assert result.outcome == "sent"
    post = teams.posts  # one or more posts of whole items
    card = post[0]["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert not elements(post, "Image")  # apprise's icon, fetched from a third-party site: none
    [vrp] = [box for box in elements(post, "Container") if "076396-2026" in str(box)]
    [facts] = elements(vrp, "FactSet")
    shown = {fact["title"]: fact["value"] for fact in facts["facts"]}
    assert shown["Buyer"] == "Police and Crime Commissioner for West Midlands"
    assert shown["Value"] == "£250,000"
    assert shown["Deadline"] == "closes Fri 28 Aug 2026 17:00 (16 days left)"
    assert shown["Region"] == "West Midlands (UKG)" and shown["Decide by"] == "Fri 21 Aug 2026"
    assert shown["Type"] == "Tender notice (UK4) · Find a Tender"
    badge = vrp["items"][0]
    assert badge["text"] == "✔ Strong match" and badge["color"] == "Good"
    page = "https://tenders.example.org/notices/find_a_tender:076396-2026"
    assert [(a["type"], a["title"], a["url"]) for a in elements(vrp, "ActionSet")[0]["actions"]] == [
        (
            "Action.OpenUrl",
            "Open on Find a Tender",
            "https://www.find-tender.service.gov.uk/Notice/076396-2026",
        ),
        ("Action.OpenUrl", "Open in tenderwatch", page),
        ("Action.OpenUrl", "Relevant", f"{page}/feedback?label=relevant"),
        ("Action.OpenUrl", "Not relevant", f"{page}/feedback?label=not-relevant"),
    ]
    possible = [box for box in elements(post, "Container") if "Strong match" not in str(box)]
    assert possible and all(box["items"][0]["text"] != "✔ Strong match" for box in possible)
    urls = re.findall(r"https?://[^\s\"')]+", json.dumps(post))
    assert {url.split("/")[2] for url in urls} <= {
        "www.find-tender.service.gov.uk",
        "www.contractsfinder.service.gov.uk",
        "tenders.example.org",
        "adaptivecards.io",  # the card schema's name, never fetched by Teams
    }
    # Notice text that looks like apprise's template tokens is posted as written.
    texts = [block["text"] for block in elements(post, "TextBlock")]
    assert any(r"Evaluation {{app\_title}} {{ app\_body }} review]" in text for text in texts)


def test_a_teams_test_message_carries_no_third_party_icon(env, tmp_path, teams):
    configure(tmp_path, [("teams", teams.url())])
    result = CliRunner().invoke(cli, ["notify", "test"])
    assert result.exit_code == 0, result.output
    [post] = teams.posts
    assert not elements(post, "Image") and "http" not in json.dumps(post["attachments"][0]["content"]["body"])
