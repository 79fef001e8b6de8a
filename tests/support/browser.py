"""Laying a page out in Debian's headless Chromium (through its chromedriver and Selenium), as a phone
or a desktop mail client would show it: how wide it renders, and a picture of it.

Each width is set with Chrome's device emulation, exactly (headless windows are never narrower
than 500 px); below 700 px as a phone (mobile: the page's viewport meta tag applies).
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")  # Debian's, matching its chromium: nothing is downloaded
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
PHONE_BELOW = 700


@contextmanager
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def rendered_widths(html: str, widths: tuple[int, ...]) -> dict[int, int]:
    """For each viewport width, how wide the page lays out (its scrollWidth). Wider than the
    viewport means a reader must scroll sideways, and part of every line is cut off."""
    with tempfile.TemporaryDirectory() as folder, browser() as driver:
        page = Path(folder) / "page.html"
        page.write_text(html, encoding="utf-8")
        measured = {}
        for width in widths:
            _emulate(driver, width, 900)
            driver.get(page.as_uri())
            measured[width] = driver.execute_script("return document.documentElement.scrollWidth")
        return measured


def screenshot(html: str, width: int, output: Path, *, above: str | None = None) -> None:
    """The page at `width` px, top to bottom, or down to the first element matching the CSS
    selector `above`."""
    with tempfile.TemporaryDirectory() as folder, browser() as driver:
        page = Path(folder) / "page.html"
        page.write_text(html, encoding="utf-8")
        _emulate(driver, width, 900)
        driver.get(page.as_uri())
        height = driver.execute_script("return document.documentElement.scrollHeight")
        if above:
            height = driver.execute_script(
                "return Math.ceil(document.querySelector(arguments[0]).getBoundingClientRect().top)", above
            )
        _emulate(driver, width, height)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        output.write_bytes(base64.b64decode(shot["data"]))


def _emulate(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < PHONE_BELOW},
    )
