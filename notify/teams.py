"""A digest as Teams posts: Adaptive Cards of whole items, each with a FactSet, a badge for a strong
match and buttons (Action.OpenUrl) to the notice's page and, when the web app's address is set, to
tenderwatch's page and its relevant / not-relevant pages.

apprise's Workflows plugin posts a card of its own making (one Markdown block and an icon fetched
from a third-party site) unless given a JSON template: each card is written to a template file and
sent with `template=` and `image=no` (see notify.send). Notice text is Markdown-escaped (Teams
renders Markdown in TextBlocks and facts) and JSON-escaped; links are only the source's own page
and the configured web app.

Chat services other than Teams get the same cards' text as Markdown (markdown_messages).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from notify.digest import SECTION_TITLES, SECTIONS, Digest, Item
from notify.facts import excerpt, facts
from notify.render import (
    SOURCE_NAMES,
    Message,
    days_left,
    markdown_escape,
    planned_close,
    safe_link,
    tender_expected,
)
from tenderwatch.formatting import counted, notice_value, tidy_title, when

CARD_VERSION = "1.4"  # what Teams renders on desktop, web and phones
# Well inside Teams' ~28 KB message limit (and the 35,000 bytes apprise reads from a template).
TEAMS_MAX_CARD = 24_000
# Notice text is cut (at a word, as facts.excerpt cuts descriptions) so that one notice with a huge
# title, buyer or reason cannot make a post that no channel takes, blocking everything after it.
TITLE_CHARACTERS = 300
FACT_CHARACTERS = 400
WHY_CHARACTERS = 600
LINK_CHARACTERS = 2_000  # a longer link (a feed entry's) is left out of a shortened post


def teams_messages(digest: Digest, public_url: str | None, items_per_post: int) -> list[Message]:
    """The digest as Teams posts of whole items: split, never truncated mid-item."""
    posts = _posts(digest, public_url, items_per_post, lambda card: len(json.dumps(card)), TEAMS_MAX_CARD)
    return [Message(title, "", items, card=card) for title, items, card in posts]


def markdown_messages(digest: Digest, public_url: str | None, limit: int) -> list[Message]:
    """The digest as Markdown messages of whole items, each at most `limit` characters where items
    allow, for the chat services other than Teams (Slack, Rocket.Chat, Discord, ...): the Teams cards'
    text. Given the e-mail's HTML, apprise makes an empty Markdown table of its layout instead."""
    everything = max(1, sum(len(items) for items in digest.sections.values()))
    posts = _posts(digest, public_url, everything, lambda card: len(card_markdown(card)), limit)
    return [Message(title, card_markdown(card), items) for title, items, card in posts]


def _posts(
    digest: Digest, public_url: str | None, items_per_post: int, size: Callable[[dict], int], limit: int
) -> list[tuple[str, tuple[Item, ...], dict[str, Any]]]:
    """Each post's title, items and card: whole items, fewer to a post until each is within `limit`."""
    chunks = _chunks(digest, items_per_post)
    posts = []
    for number, chunk in enumerate(chunks, start=1):
        title = digest.subject + (f" (part {number} of {len(chunks)})" if len(chunks) > 1 else "")
        last = number == len(chunks)
        card = post(digest, chunk, public_url, title=title, last=last)
        items = tuple(item for section in chunk.values() for item in section)
        if size(card) > limit and len(items) > 1:
            return _posts(digest, public_url, max(1, items_per_post // 2), size, limit)
        if size(card) > limit:  # one notice too long even cut: its title and link only, not no post
            card = post(digest, chunk, public_url, title=title, last=last, shortened=True)
        posts.append((title, items, card))
    return posts


def post(
    digest: Digest,
    sections: dict[str, list[Item]],
    public_url: str | None,
    *,
    title: str,
    last: bool,
    shortened: bool = False,
) -> dict[str, Any]:
    """One Workflows post: a message holding one Adaptive Card (`shortened`: each item's title and
    link only)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": markdown_escape(title),
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        }
    ]
    if not any(sections.values()) and not digest.omitted:
        body.append(_text("Nothing new matched today."))
    for name, items in sections.items():
        heading = f"**{SECTION_TITLES[name]}** ({len(items)})"
        body.append({**_text(heading), "size": "Medium", "separator": True, "spacing": "Large"})
        body += [
            _short_item(item) if shortened else _item(item, digest, public_url, brief=name == "too_soon")
            for item in items
        ]
    if last:
        body += _footer(digest)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def card_markdown(card: dict[str, Any]) -> str:
    """A card's text as Markdown, without its title (the message's own title): each TextBlock a
    paragraph (bold where the card's is), facts a list, buttons links."""
    [attachment] = card["attachments"]
    return "\n\n".join(filter(None, map(_markdown, attachment["content"]["body"][1:])))


def _markdown(element: dict[str, Any]) -> str:
    kind = element["type"]
    if kind == "TextBlock":
        text = element["text"]
        bold = element.get("weight") == "Bolder" and not text.startswith("**")
        return f"**{text}**" if bold else text
    if kind == "Container":
        return "\n\n".join(filter(None, map(_markdown, element["items"])))
    if kind == "FactSet":
        return "\n".join(f"- **{fact['title']}:** {fact['value']}" for fact in element["facts"])
    if kind == "ActionSet":
        return " · ".join(f"[{action['title']}]({_link(action['url'])})" for action in element["actions"])
    return ""


def _link(url: str) -> str:
    """A URL as a Markdown link's target: a bracket or a space in it would end the link early."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def card_json(card: dict[str, Any]) -> str:
    """The card as apprise's template file: JSON in which no notice text can read as one of apprise's
    {{tokens}} (a "{" inside a string is written \\u007b; JSON reads it back as "{")."""
    return json.dumps(card, ensure_ascii=False).replace("{{", "{\\u007b")


def _item(item: Item, digest: Digest, public_url: str | None, *, brief: bool) -> dict[str, Any]:
    notice = item.notice
    link = safe_link(notice)
    shown = facts(
        notice, min_response_days=digest.min_response_days, as_of=digest.as_of, public_url=public_url
    )
    elements: list[dict[str, Any]] = []
    if item.band == "strong" and not brief:
        elements.append({**_text("✔ Strong match"), "color": "Good", "weight": "Bolder", "size": "Small"})
    elements.append(_heading(item, link))
    plain = [
        ("Buyer", notice.buyer_name or "buyer not stated"),
        ("Value", notice_value(notice)),
        ("Decide by", shown.decide_by),
        ("Clarifications", shown.enquiry_deadline),
        ("Region", shown.region),
        ("Type", f"{shown.notice_type} · {SOURCE_NAMES.get(notice.source, notice.source)}"),
        ("Timing", item.timing),
    ]
    rows = [(name, markdown_escape(excerpt(value, FACT_CHARACTERS))) for name, value in plain if value]
    rows.insert(2, ("Deadline", _deadline(item, digest.as_of)))
    elements.append({"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in rows]})
    if not brief:
        why = markdown_escape(excerpt(item.why, WHY_CHARACTERS))
        elements.append({**_text(f"_{why}_"), "isSubtle": True})
    actions = _actions(notice.source, link, shown.web_url, shown.relevant_url, shown.not_relevant_url)
    if actions:
        elements.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": elements}


def _heading(item: Item, link: str | None) -> dict[str, Any]:
    """The notice's title (cut to TITLE_CHARACTERS), linked to its page; its id where it has none."""
    notice = item.notice
    title = markdown_escape(excerpt(tidy_title(notice.title), TITLE_CHARACTERS) or "untitled")
    named = markdown_escape(excerpt(notice.id, FACT_CHARACTERS))
    heading = f"[{title}]({link})" if link else f"**{title}** ({named})"
    return {**_text(heading), "weight": "Bolder", "spacing": "None"}


def _short_item(item: Item) -> dict[str, Any]:
    """An item too long for a post even with its text cut: its title and the link to the rest."""
    link = safe_link(item.notice)
    link = link if link and len(link) <= LINK_CHARACTERS else None
    source = SOURCE_NAMES.get(item.notice.source, "its source")
    where = f"on {source}" if link else f"with tenderwatch show {excerpt(item.notice.id, FACT_CHARACTERS)}"
    elements = [
        _heading(item, link),
        {**_text(markdown_escape(f"Too long to show here: read it {where}.")), "isSubtle": True},
    ]
    actions = _actions(item.notice.source, link, None, None, None)
    if actions:
        elements.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": elements}


def _deadline(item: Item, as_of: datetime) -> str:
    """When it closes, in the words the e-mail uses (lower case, as one fact), Markdown-escaped."""
    notice = item.notice
    if item.contract_ends:
        return markdown_escape(f"contract ends {when(item.contract_ends, 'day')}")
    if notice.status == "cancelled":
        return "**cancelled**"  # Markdown of our own: escaped text never holds it
    parts = []
    expected = tender_expected(notice, as_of)
    if expected:
        parts.append(f"tender {expected}")
    planned = planned_close(notice, as_of)
    if planned:
        parts.append(planned)
    elif notice.deadline:
        left = f" ({days_left(item.days_left)})" if item.days_left is not None else ""
        parts.append(f"closes {when(notice.deadline)}{left}")
    elif not expected:
        parts.append("no deadline stated")
    return markdown_escape(" · ".join(parts))


def _actions(
    source: str, link: str | None, web: str | None, relevant: str | None, not_relevant: str | None
) -> list[dict[str, Any]]:
    buttons = [
        (f"Open on {SOURCE_NAMES.get(source, 'the source')}", link),
        ("Open in tenderwatch", web),
        ("Relevant", relevant),
        ("Not relevant", not_relevant),
    ]
    return [{"type": "Action.OpenUrl", "title": title, "url": url} for title, url in buttons if url]


def _footer(digest: Digest) -> list[dict[str, Any]]:
    blocks = []
    if digest.omitted:
        count, days = len(digest.omitted), digest.min_response_days
        matches = counted(count, "new match", "new matches")
        were = "was" if count == 1 else "were"
        blocks.append(_text(f"{matches} closing within {days} days {were} left out."))
    health = []
    for entry in digest.health:
        name = SOURCE_NAMES.get(entry["source"], entry["source"])
        if entry["failing"]:
            failures = len(entry["failures"] or [])
            since = f" ({counted(failures, 'failed crawl')} since the last digest)" if failures else ""
            health.append(f"{name} ⚠ failing{since}")
        elif entry["last_success"]:
            health.append(f"{name} ✓")
        else:
            health.append(f"{name} ⚠ not crawled successfully yet")
    blocks.append({**_text("**Sources:** " + ", ".join(health)), "separator": True, "spacing": "Large"})
    return blocks


def _text(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True}


def _chunks(digest: Digest, items_per_post: int) -> list[dict[str, list[Item]]]:
    chunks: list[dict[str, list[Item]]] = [{}]
    count = 0
    for section in SECTIONS:
        for item in digest.sections[section]:
            if count == items_per_post:
                chunks.append({})
                count = 0
            chunks[-1].setdefault(section, []).append(item)
            count += 1
    return chunks
