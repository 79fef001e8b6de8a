"""Hiding channel secrets (passwords, webhook signatures) in any text that is shown, logged or stored.

Without apprise, so that logging can use it while apprise itself is being imported (it logs then).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from tenderwatch.config import VARIABLE


def scrub(text: str, url: str) -> str:
    """Remove every secret-looking part of `url` (password, user, path tokens, query values) from text."""
    return hide(text, url_secrets([url]))


# Schemes whose host is a machine's name, said in failures ("the webhook at HOST answered 500"): in
# others apprise reads tokens where the host goes (discord://WEBHOOK_ID/TOKEN), so it is hidden.
NAMED_HOSTS = frozenset({"mailto", "mailtos", "workflow", "workflows", "http", "https"})


def url_secrets(urls: Iterable[str]) -> list[str]:
    """The secret-looking parts of these URLs, longest first, so that none is left half hidden."""
    secrets: set[str] = set()
    for url in urls:
        parts = urlsplit(url)
        secrets.update((url, parts.password or "", parts.username or ""))
        if parts.scheme.lower() not in NAMED_HOSTS:
            secrets.add(parts.netloc)
        secrets.update(segment for segment in parts.path.split("/") if len(segment) >= 8)
        secrets.update(value for _, value in parse_qsl(parts.query) if len(value) >= 6)
    # A ${NAME} left unexpanded (its variable unset) is no secret: messages name it so it can be set.
    return sorted((s for s in secrets if s and not VARIABLE.fullmatch(s)), key=len, reverse=True)


def hide(text: str, secrets: Iterable[str]) -> str:
    """Text with each of `secrets` (see url_secrets) and any other secret-looking URL part hidden."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return redact_secrets(text)


def redact_secrets(text: str) -> str:
    """Hide what looks like a secret in any URL in text: signatures, tokens, passwords in query or userinfo.

    For text that may hold a URL apprise built from a channel's (e.g. a Teams request's ?sig=...),
    where the channel URL itself is not at hand.
    """
    text = re.sub(r"(sig|signature|password|token|key|secret)=[^&\s\"']+", r"\1=***", text, flags=re.I)
    return re.sub(r"(?<=://)[^/\s@]+@", "***@", text)
