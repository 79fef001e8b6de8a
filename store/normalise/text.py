"""Text as sources write it, read as plain text."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from store.normalise.ocds import as_text

BLOCKS = ["p", "li", "br", "div", "h1", "h2", "h3", "h4", "tr"]  # each ends a line


def plain(value: Any) -> str | None:
    """Text that may hold HTML, as plain text on tidy lines (a paragraph or list item each, so the
    first sentence stays apart from the rest); None when there is none."""
    text = as_text(value)
    if not text:
        return None
    if "<" in text:
        soup = BeautifulSoup(text, "html.parser")
        for block in soup.find_all(BLOCKS):
            block.insert_after("\n")
        for cell in soup.find_all(["td", "th"]):
            cell.insert_after(" ")
        text = soup.get_text()
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line) or None
