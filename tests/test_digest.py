"""Digests through real channels: a local SMTP server and a local HTTPS Teams webhook.

The store holds two real recorded days of Find a Tender and a Contracts Finder page; digests are
built as of 07:30 the next morning with the shipped example profile.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import notify.render as notify_templates
from notify.digest import SECTION_TITLES, SECTIONS, SUBJECT_LABELS
from notify.facts import excerpt
from notify.render import Message, markdown_escape
from notify.run import send_digests, targets
from notify.send import send as notify_send
from notify.teams import post as teams_post
from store import locks
from store.ingest import save_notices, store_releases
from store.models import DeliveryRow, DigestRow, utcnow
from store.notice import LONDON, Notice
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tenderwatch.config import EXAMPLE_PROFILE as EXAMPLE_RULES
from tenderwatch.config import WEEKDAYS
from tenderwatch.formatting import tidy_title
from tests.support.cli import TENDERWATCH, tenderwatch
from tests.support.receivers import SmtpReceiver, TunnelProxy, WebhookReceiver, free_port
from tests.support.recorded import cassette_releases, release_by_id
from tests.support.stored import RECORDED, filled_store, store_recorded
from tests.support.waiting import wait_until

AS_OF = datetime(2026, 8, 12, 7, 30, tzinfo=LONDON)
VRP = "find_a_tender:076396-2026"  # Violence Reduction Partnership Research and Evaluation: a strong match


@pytest.fixture
def stored(request, env):
    return filled_store(request, env, RECORDED, store_recorded)


@pytest.fixture
def smtp():
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def teams():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def configure(tmp_path, channels=(), **digest) -> configuration.Config:
    lines = ["[digest]", *(f"{key} = {json.dumps(value)}" for key, value in digest.items())]
    lines += [f'[[channels]]\nname = "{name}"\nurl = "{url}"' for name, url in channels]
    (tmp_path / "tenderwatch.toml").write_text("\n".join(lines) + "\n")
    return configuration.load()


def deliveries(database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(DeliveryRow))


def send(config, database, *, as_of=AS_OF, **choice):
    return send_digests(config, database, targets(config, **choice), as_of=as_of)


def card_texts(post: dict) -> str:
    """Every text of a Teams post's card, one a line: its TextBlocks' and its facts' (as Teams shows them)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            if "title" in node and "value" in node:
                found.append(f"{node['title']}: {node['value']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(post)
    return "\n".join(found)


class Links(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def test_the_email_arrives_with_both_parts_the_counts_every_notice_and_sections_in_order(
    env, tmp_path, stored, smtp
):
    config = configure(tmp_path, [("bids", smtp.url())])
    [result] = send(config, stored)
    assert result.outcome == "sent"
    digest = result.digest
    assert (
        digest.counts["strong"] >= 3
        and digest.counts["possible"] >= 1
        and digest.counts["early_warning"] >= 1
    )
    [message] = smtp.messages
    assert message["Subject"] == digest.subject
    assert message["Subject"].startswith(
        f"tenderwatch Wed 12 Aug: {digest.counts['strong']} strong, {digest.counts['possible']} possible"
    )
    assert [part.get_content_type() for part in message.walk()][1:] == ["text/plain", "text/html"]
    text, html = (part.get_content() for part in list(message.walk())[1:])
    items = [item for section in digest.sections.values() for item in section]
    hrefs = Links(html).hrefs
    for item in items:
        assert item.notice.url in hrefs
        assert item.notice.url.split("//", 1)[1] in text  # plain-text readers see every link too
    for item in digest.sections["strong"]:
        assert f"{item.notice.title}STRONG" not in text  # the badge is a word of its own
    assert VRP in {item.notice.id for item in digest.sections["strong"]}
    headings = ["Strong matches", "Possible matches", "Early warning"]
    positions = [html.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert html.index("Early warning") < html.index(">Sources<")


def test_running_the_digest_twice_sends_once(env, tmp_path, stored, smtp):
    config = configure(tmp_path, [("bids", smtp.url())])
    first = send(config, stored)[0]
    delivered = deliveries(stored)
    second = send(config, stored)[0]
    assert (first.outcome, second.outcome) == ("sent", "skipped")
    assert len(smtp.messages) == 1
    assert delivered == len(first.digest.announcements()) > 0
    assert deliveries(stored) == delivered


def test_a_channel_that_is_down_gets_its_items_next_time_once(env, tmp_path, stored):
    port = free_port()
    config = configure(
        tmp_path, [("bids", f"mailto://127.0.0.1:{port}?from=tw@example.org&to=bids@example.org")]
    )
    [down] = send(config, stored)
    assert down.outcome == "failed" and "Connection" in down.reason
    assert deliveries(stored) == 0
    receiver = SmtpReceiver()
    receiver.port = port
    receiver._controller.port = port
    receiver.start()
    try:
        [up] = send(config, stored, as_of=AS_OF + timedelta(hours=1))
        [again] = send(config, stored, as_of=AS_OF + timedelta(hours=2))
    finally:
        receiver.stop()
    assert up.outcome == "sent" and again.outcome == "skipped"
    assert len(receiver.messages) == 1
    assert {i.notice.id for i in up.digest.sections["strong"]} == {
        i.notice.id for i in down.digest.sections["strong"]
    }
    with stored.reading() as session:
        outcomes = list(session.scalars(select(DigestRow.outcome).order_by(DigestRow.id)))
    assert outcomes == ["failed", "sent", "skipped"]


def test_one_channel_failing_does_not_stop_another(env, tmp_path, stored, teams):
    down = f"mailto://127.0.0.1:{free_port()}?from=tw@example.org&to=bids@example.org"
    config = configure(tmp_path, [("email", down), ("teams", teams.url())])
    email_result, teams_result = send(config, stored)
    assert (email_result.outcome, teams_result.outcome) == ("failed", "sent")
    assert teams.posts
    with stored.reading() as session:
        channels = set(session.scalars(select(DeliveryRow.channel)))
    assert channels == {"teams"}


def add_strong_matches(database, count: int) -> None:
    """`count` more strong matches, each its own procurement: copies of VRP with new ids."""
    clones = []
    for number in range(count):
        clone = copy.deepcopy(release_by_id("076396-2026"))
        clone["id"] = f"09{number:04d}-2026"
        clone["ocid"] = f"ocds-h6vhtk-ff{number:04x}"
        clone["tender"]["title"] = f"Violence Reduction Research and Evaluation, lot {number}"
        clones.append(clone)
    with database.writing() as session:
        store_releases(session, "find_a_tender", clones)


def test_teams_posts_are_valid_adaptive_cards_split_by_whole_items(env, tmp_path, stored, teams):
    add_strong_matches(stored, 60)  # a large digest
    config = configure(tmp_path, [("teams", teams.url())], teams_items_per_post=12)
    [result] = send(config, stored)
    items = [item for section in result.digest.sections.values() for item in section]
    assert len(items) > 60 and result.outcome == "sent"
    assert len(teams.posts) == -(-len(items) // 12)
    texts = []
    for number, post in enumerate(teams.posts, start=1):
        assert len(json.dumps(post)) < 28_000  # Teams' message size limit
        assert post["type"] == "message"
        [attachment] = post["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard" and card["version"]
        title = card["body"][0]["text"]
        assert title.endswith(f"(part {number} of {len(teams.posts)})")
        texts.append(card_texts(post))
    for item in items:  # every item once, whole, in exactly one post
        assert sum(item.notice.url in text for text in texts) == 1
    assert "**Sources:**" in texts[-1] and "**Sources:**" not in texts[0]
    assert deliveries(stored) == len(result.digest.announcements())


# The URL Teams gives out for a Workflows webhook, pasted into the config as it is (README, Configuration).
WORKFLOWS_HOST = "prod-01.uksouth.logic.azure.com"
PASTED_WORKFLOWS_URL = (
    f"https://{WORKFLOWS_HOST}:443/workflows/643e69f83c8944438d68119179a10a64/triggers/manual/paths/"
    "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDGYFr0z0eu-6Rj8"
)


def shown_title(item) -> str:
    return markdown_escape(tidy_title(item.notice.title))


@contextmanager
def tunnelled_to(receiver, monkeypatch) -> Iterator[TunnelProxy]:
    """HTTPS posts to any host reach the local receiver, through a local proxy that tunnels them."""
    proxy = TunnelProxy(receiver.port).start()
    for name in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy.url())
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield proxy
    finally:
        proxy.stop()


def test_the_workflows_url_teams_gives_out_gets_the_card_of_every_item(
    env, tmp_path, stored, teams, monkeypatch
):
    # The URL names Microsoft's host; a local proxy tunnels its posts to the local webhook receiver.
    with tunnelled_to(teams, monkeypatch) as proxy:
        config = configure(tmp_path, [("teams", PASTED_WORKFLOWS_URL + "&verify=no")])  # self-signed here
        [channel] = config.channels
        [result] = send(config, stored)
    assert channel.kind == "teams" and result.outcome == "sent"
    assert set(proxy.asked) == {f"{WORKFLOWS_HOST}:443"}
    assert all(path.startswith("/workflows/643e69f83c8944438d68119179a10a64/") for path in teams.paths)
    cards = [post["attachments"][0]["content"] for post in teams.posts]
    assert all(card["type"] == "AdaptiveCard" for card in cards)
    assert '"Image"' not in json.dumps(cards)  # image=no: no icon fetched from a third-party site
    texts = "\n".join(card_texts(post) for post in teams.posts)
    items = [item for section in result.digest.sections.values() for item in section]
    assert items and all(shown_title(item) in texts for item in items)
    assert deliveries(stored) == len(result.digest.announcements())


def rocket_chat(receiver: WebhookReceiver) -> str:
    """A Rocket.Chat incoming webhook on the local receiver: a service apprise sends Markdown."""
    return f"rockets://hookid/hooktoken@127.0.0.1:{receiver.port}/%23bids?verify=no"


def test_a_chat_service_gets_every_item_as_markdown_in_messages_it_takes(env, tmp_path, stored):
    receiver = WebhookReceiver(status=200).start()  # Rocket.Chat answers 200
    try:
        config = configure(tmp_path, [("chat", rocket_chat(receiver))])
        [result] = send(config, stored)
    finally:
        receiver.stop()
    assert result.target.kind == "other" and result.outcome == "sent"
    texts = [post["text"] for post in receiver.posts]
    assert len(texts) > 1 and all(len(text) <= 1000 for text in texts)  # Rocket.Chat's limit
    items = [item for section in result.digest.sections.values() for item in section]
    for item in items:  # every item once, with its title and link
        assert sum(shown_title(item) in text and item.notice.url in text for text in texts) == 1
    assert "**Sources:**" in texts[-1] and "|" not in "".join(texts)  # not the e-mail's layout as a table
    assert deliveries(stored) == len(result.digest.announcements())


def test_a_mail_service_that_reads_html_gets_the_digest_email_not_markdown(
    env, tmp_path, stored, teams, monkeypatch
):
    from notify.send import reads_html

    mail_services = [
        "mailgun://tenders@example.org/KEY123",
        "ses://tenders@example.org/AKIA1/SECRET/eu-west-2/",
    ]
    assert all(reads_html(url) for url in mail_services)
    assert not reads_html("rockets://hookid/hooktoken@127.0.0.1/%23bids") and not reads_html(
        "json://127.0.0.1"
    )
    # SendGrid, as pasted: its posts to api.sendgrid.com are tunnelled to the local receiver.
    url = "sendgrid://SGKEY123:tenders@example.org/bids@example.org?verify=no"  # self-signed here
    with tunnelled_to(teams, monkeypatch) as proxy:
        config = configure(tmp_path, [("mail", url)])
        [target] = targets(config)
        [result] = send(config, stored)
    assert target.kind == "other" and reads_html(url)
    assert result.outcome == "sent" and set(proxy.asked) == {"api.sendgrid.com:443"}
    [post] = teams.posts  # one e-mail, as designed, not Markdown messages
    assert post["subject"] == result.digest.subject
    assert [(part["type"], part["value"].strip()) for part in post["content"]] == [
        ("text/html", result.html.strip())  # apprise trims the body's last newline
    ]
    assert deliveries(stored) == len(result.digest.announcements())


def test_a_message_that_would_lose_its_titles_on_the_way_is_not_sent(env, tmp_path, stored):
    receiver = WebhookReceiver(status=200).start()
    try:
        config = configure(tmp_path, [("chat", rocket_chat(receiver))])
        [preview] = send_digests(config, stored, targets(config), as_of=AS_OF, dry_run=True)
        items = tuple(item for section in preview.digest.sections.values() for item in section)
        # The e-mail's HTML, which apprise turns into an empty Markdown table for Rocket.Chat.
        as_html = Message(preview.digest.subject, preview.html, items)
        outcome = notify_send(rocket_chat(receiver), as_html, html=True)
    finally:
        receiver.stop()
    assert not outcome.ok and not outcome.unconfirmed and receiver.posts == []
    assert outcome.reason.startswith("not sent: as Rocket.Chat would get it (markdown), the message shows 0")


def test_a_template_of_our_own_that_leaves_out_the_titles_sends_nothing_and_records_nothing(
    env, tmp_path, stored, smtp
):
    own = tmp_path / "templates"
    own.mkdir()
    shipped = (Path(notify_templates.__file__).parent / "templates" / "digest.html.j2").read_text()
    (own / "digest.html.j2").write_text(shipped.replace("{{ item.notice.title | tidy }}", "a notice"))
    config = configure(tmp_path, [("bids", smtp.url())], templates_dir=str(own))
    [result] = send(config, stored)
    assert result.outcome == "failed" and "templates_dir" in result.reason
    shown = re.search(r"the message shows (\d+) of its (\d+) notices' titles \(missing ", result.reason)
    assert int(shown[1]) < int(shown[2])  # a few titles are quoted in other notices' descriptions
    assert smtp.messages == [] and deliveries(stored) == 0


def matching_notice(**fields) -> Notice:
    """An open Find a Tender tender the example profile calls a strong match, with `fields` changed."""
    strong = Notice(
        source="find_a_tender",
        source_id="099999-2026",
        title="Independent evaluation and review of services",
        notice_type="UK4",
        stage="tender",
        is_opportunity=True,
        status="active",
        buyer_name="A council",
        published_at=AS_OF - timedelta(days=1),
        deadline=AS_OF + timedelta(days=20),
        category="services",
        cpv=("79419000",),
        regions=("UKG",),
    )
    return dataclasses.replace(strong, **fields)


def test_notice_text_is_escaped_and_links_stay_on_the_source_host(env, tmp_path, stored, smtp, teams):
    hostile = matching_notice(
        ocid="ocds-h6vhtk-fffff1",
        title='<script>alert("x")</script> Independent review (RFI) and evaluation of <b>services</b>'
        " [Click](https://ev.il/p) <at>x</at>",
        url="https://evil.example.org/Notice/099999-2026",
        buyer_name="Council <img src=x onerror=alert(1)>",
        description="An independent evaluation [click](javascript:alert(1)) of service review",
    )
    with stored.writing() as session:
        save_notices(session, [hostile], now=utcnow())
    config = configure(tmp_path, [("bids", smtp.url()), ("teams", teams.url())])
    email_result, _ = send(config, stored)
    assert hostile.id in {i.notice.id for s in email_result.digest.sections.values() for i in s}
    html = list(smtp.messages[0].walk())[2].get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "evil.example.org" not in html  # the notice is listed, but its off-site link is not
    card_text = json.dumps(teams.posts)
    assert "evil.example.org" not in card_text and "javascript:" not in card_text.replace("\\\\", "")
    body = card_texts(teams.posts[0])
    assert r"\<script\>alert" in body and "<script>" not in body
    assert r"\[Click\](https://ev.il/p) \<at\>x\</at\>" in body  # no link, no mention
    assert '"mention"' not in json.dumps(teams.posts)  # apprise found no <at> mention to send
    assert "review (RFI) and" in body  # no needless backslashes: Teams on phones shows them


def test_a_notice_too_long_for_a_post_is_shortened_and_every_other_item_still_posted(
    env, tmp_path, stored, teams
):
    huge_title = matching_notice(
        ocid="ocds-h6vhtk-fffff7",
        source_id="099997-2026",
        title="Independent evaluation and review of services " + "with a very long title " * 1800,  # 41 KB
    )
    huge_link = matching_notice(  # a framework page whose link alone is longer than a post
        source="crown_commercial_service",
        source_id="RM9997",
        ocid="ocds-h6vhtk-fffff8",
        title="Independent evaluation and review of frameworks",
        url="https://www.crowncommercial.gov.uk/agreements/RM9997?" + "x" * 30_000,
    )
    with stored.writing() as session:
        save_notices(session, [huge_title, huge_link], now=utcnow())
    config = configure(tmp_path, [("teams", teams.url())], teams_items_per_post=12)
    [result] = send(config, stored)
    items = [item for section in result.digest.sections.values() for item in section]
    assert {huge_title.id, huge_link.id} <= {item.notice.id for item in items}
    assert result.outcome == "sent" and deliveries(stored) == len(result.digest.announcements())
    assert all(len(json.dumps(post).encode()) < 28_000 for post in teams.posts)
    texts = "\n".join(card_texts(post) for post in teams.posts)
    others = [item for item in items if item.notice.id not in (huge_title.id, huge_link.id)]
    assert others and all(shown_title(item) in texts for item in others)
    cut = markdown_escape(excerpt(tidy_title(huge_title.title), 300))
    assert cut.endswith("\u2026") and f"[{cut}](https://www.find-tender" in texts
    assert f"**{huge_link.title}** (crown" in texts  # its title, without the link no post can hold
    show = r"tenderwatch show crown\_commercial\_service:RM9997."
    assert f"Too long to show here: read it with {show}" in texts
    assert "x" * 3000 not in json.dumps(teams.posts)


def test_a_post_refused_names_the_notices_it_carried(env, tmp_path, stored, teams):
    config = configure(tmp_path, [("teams", teams.url())])
    [preview] = send_digests(config, stored, targets(config), as_of=AS_OF, dry_run=True)
    items = tuple(item for section in preview.digest.sections.values() for item in section)[:3]
    card = teams_post(preview.digest, {"strong": list(items)}, None, title="too big", last=True)
    card["attachments"][0]["content"]["body"].append({"type": "TextBlock", "text": "x" * 40_000})
    too_big = notify_send(teams.url(), Message("too big", "", items, card=card), html=False)
    assert not too_big.ok and teams.posts == []  # apprise reads no template over 35,000 bytes
    assert too_big.reason == (
        f"apprise did not post the card carrying 3 notices, the first {items[0].notice.id}: "
        "Could not access the card (apprise reads at most 35,000 bytes)"
    )
    refusing = WebhookReceiver(status=400).start()
    try:
        [refused] = send(configure(tmp_path, [("teams", refusing.url())]), stored)
    finally:
        refusing.stop()
    assert refused.outcome == "failed" and refused.reason.endswith(
        f"answered HTTP 400 Bad Request: it did not take the post carrying 12 notices, the first "
        f"{refused.digest.sections['strong'][0].notice.id}"
    )


def test_an_imported_notice_is_listed_with_its_id_instead_of_a_link(env, tmp_path, stored, smtp, teams):
    call_off = matching_notice(
        source="email",
        source_id="calloff-2026-002",
        title="Independent evaluation of a service review pilot",
        url="https://portal.example.org/calloff/2",
        origin="import",
    )
    with stored.writing() as session:
        save_notices(session, [call_off], now=utcnow())
    config = configure(tmp_path, [("bids", smtp.url()), ("teams", teams.url())])
    send(config, stored)
    html = list(smtp.messages[0].walk())[2].get_content()
    assert re.search(r"No public link: <code[^>]*>tenderwatch show email:calloff-2026-002</code>", html)
    assert "portal.example.org" not in html  # kept, never linked or shown for a mail client to link
    body = card_texts(teams.posts[0])
    assert "**Independent evaluation of a service review pilot** (email:calloff-2026-002)" in body
    assert "(20 days left)" in body and "(20 days left)" in html  # one wording for both


def test_closing_soon_and_changes_follow_notices_already_sent(env, tmp_path, stored, smtp):
    config = configure(tmp_path, [("bids", smtp.url())], closing_soon_days=7)
    send(config, stored)
    moved = copy.deepcopy(release_by_id("076396-2026"))
    moved.update(id="079000-2026", tag=["tenderUpdate"], date="2026-08-13T09:00:00+01:00")
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-09-04T17:00:00+01:00"
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [moved])
    [changed] = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    [item] = [i for i in changed.digest.sections["changed"] if i.notice.id == VRP]
    assert "deadline changed from Fri 28 Aug 2026 17:00 to Fri 4 Sep 2026 17:00" in item.why
    assert "079000-2026" not in {i.notice.source_id for s in changed.digest.sections.values() for i in s}
    # Friday 28 August 07:30 to Friday 4 September 17:00: seven UK days, within the seven set.
    [preview] = send_digests(
        config, stored, targets(config), as_of=datetime(2026, 8, 28, 7, 30, tzinfo=LONDON), dry_run=True
    )
    assert VRP in {i.notice.id for i in preview.digest.sections["closing_soon"]}
    [soon] = send(config, stored, as_of=datetime(2026, 8, 30, 7, 30, tzinfo=LONDON))
    assert VRP in {i.notice.id for i in soon.digest.sections["closing_soon"]}
    reminder = next(i for i in soon.digest.sections["closing_soon"] if i.notice.id == VRP)
    # Sunday 30 August 07:30 to Friday 4 September 17:00: five UK days; said once, beside the deadline.
    assert (reminder.days_left, reminder.timing) == (5, None)
    assert "(5 days left)" in list(smtp.messages[-1].walk())[2].get_content()
    [quiet] = send(config, stored, as_of=datetime(2026, 8, 31, 7, 30, tzinfo=LONDON))
    assert VRP not in {i.notice.id for i in quiet.digest.sections["closing_soon"]}
    assert "Changed since we told you" in list(smtp.messages[1].walk())[2].get_content()


def test_a_midnight_deadline_closes_at_the_end_of_the_day_before(env, tmp_path, stored, smtp):
    # Buyers write midnight for "by the end of Friday": 00:00 on Saturday 5 September.
    config = configure(tmp_path, [("bids", smtp.url())], closing_soon_days=7)
    send(config, stored)
    _change_vrp(stored, tenderPeriod={"endDate": "2026-09-05T00:00:00+01:00"})
    send(config, stored, as_of=utcnow() + timedelta(minutes=1))  # the change, told once
    # Friday 28 August 07:30 to the end of Friday 4 September: within the seven days set.
    [week] = send_digests(
        config, stored, targets(config), as_of=datetime(2026, 8, 28, 7, 30, tzinfo=LONDON), dry_run=True
    )
    assert VRP in {i.notice.id for i in week.digest.sections["closing_soon"]}
    [last] = send(config, stored, as_of=datetime(2026, 9, 4, 20, 0, tzinfo=LONDON))
    [item] = [i for i in last.digest.sections["closing_soon"] if i.notice.id == VRP]
    assert item.days_left == 0
    html = list(smtp.messages[-1].walk())[2].get_content()
    vrp_block = html[html.index("Violence Reduction Partnership") :][:1500]
    assert "Closes Fri 4 Sep 2026 24:00" in vrp_block and "(today)" in vrp_block
    assert "Sat 5 Sep" not in vrp_block and "tomorrow" not in vrp_block


@pytest.mark.parametrize("mode", ["brief", "omit"])
def test_a_new_match_closing_too_soon_is_listed_briefly_or_counted_never_silently(
    env, tmp_path, stored, mode
):
    config = configure(tmp_path, too_soon=mode)
    late = datetime(2026, 8, 24, 7, 30, tzinfo=LONDON)  # VRP closes on the 28th: 4 days left, 7 needed
    [result] = send(config, stored, as_of=late)
    strong = {i.notice.id for i in result.digest.sections["strong"]}
    assert VRP not in strong
    html = result.path.read_text()
    if mode == "brief":
        [item] = [i for i in result.digest.sections["too_soon"] if i.notice.id == VRP]
        assert (item.days_left, item.timing) == (4, "minimum 7 days to respond")
        assert "Closing too soon?" in html and "(4 days left)" in html and "minimum 7 days to respond" in html
        deadlines = [i.notice.deadline for i in result.digest.sections["too_soon"]]
        assert len(deadlines) > 1 and deadlines == sorted(deadlines)  # about time: soonest first
    else:
        assert not result.digest.sections["too_soon"]
        assert VRP in {i.notice.id for i in result.digest.omitted}
        assert f"{len(result.digest.omitted)} new match" in html and 'too_soon = "omit"' in html
        assert f"{len(result.digest.omitted)} too soon, left out" in result.digest.subject
    # The subject counts the sections in the order the e-mail shows them.
    shown = sorted((html.index(f">{SECTION_TITLES[n]} <"), n) for n in SECTIONS if result.digest.sections[n])
    counted = [part.split(" ", 1)[1] for part in result.digest.headline.split(", ")]
    assert [label for label in counted if label in SUBJECT_LABELS.values()] == [
        SUBJECT_LABELS[name] for _, name in shown
    ]


CONSUMER_TRUST = "find_a_tender:075840-2026"  # a real tender notice, awarded 21 minutes after it


def test_a_tender_already_awarded_is_not_offered_as_an_opportunity(env, tmp_path, database):
    # Real: AHDB published the Consumer Trust project's tender (UK4, closing 11 August at 17:00) at
    # 15:35 on 10 August and its contract award notice (UK6, to Sparkminds) at 15:56; the digest of
    # the 11th offered it as a match "closing today" to bid for.
    with database.writing() as session:
        store_releases(session, "find_a_tender", cassette_releases("find_a_tender_2026-08-10"))
    config = configure(tmp_path)
    before_award = datetime(2026, 8, 10, 15, 40, tzinfo=LONDON)
    [earlier] = send_digests(config, database, targets(config), as_of=before_award, dry_run=True)
    assert CONSUMER_TRUST in listed(earlier)  # open to bids for those 21 minutes
    [result] = send(config, database, as_of=datetime(2026, 8, 11, 7, 30, tzinfo=LONDON))
    assert CONSUMER_TRUST not in listed(result) and result.digest.sections["strong"]


def test_an_empty_digest_is_skipped_or_sent_as_one_line_by_setting(env, tmp_path, stored, smtp):
    for empty, expected in (("skip", "skipped"), ("send", "sent")):
        config = configure(tmp_path, [("bids", smtp.url())], empty=empty)
        [result] = send(config, stored, as_of=datetime(2025, 1, 1, 7, 30, tzinfo=LONDON))  # before any notice
        assert result.digest.is_empty and result.outcome == expected
    assert [m["Subject"] for m in smtp.messages] == [
        "tenderwatch Wed 1 Jan: nothing new"
    ]  # dated: not threaded


def test_without_a_channel_the_digest_is_written_to_a_dated_html_file(env, tmp_path, stored):
    config = configure(tmp_path)
    [result] = send(config, stored)
    assert result.outcome == "written"
    assert result.path.parent == config.digest_dir and result.path.name.startswith("digest-")
    assert "Violence Reduction Partnership Research and Evaluation" in result.path.read_text()
    assert send(config, stored)[0].outcome == "skipped"  # the file counts as a channel: nothing twice


# `tenderwatch digest` that stops once it has chosen what to tell, until told to go on (a line on stdin).
DIGEST_PAUSED_ONCE_BUILT = """
import sys
import notify.run
from tenderwatch.cli import cli

built = notify.run.build_digest


def build_digest(*args, **kwargs):
    digest = built(*args, **kwargs)
    print("built", flush=True)
    sys.stdin.readline()
    return digest


notify.run.build_digest = build_digest
cli(["digest", "--as-of", sys.argv[1]])
"""


@pytest.mark.sqlite_only(reason="what the digest waits for is SQLite's write lock, held by another process")
def test_a_file_digest_killed_while_the_store_is_busy_is_written_once(env, tmp_path, stored):
    config = configure(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", DIGEST_PAUSED_ONCE_BUILT, AS_OF.isoformat()],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "built"
        # A crawl's batch holds the store's write lock as the digest comes to record what it wrote.
        writer = sqlite3.connect(stored.engine.url.database, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        process.stdin.write("go on\n")
        process.stdin.flush()
        written = lambda: list(config.digest_dir.glob("digest-*.html"))  # noqa: E731
        deadline = time.monotonic() + 5
        while not written() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()  # a reboot while it waits for the store
        process.wait(timeout=30)
        writer.execute("ROLLBACK")
        writer.close()
    finally:
        process.kill()
    [result] = send(config, stored, as_of=AS_OF + timedelta(minutes=5))  # the next run
    assert result.outcome == "written"
    # One file holds the digest: before, the killed run's file was whole but never recorded, and the
    # next run wrote the same items again into a second file.
    assert [path.name for path in config.digest_dir.iterdir()] == [result.path.name]
    assert "Violence Reduction Partnership Research and Evaluation" in result.path.read_text()


def test_the_digest_command_sends_to_a_url_and_exits_non_zero_naming_a_failed_channel(
    env, tmp_path, stored, smtp
):
    runner = CliRunner()
    ok = runner.invoke(cli, ["digest", "--to", smtp.url(), "--as-of", "2026-08-12T07:30"])
    assert ok.exit_code == 0, ok.output
    assert "sent: tenderwatch Wed 12 Aug:" in ok.output and len(smtp.messages) == 1
    again = runner.invoke(cli, ["digest", "--to", smtp.url(), "--as-of", "2026-08-12T08:30"])
    assert "nothing new" in again.output and len(smtp.messages) == 1
    secret = f"mailto://bob:hunter2secret@127.0.0.1:{free_port()}?from=tw@example.org&to=bids@example.org"
    failed = runner.invoke(cli, ["digest", "--to", secret, "--as-of", "2026-08-12T07:30"])
    assert failed.exit_code == 1
    assert "FAILED" in failed.output
    assert "digest failed for --to mailto://…; send it again to retry" in failed.output
    assert "hunter2secret" not in failed.output
    with stored.reading() as session:
        errors = " ".join(e or "" for e in session.scalars(select(DigestRow.error)))
    assert "hunter2secret" not in errors


def test_dry_run_renders_without_sending_or_recording(env, tmp_path, stored, smtp):
    runner = CliRunner()
    preview = tmp_path / "preview.html"
    result = runner.invoke(
        cli,
        ["digest", "--to", smtp.url(), "--dry-run", "--output", str(preview), "--as-of", "2026-08-12T07:30"],
    )
    assert result.exit_code == 0, result.output
    assert "Violence Reduction Partnership" in preview.read_text()
    assert smtp.messages == [] and deliveries(stored) == 0


def test_notify_test_reports_each_channel(env, tmp_path, smtp):
    configure(
        tmp_path,
        [
            ("bids", smtp.url()),
            ("dead", f"mailto://127.0.0.1:{free_port()}?from=tw@example.org&to=x@example.org"),
        ],
    )
    result = CliRunner().invoke(cli, ["notify", "test"])
    assert result.exit_code == 1
    assert "bids: ok" in result.output and "dead: FAILED" in result.output
    assert smtp.messages[0]["Subject"] == "tenderwatch: test message"


def test_verbose_logs_never_show_a_channel_secret(env, tmp_path, smtp, teams):
    dead_teams = f"workflows://127.0.0.1:{free_port()}/workflow1234abcd/deadSECRET77/?verify=no"
    with_password = smtp.url().replace("mailto://", "mailto://tenders:PASSWORDxyz@")
    in_path = f"jsons://127.0.0.1:{teams.port}/hooks/pathSECRET123?verify=no"  # a token in the path
    configure(
        tmp_path, [("teams", teams.url()), ("dead", dead_teams), ("mail", with_password), ("hook", in_path)]
    )
    # A process of its own: apprise logs while it is first imported, which once broke --verbose.
    result = subprocess.run(
        [sys.executable, "-m", "tenderwatch", "-v", "notify", "test"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "teams: ok" in output and "dead: FAILED" in output
    assert '"POST /workflows/' in output and '"POST /hooks/' in output  # urllib3's debug lines are shown
    for secret in ("signatureSECRET99", "deadSECRET77", "PASSWORDxyz", "pathSECRET123"):
        assert secret not in output


def test_verbose_logs_never_show_the_secret_of_a_url_given_with_to(env, tmp_path, teams, monkeypatch):
    in_path = f"jsons://127.0.0.1:{teams.port}/hooks/pathSECRET123?verify=no"
    monkeypatch.setenv("TW_TEST_HOOK_URL", in_path)
    runs = {
        "typed": ["--to", teams.url()],
        "from the environment": ["--to", "${TW_TEST_HOOK_URL}"],  # kept out of `ps` and history
    }
    for how, to in runs.items():
        result = subprocess.run(
            [sys.executable, "-m", "tenderwatch", "-v", "notify", "test", *to],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, (how, output)
        assert '"POST /' in output  # urllib3's debug lines are shown
        for secret in ("signatureSECRET99", "pathSECRET123"):
            assert secret not in output, how
    assert len(teams.posts) == 2
    monkeypatch.delenv("TW_TEST_HOOK_URL")
    unset = CliRunner().invoke(cli, ["notify", "test", "--to", "${TW_TEST_HOOK_URL}"])
    assert unset.exit_code == 2
    assert "--to uses ${TW_TEST_HOOK_URL}, but that environment variable is not set" in unset.output


def test_a_digest_another_process_is_sending_is_not_sent_twice(env, tmp_path, stored, smtp):
    config = configure(tmp_path, [("bids", smtp.url())])
    with locks.hold(stored, "digest:bids") as lock:
        assert lock is not None
        [busy] = send(config, stored)
    assert (busy.outcome, busy.ok) == ("busy", True)
    assert "another process is sending it (pid" in busy.reason
    assert smtp.messages == [] and deliveries(stored) == 0
    assert send(config, stored)[0].outcome == "sent"


def test_a_firm_restyles_the_digest_with_its_own_template_copies(env, tmp_path, stored):
    styles = tmp_path / "house-style"
    styles.mkdir()
    original = (Path(notify_templates.__file__).parent / "templates" / "digest.html.j2").read_text()
    (styles / "digest.html.j2").write_text(
        original.replace("#1d4f91", "#6a1b9a").replace("<body", "<body data-house-style='acme'")
    )
    config = configure(tmp_path, templates_dir=str(styles))
    [result] = send(config, stored)
    html = result.path.read_text()
    assert "data-house-style='acme'" in html and "#6a1b9a" in html and "#1d4f91" not in html
    assert "Violence Reduction Partnership Research and Evaluation" in html


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{% if digest %}never closed", "digest.html.j2:3: Unexpected end of template"),
        ("{{ no_such_thing }}", "digest.html.j2:3: 'no_such_thing' is undefined"),
    ],
)
def test_a_broken_house_template_is_one_line_naming_its_file_and_line(env, tmp_path, stored, line, message):
    styles = tmp_path / "house-style"
    styles.mkdir()
    (styles / "digest.html.j2").write_text(f"<html>\n<body>\n{line}\n</body>\n")
    configure(tmp_path, templates_dir=str(styles))
    result = CliRunner().invoke(cli, ["digest"])
    assert result.exit_code == 2, result.output
    assert f"tenderwatch: {styles / message}" in result.output
    assert result.output.rstrip().endswith("; fix the template ([digest] templates_dir)")
    assert deliveries(stored) == 0
    # Recorded as a failed digest and named by `status` (exit 1), and the daemon will not start.
    with stored.reading() as session:
        assert [row.outcome for row in session.scalars(select(DigestRow))] == ["failed"]
    status = CliRunner().invoke(cli, ["status", "--no-channel-check"])
    assert status.exit_code == 1 and f"no digest can be sent: {styles / message}" in status.output
    daemon = tenderwatch("daemon")
    assert daemon.returncode == 2 and str(styles / message) in daemon.stderr


def test_digest_output_into_a_missing_folder_is_refused_before_anything_is_sent(env, tmp_path, stored):
    configure(tmp_path)
    result = CliRunner().invoke(cli, ["digest", "--output", str(tmp_path / "missing" / "digest.html")])
    assert result.exit_code == 2
    assert f"--output: the folder {tmp_path / 'missing'} does not exist" in result.output
    assert deliveries(stored) == 0


@pytest.mark.parametrize("by_email", [False, True], ids=["file", "email"])
def test_a_match_left_out_as_too_soon_is_counted_once_and_not_brought_back(
    env, tmp_path, stored, smtp, by_email
):
    config = configure(
        tmp_path, [("bids", smtp.url())] if by_email else [], too_soon="omit", closing_soon_days=7
    )
    [first] = send(config, stored, as_of=datetime(2026, 8, 24, 7, 30, tzinfo=LONDON))
    assert first.outcome in ("sent", "written") and VRP in {i.notice.id for i in first.digest.omitted}
    [next_day] = send(config, stored, as_of=datetime(2026, 8, 25, 7, 30, tzinfo=LONDON))
    assert VRP not in {i.notice.id for s in next_day.digest.sections.values() for i in s}
    assert VRP not in {i.notice.id for i in next_day.digest.omitted}  # counted once, not every day


def test_a_procurement_appears_once_even_with_its_pipeline_notice_unsent(env, tmp_path, stored):
    planned = copy.deepcopy(release_by_id("069280-2026"))  # a real UK3, moved onto the VRP procurement
    planned.update(
        id="070000-2026", ocid=release_by_id("076396-2026")["ocid"], date="2026-08-01T10:00:00+01:00"
    )
    planned["tender"]["title"] = "Violence Reduction Partnership research and evaluation: planned procurement"
    planned["planning"]["documents"][0]["id"] = "070000-2026"
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [planned])
    config = configure(tmp_path)
    [result] = send(config, stored)
    listed = [i.notice.id for s in result.digest.sections.values() for i in s]
    assert VRP in listed
    assert "find_a_tender:070000-2026" not in listed


def test_links_are_built_from_the_notice_id_never_taken_from_its_url(env, tmp_path, stored, teams):
    tricks = [
        ("099991-2026", r"https://evil.example\@www.find-tender.service.gov.uk/Notice/099991-2026"),
        (
            "099992-2026",
            "https://www.find-tender.service.gov.uk/Notice/1) [Sign in to view](https://evil.example/login",
        ),
    ]
    notices = [
        matching_notice(
            source_id=source_id,
            ocid=f"ocds-h6vhtk-f{n}",
            url=url,
            title=f"Independent evaluation and review of services {n}",
        )
        for n, (source_id, url) in enumerate(tricks)
    ]
    with stored.writing() as session:
        save_notices(session, notices, now=utcnow())
    config = configure(tmp_path, [("teams", teams.url())])
    [result] = send(config, stored)
    assert {n.id for n in notices} <= {i.notice.id for s in result.digest.sections.values() for i in s}
    text = json.dumps(teams.posts)
    assert "evil.example" not in text
    assert "https://www.find-tender.service.gov.uk/Notice/099991-2026" in text


def test_a_digest_built_as_of_an_earlier_time_shows_source_health_as_it_was_then(env, tmp_path, stored):
    from store.models import CrawlRun, SourceState

    def run(start: datetime, outcome: str, message: str | None = None) -> CrawlRun:
        return CrawlRun(
            source="find_a_tender",
            started_at=start,
            finished_at=start + timedelta(minutes=5),
            window_from=start - timedelta(hours=1),
            window_to=start,
            outcome=outcome,
            message=message,
        )

    then_ok = datetime(2026, 8, 12, 6, 0, tzinfo=LONDON)
    later = datetime(2026, 12, 3, 6, 0, tzinfo=LONDON)
    with stored.writing() as session:
        session.add_all(
            [run(then_ok, "ok"), run(later - timedelta(hours=1), "failed", "HTTP 500"), run(later, "ok")]
        )
        state = session.get(SourceState, "find_a_tender") or SourceState(source="find_a_tender")
        state.last_success_at = later + timedelta(minutes=5)
        session.add(state)
    config = configure(tmp_path)

    def health_at(as_of: datetime) -> dict:
        [result] = send_digests(config, stored, targets(config), as_of=as_of, dry_run=True)
        return {entry["source"]: entry for entry in result.digest.health}["find_a_tender"]

    health = health_at(AS_OF)
    assert health["last_success"] == then_ok + timedelta(minutes=5)
    assert health["failures"] == []  # December's failure had not happened on 12 August
    health = health_at(later + timedelta(hours=2))
    assert health["last_success"] == later + timedelta(minutes=5)
    assert [message for _, message in health["failures"]] == ["HTTP 500"]
    assert health["failing"] is False  # the crawl after it succeeded
    health = health_at(later - timedelta(minutes=30))  # after the failure, before the success
    assert (health["last_success"], health["failing"]) == (then_ok + timedelta(minutes=5), True)


def test_a_digest_built_as_of_a_moment_before_the_crawl_that_fetched_it_calls_the_source_crawled(
    env, tmp_path, replay_server
):
    from tests.support.cli import tenderwatch

    served = {
        "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url,
        "TENDERWATCH_CONTRACTS_FINDER_ENABLED": "false",
    }
    window = ["--from", "2026-08-11T06:00", "--to", "2026-08-11T12:00"]
    crawl = tenderwatch("crawl", "find_a_tender", *window, env_extra=served)
    assert crawl.returncode == 0, crawl.stderr
    output = tmp_path / "august.html"
    digest = tenderwatch(
        "digest", "--as-of", "2026-08-11T12:30", "--dry-run", "--output", str(output), env_extra=served
    )
    assert digest.returncode == 0, digest.stderr
    html = output.read_text()
    assert "not crawled successfully yet" not in html  # the crawl ran today, after the as-of moment
    assert "Find a Tender</span>: last successful crawl" in html


def test_a_source_working_again_is_not_called_failing_and_an_interrupted_crawl_is_no_failure(
    env, tmp_path, stored
):
    from store.models import CrawlRun, SourceState

    def crawl(start: datetime, outcome: str) -> None:
        with stored.writing() as session:
            session.add(
                CrawlRun(
                    source="find_a_tender",
                    started_at=start,
                    finished_at=start + timedelta(minutes=1),
                    window_from=start - timedelta(hours=1),
                    window_to=start,
                    outcome=outcome,
                    message="HTTP 503" if outcome == "failed" else None,
                )
            )
            if outcome == "ok":
                state = session.get(SourceState, "find_a_tender") or SourceState(source="find_a_tender")
                state.last_success_at = start + timedelta(minutes=1)
                session.add(state)

    config = configure(tmp_path)
    crawl(AS_OF - timedelta(hours=3), "interrupted")
    crawl(AS_OF - timedelta(hours=2), "failed")
    crawl(AS_OF - timedelta(hours=1), "ok")
    [result] = send_digests(config, stored, targets(config), as_of=AS_OF, dry_run=True)
    health = {entry["source"]: entry for entry in result.digest.health}["find_a_tender"]
    assert [message for _, message in health["failures"]] == ["HTTP 503"]
    assert result.digest.failing_sources == [] and "failing" not in result.digest.subject
    assert "(working again after 1 failed crawl)" in result.html
    # It fails again, a digest says so, and no crawl ends after that: the next digest still says it
    # is failing (as status does), though no crawl failed since the last digest.
    crawl(AS_OF + timedelta(minutes=30), "failed")
    send(config, stored, as_of=AS_OF + timedelta(minutes=45))
    [result] = send_digests(config, stored, targets(config), as_of=AS_OF + timedelta(hours=1), dry_run=True)
    assert result.digest.failing_sources == ["find_a_tender"] and "1 source failing" in result.digest.subject
    assert "failing (HTTP 503); last success" in result.html


def test_status_says_a_failed_digest_is_due_again_after_the_retry_interval(env, tmp_path, stored):
    from store.deliveries import last_attempt, record_digest
    from tenderwatch.cli.base import local_time

    configure(tmp_path, [("bids", "json://127.0.0.1:9")])
    # Digests only on the day after tomorrow, so that no slot comes before the retry, whenever this runs.
    day_after_tomorrow = WEEKDAYS[(utcnow().astimezone(LONDON).weekday() + 2) % 7]
    with (tmp_path / "tenderwatch.toml").open("a") as config_file:
        config_file.write(f'[schedule]\ndigest_days = ["{day_after_tomorrow}"]\n')
    with stored.writing() as session:  # today's digest, failed just now
        record_digest(
            session, channel="bids", profile="example", as_of=utcnow(), outcome="failed", counts={}, error="x"
        )
    with stored.reading() as session:
        failed_at = last_attempt(session, "bids").created_at
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1, result.output  # it lists a problem
    [row] = [line for line in result.output.splitlines() if line.startswith("bids")]
    assert row.endswith(local_time(failed_at + timedelta(minutes=15))), (
        row
    )  # [schedule] retry_failed_digest_minutes
    assert "bids: the last digest failed" in result.output and "x; it will be tried again" in result.output


def _change_vrp(database, **tender) -> None:
    """A Find a Tender change notice (UK12 style) to the strong match VRP, received now."""
    moved = copy.deepcopy(release_by_id("076396-2026"))
    moved.update(id="079000-2026", tag=["tenderUpdate"], date="2026-08-13T09:00:00+01:00")
    moved["tender"].update(tender)
    with database.writing() as session:
        store_releases(session, "find_a_tender", [moved])


def test_a_clarification_and_an_award_of_an_opportunity_already_sent_are_told_once(
    env, tmp_path, stored, smtp
):
    # The firm asks to hear of clarifications under Changed, and an award ends the bid.
    config = configure(tmp_path, [("bids", smtp.url())], closing_soon_days=30)
    send(config, stored)
    vrp = release_by_id("076396-2026")
    description = vrp["tender"]["description"] + " Clarification: the evaluation covers all three lots."
    _change_vrp(stored, description=description)  # nothing tracked changes: deadline, value, title
    [clarified] = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    [item] = [i for i in clarified.digest.sections["changed"] if i.notice.id == VRP]
    assert item.why == "clarification or update: tender notice find_a_tender:079000-2026"
    assert "clarification or update" in list(smtp.messages[-1].walk())[2].get_content()
    award = copy.deepcopy(release_by_id("075869-2026"))  # a real award, to Sparkminds
    award.update(ocid=vrp["ocid"], id="079100-2026", date="2026-08-14T10:00:00+01:00")
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [award])
    [awarded] = send(config, stored, as_of=utcnow() + timedelta(minutes=2))
    [item] = [i for i in awarded.digest.sections["changed"] if i.notice.id == VRP]
    assert item.why.startswith("awarded: to Sparkminds")
    # Thursday 20 August, its deadline (Fri 28 Aug) within 30 days: awarded, it is no bid to remind of.
    [week] = send_digests(
        config, stored, targets(config), as_of=datetime(2026, 8, 20, 7, 30, tzinfo=LONDON), dry_run=True
    )
    assert VRP not in {i.notice.id for i in week.digest.sections["closing_soon"]}
    [quiet] = send(config, stored, as_of=utcnow() + timedelta(minutes=3))
    assert VRP not in {i.notice.id for items in quiet.digest.sections.values() for i in items}


def test_a_notice_that_changed_and_closes_soon_is_shown_once_and_reminded_once(env, tmp_path, stored, smtp):
    config = configure(tmp_path, [("bids", smtp.url())], closing_soon_days=7)
    send(config, stored)
    deadline = (utcnow() + timedelta(days=3)).astimezone(LONDON).replace(microsecond=0)
    _change_vrp(stored, tenderPeriod={"endDate": deadline.isoformat()})
    [changed] = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    shown = [name for name, items in changed.digest.sections.items() for i in items if i.notice.id == VRP]
    assert shown == ["changed"]
    [later] = send(config, stored, as_of=utcnow() + timedelta(days=1))
    assert VRP not in {i.notice.id for items in later.digest.sections.values() for i in items}


def test_a_cancelled_notice_says_cancelled_not_when_it_closes(env, tmp_path, stored, smtp, teams):
    config = configure(tmp_path, [("bids", smtp.url()), ("teams", teams.url())])
    send(config, stored)
    cancellation = copy.deepcopy(release_by_id("075954-2026"))
    cancellation.update(
        ocid=release_by_id("076396-2026")["ocid"], date="2026-08-13T10:00:00+01:00", id="079999-2026"
    )
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [cancellation])
    posted = len(teams.posts)
    results = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    assert all(VRP in {i.notice.id for i in r.digest.sections["changed"]} for r in results)
    html = list(smtp.messages[-1].walk())[2].get_content()
    vrp_block = html[html.index("Violence Reduction Partnership") :][:1500]
    assert "Cancelled" in vrp_block and "Closes" not in vrp_block
    # Nothing to act by: VRP's clarification deadline (Fri 21 Aug) is not offered for a cancelled tender.
    assert "Clarification questions by" not in vrp_block and "Decide bid/no-bid by" not in vrp_block
    post = json.dumps(teams.posts[posted:])  # the digest may take several posts (on Mondays, ending soon)
    vrp_line = post[post.index("Violence Reduction Partnership") :][:600]
    assert "**cancelled**" in vrp_line and "closes" not in vrp_line
    assert "Clarifications" not in vrp_line and "Decide by" not in vrp_line


@pytest.mark.parametrize("marked", [VRP, "find_a_tender:079000-2026"])  # the tender, or its change notice
def test_a_procurement_the_team_marked_not_relevant_is_no_longer_mentioned(
    env, tmp_path, stored, smtp, marked
):
    from store.scores import add_feedback

    config = configure(tmp_path, [("bids", smtp.url())], closing_soon_days=7)
    send(config, stored)
    with stored.writing() as session:
        add_feedback(session, marked, "not-relevant", "no-bid: outside our frameworks")
    deadline = (utcnow() + timedelta(days=3)).astimezone(LONDON).replace(microsecond=0)
    _change_vrp(stored, tenderPeriod={"endDate": deadline.isoformat()})
    [after] = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    assert VRP not in {i.notice.id for items in after.digest.sections.values() for i in items}


def test_a_digest_as_of_a_future_time_is_refused(env, tmp_path, stored, smtp):
    configure(tmp_path, [("bids", smtp.url())])
    result = CliRunner().invoke(cli, ["digest", "--as-of", "2099-01-01T07:30"])
    assert result.exit_code == 2
    assert "--as-of (2099-01-01 07:30 UK time) is in the future" in result.output
    assert smtp.messages == [] and deliveries(stored) == 0


def test_a_channel_that_cannot_send_fails_alone_and_is_named(env, tmp_path, stored, smtp, monkeypatch):
    monkeypatch.delenv("TW_TEST_TEAMS_URL", raising=False)
    configure(tmp_path, [("bids", smtp.url()), ("teams", "${TW_TEST_TEAMS_URL}")])
    problem = (
        "tenderwatch.toml: [[channels]] #2 url uses ${TW_TEST_TEAMS_URL}, "
        "but that environment variable is not set"
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["sources"]).exit_code == 0  # crawling and listing need no channel
    assert runner.invoke(cli, ["digest", "--dry-run"]).exit_code == 0  # sends nothing, so nothing fails
    digest = runner.invoke(cli, ["digest", "--as-of", "2026-08-12T07:30"])
    assert digest.exit_code == 1
    assert (
        "bids: sent" in digest.output
        and "teams: FAILED to send" in digest.output
        and problem in digest.output
    )
    assert len(smtp.messages) == 1  # the e-mail still went out
    assert "digest failed for teams; those items will be sent next time" in digest.output
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 1 and f"teams: no digest can be sent: {problem}" in status.output
    tested = runner.invoke(cli, ["notify", "test"])
    assert (
        tested.exit_code == 1 and "bids: ok" in tested.output and f"teams: FAILED: {problem}" in tested.output
    )
    daemon = runner.invoke(cli, ["daemon"])  # refuses before it starts
    assert daemon.exit_code == 2 and problem in daemon.output
    # Once the variable is set, the failure on record still names it (it was once hidden as ***).
    monkeypatch.setenv("TW_TEST_TEAMS_URL", f"json://127.0.0.1:{free_port()}/hook")
    assert "teams: the last digest failed" in (later := runner.invoke(cli, ["status"])).output
    assert "url uses ${TW_TEST_TEAMS_URL}, but" in later.output


def test_a_channel_of_another_profile_does_not_stop_a_profiles_digest(
    env, tmp_path, stored, smtp, monkeypatch
):
    monkeypatch.delenv("TW_TEST_TEAMS_URL", raising=False)
    (tmp_path / "tenderwatch.toml").write_text(
        f'[scoring.profiles]\nother = "{EXAMPLE_RULES}"\n'
        f'[[channels]]\nname = "bids"\nurl = "{smtp.url()}"\n'
        '[[channels]]\nname = "teams"\nurl = "${TW_TEST_TEAMS_URL}"\nprofile = "other"\n'
    )
    result = CliRunner().invoke(cli, ["digest", "--profile", "example", "--as-of", "2026-08-12T07:30"])
    assert result.exit_code == 0, result.output
    assert "teams" not in result.output and len(smtp.messages) == 1


def test_a_mistake_in_one_profiles_rules_holds_its_channels_alone(env, tmp_path, stored, smtp):
    """Channels are taken in the config's order: the broken profile's channel comes first."""
    broken = tmp_path / "other.yaml"
    broken.write_text(EXAMPLE_RULES.read_text().replace("scoring:", "scoring:\n  title_weight: lots", 1))
    (tmp_path / "tenderwatch.toml").write_text(
        f'[scoring.profiles]\nother = "{broken}"\n'
        '[[channels]]\nname = "other-bids"\nurl = "json://127.0.0.1"\nprofile = "other"\n'
        f'[[channels]]\nname = "bids"\nurl = "{smtp.url()}"\n'
    )
    result = CliRunner().invoke(cli, ["digest", "--as-of", "2026-08-12T07:30"])
    assert result.exit_code == 1
    assert len(smtp.messages) == 1 and "bids: sent" in result.output
    [held] = [line for line in result.output.splitlines() if line.startswith("other-bids:")]
    assert held.startswith(f"other-bids: NOT SENT until its rules are fixed: {broken}")
    with stored.reading() as session:  # nothing recorded for it: it goes out once the rules are fixed
        assert session.scalar(select(func.count()).select_from(DigestRow)) == 1


def test_a_digest_as_of_before_a_no_bid_still_shows_the_notice(env, tmp_path, stored):
    from store.scores import add_feedback

    config = configure(tmp_path)
    with stored.writing() as session:
        add_feedback(session, VRP, "not-relevant")  # decided today, after 12 August
    [result] = send_digests(config, stored, targets(config), as_of=AS_OF, dry_run=True)
    assert VRP in {item.notice.id for item in result.digest.sections["strong"]}


def test_a_teams_digest_cut_short_sends_only_the_rest_next_time(env, tmp_path, stored):
    add_strong_matches(stored, 30)
    receiver = WebhookReceiver(accept=2).start()  # takes two posts, then fails
    try:
        config = configure(tmp_path, [("teams", receiver.url())], teams_items_per_post=12)
        [cut] = send(config, stored)
        assert cut.outcome == "failed" and len(receiver.posts) == 3
        items = {i.notice.id: i for section in cut.digest.sections.values() for i in section}
        accepted = json.dumps(receiver.posts[:2])
        told = {notice_id for notice_id, item in items.items() if item.notice.url in accepted}
        assert len(told) == 24
        receiver.accept = None
        [rest] = send(config, stored, as_of=AS_OF + timedelta(hours=1))
    finally:
        receiver.stop()
    assert rest.outcome == "sent"
    assert {i.notice.id for section in rest.digest.sections.values() for i in section} == set(items) - told


def test_a_teams_digest_stopped_mid_post_resends_only_the_post_in_flight(env, tmp_path, stored):
    add_strong_matches(stored, 30)
    receiver = WebhookReceiver(hold_after=2).start()  # answers two posts, keeps the third's answer back
    try:
        config = configure(tmp_path, [("teams", receiver.url())], teams_items_per_post=12)
        digest = [*TENDERWATCH, "digest", "--channel", "teams", "--as-of", AS_OF.isoformat()]
        process = subprocess.Popen(digest, cwd=tmp_path)
        try:
            wait_until(lambda: len(receiver.posts) == 3, what="the third post handed over")
        finally:
            process.send_signal(signal.SIGTERM)  # stopped while Teams holds the third post
            process.wait(timeout=30)
        accepted, in_flight = json.dumps(receiver.posts[:2]), json.dumps(receiver.posts[2])
        resend = CliRunner().invoke(cli, ["notify", "resend", "--channel", "teams"])
        assert resend.exit_code == 0, resend.output
        assert "12 items released" in resend.output  # the post in flight's, not the 24 Teams took
        receiver.hold_after = None
        [rest] = send(config, stored, as_of=AS_OF + timedelta(hours=1))
    finally:
        receiver.stop()
    assert rest.outcome == "sent"
    urls = [i.notice.url for section in rest.digest.sections.values() for i in section]
    assert not [url for url in urls if url in accepted]  # nothing Teams had taken is posted twice
    assert sum(url in in_flight for url in urls) == 12  # the post in flight is sent again


def test_a_procurement_marked_not_relevant_then_relevant_again_is_mentioned_again(
    env, tmp_path, stored, smtp
):
    from store.scores import add_feedback

    config = configure(tmp_path, [("bids", smtp.url())], closing_soon_days=7)
    send(config, stored)
    with stored.writing() as session:
        add_feedback(session, VRP, "not-relevant", "no-bid")
        add_feedback(session, VRP, "relevant", "the partner wants to bid after all")  # the latest wins
    deadline = (utcnow() + timedelta(days=3)).astimezone(LONDON).replace(microsecond=0)
    _change_vrp(stored, tenderPeriod={"endDate": deadline.isoformat()})
    [after] = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    assert VRP in {i.notice.id for i in after.digest.sections["changed"]}


def test_source_health_lists_the_failures_since_the_channel_was_last_told(env, tmp_path, stored):
    from store.models import CrawlRun

    def failed_crawl(start: datetime, message: str) -> None:
        with stored.writing() as session:
            session.add(
                CrawlRun(
                    source="find_a_tender",
                    started_at=start,
                    finished_at=start,
                    window_from=start - timedelta(hours=1),
                    window_to=start,
                    outcome="failed",
                    message=message,
                )
            )

    def failures(result) -> list[str]:
        health = {entry["source"]: entry for entry in result.digest.health}["find_a_tender"]
        return [message for _, message in health["failures"]]

    config = configure(tmp_path, empty="send")
    failed_crawl(AS_OF - timedelta(hours=2), "HTTP 500 before the first digest")
    [first] = send(config, stored)
    assert first.outcome == "written" and failures(first) == ["HTTP 500 before the first digest"]
    failed_crawl(utcnow() + timedelta(seconds=1), "HTTP 503 after it")
    [second] = send(config, stored, as_of=utcnow() + timedelta(minutes=1))
    assert failures(second) == ["HTTP 503 after it"]


def test_an_early_warning_says_when_its_tender_is_expected(env, tmp_path, stored, smtp, teams):
    config = configure(tmp_path, [("bids", smtp.url()), ("teams", teams.url())])
    planned = copy.deepcopy(release_by_id("076068-2026"))  # a UK2 match that also plans its deadline
    planned["tender"]["tenderPeriod"] = {"endDate": "2026-09-30T12:00:00+01:00"}
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [planned])
    email, posted = send(config, stored)
    assert (email.outcome, posted.outcome) == ("sent", "sent")
    warnings = email.digest.sections["early_warning"]
    expected = [item for item in warnings if item.notice.future_notice_date]
    assert expected and len(expected) < len(warnings)  # some pipeline notices give no date
    teams_text = json.dumps(teams.posts)
    for item in expected:
        day = item.notice.future_notice_date.astimezone(LONDON)
        said = f"{'was expected' if day.date() < AS_OF.date() else 'expected'} by {day:%a %-d %b %Y}"
        assert f"Tender {said}" in email.html and f"tender {said}" in teams_text
    said_at_all = email.html.count("Tender expected by") + email.html.count("Tender was expected by")
    assert said_at_all == len(expected)
    # A pipeline notice's deadline is the buyer's plan for the tender, not a date to respond by.
    assert "Expected to close Wed 30 Sep 2026 12:00" in email.html and "Closes Wed 30 Sep" not in email.html
    assert email.html.count("Expected to close") == teams_text.count("expected to close") == 1
    assert "days left" not in email.html.split("Early warning")[1].split("Sources")[0]  # a plan: no count
    undated = [item for item in warnings if not item.notice.future_notice_date and not item.notice.deadline]
    assert all(tidy_title(item.notice.title) in email.html for item in undated)
    assert email.html.count("No deadline stated") >= len(undated)


def test_a_tender_expected_date_that_has_passed_says_so():
    from notify.render import tender_expected

    pipeline = Notice(source="find_a_tender", source_id="1", title="x", stage="planning")
    dated = dataclasses.replace(pipeline, future_notice_date=datetime(2026, 8, 24, 23, 59, 59, tzinfo=LONDON))
    assert tender_expected(dated, AS_OF) == "expected by Mon 24 Aug 2026"
    assert (
        tender_expected(dated, datetime(2026, 8, 24, 23, 0, tzinfo=LONDON)) == "expected by Mon 24 Aug 2026"
    )
    assert (
        tender_expected(dated, datetime(2026, 8, 25, 7, 30, tzinfo=LONDON))
        == "was expected by Mon 24 Aug 2026"
    )
    assert tender_expected(pipeline, AS_OF) is None
    tender = dataclasses.replace(dated, stage="tender")  # only a pipeline notice's next one is its tender
    assert tender_expected(tender, AS_OF) is None


def test_a_pipeline_notice_whose_planned_deadline_has_passed_says_it_was_expected_not_closed(
    env, tmp_path, stored, smtp
):
    config = configure(tmp_path, [("bids", smtp.url())])
    late = copy.deepcopy(release_by_id("076068-2026"))  # a UK2 match, its planned deadline already past
    late["tender"]["tenderPeriod"] = {"endDate": "2026-08-10T12:00:00+01:00"}
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [late])
    [email] = send(config, stored)
    assert "Was expected to close Mon 10 Aug 2026 12:00" in email.html
    assert "(closed)" not in email.html


PCS_API = "https://api.publiccontractsscotland.gov.uk"


def scottish_copy_of_vrp(ocid: str = "ocds-r6ebe6-0000999001") -> dict:
    """A real Public Contracts Scotland release, moved onto the VRP's work and dates (constructed: no
    recorded pair of a PCS notice and its Find a Tender copy exists; the link between them is real)."""
    release = copy.deepcopy(cassette_releases("public_contracts_scotland_2026-09_102")[14])
    release.update(id="rls-1-SEP999001", ocid=ocid, date="2026-08-10T00:00:00Z")
    release["links"] = [{"rel": "canonical", "href": f"{PCS_API}/v1/Notice?id={ocid}"}]  # its own
    release["tender"].update(
        title="Violence Reduction Partnership Research and Evaluation",
        description="Research and evaluation of the violence reduction partnership's programme.",
        tenderPeriod={"endDate": "2026-09-10T12:00:00Z"},
    )
    return release


def forwarded_vrp(ocid: str = "ocds-r6ebe6-0000999001") -> dict:
    """The VRP's Find a Tender release with the canonical link such forwarded copies carry (as 28 real
    releases of the recorded days do: links[0] rel canonical, the PCS API's /v1/Notice?id=<ocid>)."""
    release = copy.deepcopy(release_by_id("076396-2026"))
    release["links"] = [
        {"rel": "canonical", "href": f"https://api.publiccontractsscotland.gov.uk/v1/Notice?id={ocid}"}
    ]
    return release


def listed(result) -> list[str]:
    return [item.notice.id for section in result.digest.sections.values() for item in section]


def test_a_notice_on_two_services_is_one_procurement_listed_once(env, tmp_path, stored, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_PUBLIC_CONTRACTS_SCOTLAND_ENABLED", "true")
    with stored.writing() as session:
        store_releases(session, "find_a_tender", [forwarded_vrp()])
        store_releases(session, "public_contracts_scotland", [scottish_copy_of_vrp()])
    [result] = send(configure(tmp_path), stored)
    both = {VRP, "public_contracts_scotland:SEP999001"}
    assert len(both & set(listed(result))) == 1  # one item for the one procurement
    shown = CliRunner().invoke(cli, ["show", VRP])
    assert "same as: public_contracts_scotland:SEP999001 (this notice links to its ocid" in shown.output
    scottish = CliRunner().invoke(cli, ["show", "public_contracts_scotland:SEP999001"])
    assert "same as: find_a_tender:076396-2026 (each links to this notice's ocid)" in scottish.output


def test_a_copy_seen_after_the_original_was_sent_is_not_news(env, tmp_path, database, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_PUBLIC_CONTRACTS_SCOTLAND_ENABLED", "true")
    with database.writing() as session:
        store_releases(session, "public_contracts_scotland", [scottish_copy_of_vrp()])
    config = configure(tmp_path)
    [first] = send(config, database)
    assert listed(first) == ["public_contracts_scotland:SEP999001"]
    with database.writing() as session:
        store_releases(session, "find_a_tender", [forwarded_vrp()])
    [second] = send(config, database, as_of=AS_OF + timedelta(days=1))
    assert VRP not in listed(second)
    unlinked = forwarded_vrp(ocid="ocds-r6ebe6-0000999002")  # a copy of another PCS notice: news
    unlinked.update(id="076396-2027", ocid="ocds-h6vhtk-fffff9")
    with database.writing() as session:
        store_releases(session, "find_a_tender", [unlinked])
    [third] = send(config, database, as_of=AS_OF + timedelta(days=2))
    assert "find_a_tender:076396-2027" in listed(third)


def test_a_procurement_is_named_the_same_whichever_source_holds_its_notice():
    from store.notice import procurement_key

    fts = "ocds-h6vhtk-06e1c4"
    assert procurement_key("find_a_tender", fts, "076396-2026", None) == ("find_a_tender", fts)
    assert procurement_key("email", fts, "call-off-1", None) == ("find_a_tender", fts)  # an import, same ocid
    pcs = "ocds-r6ebe6-0000999001"
    assert procurement_key("find_a_tender", fts, "076396-2026", pcs) == ("public_contracts_scotland", pcs)
    assert procurement_key("public_contracts_scotland", pcs, "SEP999001", None) == (
        "public_contracts_scotland",
        pcs,
    )
    assert procurement_key("email", None, "call-off-2", None) == ("email", "call-off-2")
    assert procurement_key("email", "our-own-ref", "call-off-3", None) == ("email", "our-own-ref")


def test_every_source_is_named_in_words_and_credited_under_its_licence(env, tmp_path, stored, monkeypatch):
    for source in ("PUBLIC_CONTRACTS_SCOTLAND", "CROWN_COMMERCIAL_SERVICE", "DIGITAL_OUTCOMES"):
        monkeypatch.setenv(f"TENDERWATCH_{source}_ENABLED", "true")
    [result] = send(configure(tmp_path), stored)
    html = result.html
    assert "crown_commercial_service" not in html and "digital_outcomes" not in html
    assert "Crown Commercial Service</span>" in html and "Digital Outcomes</span>" in html
    assert (
        "Notice data from Find a Tender, Contracts Finder, Public Contracts Scotland, Crown Commercial "
        "Service and Digital Outcomes, under the Open Government Licence v3.0."
    ) in " ".join(html.split())
