"""A real headless Chromium (Debian's chromium and chromium-driver packages) driven by Selenium."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
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
    """Make the page `width` CSS pixels wide (the window is resized so the viewport is)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:
        driver.set_window_size(width + (width - inner), height)
