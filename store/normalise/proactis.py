"""Proactis's "OCDS Web API" (Public Contracts Scotland, Sell2Wales): what both do their own way.

Each release is one notice, named by the site's reference (SEP564850 on Public Contracts Scotland).
The release id puts a number before it ("rls-1-SEP564850", "rls-2-SEP564824", ... in the order of the
response in every recorded one): that number looks like a position in the response, not part of the
release, so releases are stored under the reference alone and the same notice is never kept twice.
The public notice page is built from the reference on the site's own host (never taken from the
data), and the regions are read as on Find a Tender.
"""

from __future__ import annotations

import re

from store.normalise import find_a_tender
from store.normalise.ocds import Release, SourceFormat

POSITION = re.compile(r"^rls-\d+-")


def reference(release_id: str) -> str:
    """ "rls-1-SEP564850" -> "SEP564850"; an id without the prefix is kept as it is."""
    return POSITION.sub("", release_id)


def notice_id(release: Release) -> str:
    return reference(str(release["id"]))


def source_format(name: str, public_site: str) -> SourceFormat:
    def notice_url(notice_id: str) -> str:
        return f"{public_site}/search/show/search_view.aspx?ID={notice_id}"

    return SourceFormat(
        name=name,
        notice_id=notice_id,
        notice_url=notice_url,
        regions=find_a_tender.regions,
        release_key=reference,
        uk_clock=True,
    )
