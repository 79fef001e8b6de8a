"""What a release says that names its procurement on another service: the evidence for matching.

- `links_to`: a link to the other national service's notice page, e.g. a Contracts Finder award's
  document "Find a Tender Service (FTS) Contract Award Notice" ->
  https://www.find-tender.service.gov.uk/Notice/002433-2025, kept as that notice's id
  (find_a_tender:002433-2025). Only the services' own hosts count, never the release's own service.
- `buyer_reference`: a ProContract advert number ("DN808470") in `tender.id`, the buyer's own
  reference, which buyers using ProContract give on every service they publish on. Other references
  ("1", "RFQ-2026") are too common to prove anything; a number under 100000 ("DN00000005") is a
  placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from store.normalise.ocds import Release, as_dict, as_dicts, as_text

LINKS_TO, BUYER_REFERENCE = "links_to", "buyer_reference"
NOTICE_PAGES = (
    ("find_a_tender", re.compile(r"^https?://www\.find-tender\.service\.gov\.uk/Notice/(\d{6}-\d{4})\b")),
    (
        "contracts_finder",
        re.compile(
            r"^https?://www\.contractsfinder\.service\.gov\.uk/Notice/([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})\b"
        ),
    ),
)
OWN_PREFIX = {"find_a_tender": "ocds-h6vhtk", "contracts_finder": "ocds-b5fd17"}
PROCONTRACT_REFERENCE = re.compile(r"\bDN(\d{6,9})\b")
SMALLEST_REFERENCE = 100_000


def references(release: Release) -> list[tuple[str, str]]:
    """(kind, value) pairs, each once, in the order found."""
    found: dict[tuple[str, str], None] = {}
    own = (as_text(release.get("ocid")) or "")[:11]
    for url in _urls(release):
        for service, pattern in NOTICE_PAGES:
            matched = pattern.match(url.strip())
            if matched and OWN_PREFIX[service] != own:
                found[(LINKS_TO, f"{service}:{matched.group(1)}")] = None
    reference = as_text(as_dict(release.get("tender")).get("id")) or ""
    for digits in PROCONTRACT_REFERENCE.findall(reference):
        if int(digits) >= SMALLEST_REFERENCE:
            found[(BUYER_REFERENCE, f"DN{digits}")] = None
    return list(found)


def _urls(release: Release) -> Iterator[str]:
    for section in ("planning", "tender"):
        for document in as_dicts(as_dict(release.get(section)).get("documents")):
            yield as_text(document.get("url")) or ""
    for section in ("awards", "contracts"):
        for entry in as_dicts(release.get(section)):
            for document in as_dicts(entry.get("documents")):
                yield as_text(document.get("url")) or ""
    for link in as_dicts(release.get("links")):
        yield as_text(link.get("href")) or ""
