"""Text as sources write it, read as plain text."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from store.normalise.ocds import as_text


def plain(value: Any) -> str | None:
    """Text that may hold HTML, as plain text on tidy lines; None when there is none."""
    text = as_text(value)
    if not text:
        return None
    if "<" in text:
        text = BeautifulSoup(text, "html.parser").get_text(" ")
    tidy = " ".join(text.split())
    return tidy or None
