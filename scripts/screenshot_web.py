"""Photograph the web page in headless Chromium at laptop and phone widths, for the README:
docs/web-inbox-1024.png, docs/web-inbox-375.png, and the same for a notice and the rules page.

    python scripts/screenshot_web.py [--output docs]

The store holds the recorded Find a Tender days and Contracts Finder page from tests/fixtures,
scored with the example profile, with the labelled set's decisions on them; the rules page is shown
after "Try it" on a change that gates out police and crime commissioners. Needs Debian's chromium
and chromium-driver.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402

from tests.support import browser as chromium  # noqa: E402
from tests.support.web import VRP, WebServer  # noqa: E402

WIDTHS = (1024, 375)
MAX_HEIGHT = 2400


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = serve(Path(folder))
        driver = chromium.start(Path(folder) / "chromium")
        try:
            for width in WIDTHS:
                chromium.resize(driver, width)
                driver.get(server.url("/?band=strong&band=possible"))
                shoot(driver, args.output / f"web-inbox-{width}.png", width, 1500)
                driver.get(server.url(f"/notices/{VRP}"))
                shoot(driver, args.output / f"web-notice-{width}.png", width, 2400)
                driver.get(server.url("/rules"))
                changed = (
                    (ROOT / "scoring" / "profiles" / "example.yaml")
                    .read_text()
                    .replace(
                        "  exclude_buyers:\n", "  exclude_buyers:\n    - police and crime commissioner\n", 1
                    )
                )
                area = driver.find_element(By.ID, "rules")
                driver.execute_script("arguments[0].value = arguments[1];", area, changed)
                driver.find_element(By.CSS_SELECTOR, "button[value=try]").click()
                driver.find_element(By.ID, "tried")
                driver.execute_script("document.getElementById('tried').scrollIntoView()")
                shoot(driver, args.output / f"web-rules-{width}.png", width, 1300, from_element="tried")
        finally:
            driver.quit()
            server.close()


def serve(folder: Path) -> WebServer:
    from scoring.feedback import read_feedback
    from store.db import open_database
    from store.ingest import store_releases
    from store.scores import import_feedback
    from tenderwatch import config as configuration
    from tests.support.recorded import cassette_releases, fts_releases

    config = configuration.load(
        environ={"TENDERWATCH_DATA_DIR": str(folder), "TENDERWATCH_DB_URL": f"sqlite:///{folder}/tw.db"}
    )
    database = open_database(config.db_url)
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
        store_releases(session, "contracts_finder", cassette_releases("contracts_finder_2025-01-20"))
        # The labelled set's decisions on these notices, so that "Try it" shows its agreement with them.
        decisions = read_feedback(ROOT / "tests" / "fixtures" / "labels" / "dev_fixtures-feedback.csv")
        import_feedback(session, decisions.judgements)
    return WebServer(config, database)


def shoot(driver, path: Path, width: int, height: int, from_element: str | None = None) -> None:
    """The page (from the top, or from an element) down to `height` pixels at most, as a PNG."""
    full = driver.execute_script("return document.documentElement.scrollHeight")
    top = (
        driver.execute_script(f"return document.getElementById('{from_element}').offsetTop - 16")
        if from_element
        else 0
    )
    chromium.resize(driver, width, min(height, max(400, full - top)))
    if from_element:
        driver.execute_script(f"window.scrollTo(0, {top})")
    driver.save_screenshot(str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
