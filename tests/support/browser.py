"""A real headless Chromium (Debian's chromium and chromium-driver packages) driven by Selenium: the web
page's browser tests, and laying a digest out as a phone or a desktop mail client would show it (how
wide it renders, and a picture of it).

A digest's width is set with Chrome's device emulation, exactly (headless windows are never narrower
than 500 px); below 700 px as a phone (mobile: the page's viewport meta tag applies).
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's, matching its chromium: nothing is downloaded
# What works in a container as root, without a network for Chromium's own services.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
PHONE_BELOW = 700


class Unavailable(Exception):
    """No Chromium or chromedriver here (CI's .ci/run installs both)."""


def start(profile_dir: Path, width: int = 1024, height: int = 900):
    """A Chromium WebDriver with a fresh profile in `profile_dir`, its window `width` pixels wide."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    driver_path = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")
    if not chromium or not driver_path:
        raise Unavailable(
            "Chromium and chromedriver are not installed: apt-get install chromium chromium-driver "
            "(.ci/run does) to run the browser tests"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    return driver


def resize(driver, width: int, height: int = 900) -> None:
    """Make the page `width` CSS pixels wide (the window is resized so the viewport is).

    The page takes its new width a moment after the command returns: measured at once, it can still
    have the old one (and a window twice too narrow, or of negative width, was asked for)."""

    def page_width() -> int:
        return driver.execute_script("return window.innerWidth")

    driver.set_window_size(width, height)
    try:
        wait_until(lambda: page_width() == width, 2, f"a {width} px page")
    except AssertionError:  # a window frame takes some of the width: ask for that much more
        driver.set_window_size(2 * width - page_width(), height)
        wait_until(lambda: page_width() == width, 10, f"a {width} px page")


@contextmanager
def browser() -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as profile:
        driver = start(Path(profile))
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
