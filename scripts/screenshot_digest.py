"""Render a real digest and photograph it in headless Chromium at mail-client width: docs/digest.png.

    python scripts/screenshot_digest.py [--chromium /usr/bin/chromium] [--width 720]

The digest is built from the recorded Find a Tender days in tests/fixtures with the example profile:
a first digest on the morning of 11 August, then a change to a notice it announced, then the digest
of 12 August (new matches, the change, early warnings, source health). Needs Debian's chromium.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=720)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "digest.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        html = build_html(Path(folder))
        page = Path(folder) / "digest.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                args.chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                f"--user-data-dir={folder}/profile",
                f"--window-size={args.width},{page_height(html)}",
                f"--screenshot={args.output}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {args.output}")


def build_html(folder: Path) -> str:
    os.environ.update(TENDERWATCH_DATA_DIR=str(folder), TENDERWATCH_DB_URL=f"sqlite:///{folder}/tw.db")
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
    with database.writing() as session:  # as crawled at lunchtime on the 11th
        store_releases(
            session,
            "find_a_tender",
            [*cassette_releases("find_a_tender_2026-08-11"), moved],
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


def page_height(html: str) -> int:
    """Roughly the rendered height, so the picture ends just below the footer."""
    return 400 + 140 * html.count('<tr><td style="padding:14px 0;') + 60 * html.count("<h2 ")


if __name__ == "__main__":
    main()
