"""Render a real digest and photograph it in headless Chromium: docs/digest.png (600 px, a desktop
mail client), docs/digest-375.png (a phone) and docs/digest-1024.png (a wide window).

    .venv/bin/python scripts/screenshot_digest.py [--output-dir docs]

The digest is built from the recorded Find a Tender days in tests/fixtures with the example profile:
a first digest on the morning of 11 August, then a change to a notice it announced, then the digest
of 12 August (new matches, the change, early warnings, source health), with one more match whose
title is a 240-character web address (as a real notice of 13 August 2026 had), which must wrap
rather than widen the message. The web app's address is set, so each item shows its links.
Needs Debian's chromium and chromium-driver, and Selenium (the test extras).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# A real notice of 13 August 2026 had a 240-character web address as its title.
LONG_TITLE = (
    "https://www.delta-esourcing.com/tenders/UK-UK-Birmingham:-Research-and-evaluation-services-"
    "for-the-violence-reduction-partnership-community-research-programme-2026-2029-lots-1-2-and-3"
    "./9378W497XYZ1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ01234567"
)
# The whole digest at 600 px; its first two items (the long title among them) at 375 and 1024 px.
SHOTS = {"digest.png": (600, None), "digest-375.png": (375, 3), "digest-1024.png": (1024, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    from tests.support.browser import screenshot

    with tempfile.TemporaryDirectory() as folder:
        html = build_html(Path(folder))
    for name, (width, item) in SHOTS.items():
        above = f"tr:nth-child({item}) > td[data-item]" if item else None
        screenshot(html, width, args.output_dir / name, above=above)
        print(f"wrote {args.output_dir / name}")


def build_html(folder: Path) -> str:
    os.environ.update(
        TENDERWATCH_DATA_DIR=str(folder),
        TENDERWATCH_DB_URL=f"sqlite:///{folder}/tw.db",
        TENDERWATCH_WEB_PUBLIC_URL="https://tenders.example.org",
    )
    from notify.run import send_digests, targets
    from store.db import open_database
    from store.ingest import store_releases
    from store.models import SourceState
    from store.notice import LONDON
    from tenderwatch import config as configuration
    from tests.support.recorded import cassette_releases, release_by_id

    config = configuration.load()
    database = open_database(config.db_url)
    with database.writing() as session:
        store_releases(session, "find_a_tender", cassette_releases("find_a_tender_2026-08-10"))
    send_digests(config, database, targets(config), as_of=datetime(2026, 8, 11, 7, 30, tzinfo=LONDON))
    moved = copy.deepcopy(release_by_id("075610-2026"))
    moved.update(id="079001-2026", tag=["tenderUpdate"], date="2026-08-11T12:00:00+01:00")
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-08-28T12:00:00+01:00"
    long_titled = copy.deepcopy(release_by_id("076396-2026"))
    long_titled.update(id="079002-2026", ocid="ocds-h6vhtk-ffff02", date="2026-08-11T12:00:00+01:00")
    long_titled["tender"]["title"] = LONG_TITLE
    with database.writing() as session:  # as crawled at lunchtime on the 11th
        store_releases(
            session,
            "find_a_tender",
            [*cassette_releases("find_a_tender_2026-08-11"), moved, long_titled],
            now=datetime(2026, 8, 11, 12, 5, tzinfo=LONDON),
        )
    with database.writing() as session:  # both sources crawled at 06:00 that morning
        for source in ("find_a_tender", "contracts_finder"):
            session.add(
                SourceState(source=source, last_success_at=datetime(2026, 8, 12, 6, 0, tzinfo=LONDON))
            )
    [result] = send_digests(
        config, database, targets(config), as_of=datetime(2026, 8, 12, 7, 30, tzinfo=LONDON), dry_run=True
    )
    return result.html


if __name__ == "__main__":
    main()
