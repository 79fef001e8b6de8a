"""The web page in a real Chromium: sign in, triage a notice, record a decision, make a mistake in
the rules and see it beside its line, try a change and see what it adds and drops, publish it and
return to the rules file. One browser and one served store (SQLite) for the module, so the steps
run in order, as a bid lead would take them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from store import crawls
from store.db import open_database
from store.decisions import record_decision
from store.ingest import save_notices, store_releases
from store.models import utcnow
from store.notice import Lot
from store.users import add_user
from tenderwatch import config as configuration
from tenderwatch.config import EXAMPLE_PROFILE
from tests.support import browser as chromium
from tests.support.recorded import cassette_releases, fts_releases
from tests.support.web import PASSWORD, VRP, WebServer, hostile_notice

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    folder = tmp_path_factory.mktemp("web")
    config = configuration.load(
        environ={"TENDERWATCH_DATA_DIR": str(folder), "TENDERWATCH_DB_URL": f"sqlite:///{folder}/tw.db"},
    )
    database = open_database(config.db_url)
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
        store_releases(session, "contracts_finder", cassette_releases("contracts_finder_2025-01-20"))
        add_user(session, "alice", PASSWORD)
        # A failed crawl: its one-line reason names a long URL, which must wrap on a phone.
        run = crawls.start_run(session, "find_a_tender", utcnow(), utcnow())
        long_url = "http://127.0.0.1:9/find_a_tender/" + "ocdsReleasePackages/" * 8  # no hyphen to break at
        crawls.finish_run(session, run, crawls.FAILED, f"cannot reach {long_url}")
    with WebServer(config, database) as server:
        yield server
    database.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        driver = chromium.start(tmp_path_factory.mktemp("chromium"))
    except chromium.Unavailable as exc:
        pytest.skip(str(exc))
    yield driver
    driver.quit()


def wait_for(driver: Any, css: str, timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def click(driver: Any, css: str) -> None:
    driver.find_element(By.CSS_SELECTOR, css).click()


def set_rules(driver: Any, text: str) -> None:
    """Replace the rules in the editor (typing 20 KB key by key would take minutes)."""
    area = driver.find_element(By.ID, "rules")
    driver.execute_script("arguments[0].value = arguments[1];", area, text)


def test_sign_in_and_see_the_inbox(browser, served):
    browser.get(served.url("/"))
    wait_for(browser, "#password")  # sent to sign in first
    browser.find_element(By.ID, "name").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    click(browser, "form button[type=submit]")
    wait_for(browser, "ol.items")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Inbox"
    assert "Violence Reduction Partnership" in browser.find_element(By.CSS_SELECTOR, "ol.items").text


def test_filter_the_inbox_and_the_filters_survive_a_reload(browser, served):
    browser.get(served.url("/"))
    browser.find_element(By.NAME, "q").send_keys("violence reduction")
    click(browser, ".filters button[type=submit]")
    wait_for(browser, "ol.items")
    assert "q=violence+reduction" in browser.current_url
    browser.refresh()
    assert browser.find_element(By.NAME, "q").get_attribute("value") == "violence reduction"
    assert "Violence Reduction Partnership" in browser.find_element(By.CSS_SELECTOR, "ol.items").text


def test_triage_a_notice_and_record_a_decision(browser, served):
    browser.get(served.url("/?q=violence+reduction"))
    browser.find_element(By.PARTIAL_LINK_TEXT, "Violence Reduction Partnership").click()
    wait_for(browser, "#decide")
    assert VRP in browser.find_element(By.CSS_SELECTOR, ".crumb").text
    click(browser, "button[value=relevant]")
    banner = wait_for(browser, ".notice-banner")
    assert banner.text == "Recorded: relevant."
    assert "Recorded: relevant" in browser.find_element(By.ID, "decide").find_element(By.XPATH, "..").text
    click(browser, "input[name=decision][value=no-bid]")
    click(browser, "form[action$='/decision'] button[type=submit]")
    assert "needs a reason" in wait_for(browser, ".error-message").text
    click(browser, "input[name=decision][value=no-bid]")
    browser.find_element(By.ID, "reason").send_keys("framework call-off only")
    click(browser, "form[action$='/decision'] button[type=submit]")
    assert wait_for(browser, ".notice-banner").text == "Decision recorded."
    line = browser.find_element(By.CSS_SELECTOR, ".decision-line").text
    assert "no-bid: framework call-off only" in line and "by alice" in line
    browser.get(served.url("/decisions"))
    assert "framework call-off only" in browser.find_element(By.CSS_SELECTOR, "table.list").text


def test_each_rules_mistake_is_shown_beside_its_line(browser, served):
    browser.get(served.url("/rules"))
    text = EXAMPLE_PROFILE.read_text()
    lines = text.split("\n")
    at = next(number for number, line in enumerate(lines, 1) if line.startswith("min_response_days:"))
    lines[at - 1] = "min_response_days: soon"
    also = next(number for number, line in enumerate(lines, 1) if line.strip() == "TOM: 10")
    lines[also - 1] = lines[also - 1].replace("10", "ten")  # and one in the first service line
    set_rules(browser, "\n".join(lines))
    click(browser, "button[value=check]")
    error = wait_for(browser, f".rules-error[data-line='{at}']")
    assert "min_response_days" in error.text
    row = error.find_element(By.XPATH, "..")
    assert "min_response_days: soon" in row.text  # beside the very line
    other = browser.find_element(By.CSS_SELECTOR, f".rules-error[data-line='{also}']")
    assert "service_lines[1].keywords.TOM" in other.text
    assert "TOM: ten" in other.find_element(By.XPATH, "..").text
    assert f"Line {at}" in browser.find_element(By.ID, "rules-problem").text
    assert f"Line {also}" in browser.find_element(By.ID, "rules-problem").text
    assert "Nothing was published" in browser.find_element(By.ID, "rules-problem").text


def test_try_a_change_then_publish_it_and_return(browser, served):
    changed = EXAMPLE_PROFILE.read_text().replace(
        "  exclude_buyers:\n", "  exclude_buyers:\n    - police and crime commissioner\n", 1
    )
    browser.get(served.url("/rules"))
    set_rules(browser, changed)
    click(browser, "button[value=try]")
    wait_for(browser, "#tried")
    dropped = browser.find_element(By.CSS_SELECTOR, "ul.dropped").text
    assert "Violence Reduction Partnership" in dropped
    assert "Would add (0)" in browser.find_element(By.ID, "added").text
    # The draft stays in the editor: publish it.
    browser.find_element(By.ID, "note").send_keys("no police work")
    click(browser, "button[value=publish]")
    assert "Published version 1" in wait_for(browser, ".notice-banner").text
    versions = browser.find_element(By.CSS_SELECTOR, "ol.versions").text
    assert "Version 1" in versions and "LIVE" in versions and "by alice" in versions
    browser.get(served.url("/?band=strong&q=violence+reduction"))
    assert "No match meets these filters" in browser.find_element(By.TAG_NAME, "main").text
    browser.get(served.url("/rules"))
    click(browser, "form[action$='/versions/0/restore'] button")
    assert "Published version 2" in wait_for(browser, ".notice-banner").text
    browser.get(served.url("/?band=strong&q=violence+reduction"))
    assert "Violence Reduction Partnership" in browser.find_element(By.CSS_SELECTOR, "ol.items").text


@pytest.mark.parametrize("path", ["/", f"/notices/{VRP}", "/decisions", "/rules", "/status"])
def test_each_page_fits_a_phone_without_scrolling_sideways(browser, served, path):
    chromium.resize(browser, 390)
    try:
        browser.get(served.url(path))
        wait_for(browser, "h1")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        chromium.resize(browser, 1024)


def test_a_long_link_in_a_lot_or_a_decision_reason_wraps(browser, served):
    """A bid manager pastes a link into a no-bid reason; a lot names its documents by URL: on a
    phone each wraps, and the page does not scroll sideways; nor does the decisions table on a laptop."""
    database = served.app.extensions["tenderwatch"]["database"]
    link = "https://example.org/" + "documents/" * 20  # no space or hyphen to break at
    lot = Lot(id="1", title="Lot " + "Evaluationandresearch" * 6, description=f"See {link}")
    with database.writing() as session:
        save_notices(session, [hostile_notice(source_id="099998-2026", lots=(lot,))], now=utcnow())
        record_decision(session, "find_a_tender:099998-2026", "no-bid", f"see {link}", "alice")
    chromium.resize(browser, 375)
    try:
        browser.get(served.url("/notices/find_a_tender:099998-2026"))
        wait_for(browser, ".decision-line")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 375
    finally:
        chromium.resize(browser, 1024)
    # On a laptop the decisions table fits its page: the link wraps in its cell, and who decided
    # when is not pushed a screen's width to the right.
    browser.get(served.url("/decisions"))
    table = wait_for(browser, "table.list")
    frame = table.find_element(By.XPATH, "..")
    assert table.size["width"] <= frame.size["width"]


def test_on_a_phone_checkboxes_sit_by_their_words_and_the_keyboard_can_skip_to_the_page(browser, served):
    chromium.resize(browser, 375)
    try:
        browser.get(served.url("/"))
        box = browser.find_element(By.CSS_SELECTOR, ".filters label.check input[type=checkbox]")
        assert box.size["width"] < 40  # not stretched across half the form, away from "Open only"
        skip = browser.find_element(By.CSS_SELECTOR, "a.skip")
        assert skip.location["x"] < 0  # out of sight until the keyboard reaches it
        browser.find_element(By.TAG_NAME, "body").send_keys("\t")
        focused = browser.switch_to.active_element
        assert focused.text == "Skip to the page" and focused.location["x"] >= 0
        assert focused.value_of_css_property("background-color") == "rgba(255, 221, 0, 1)"
        # The decisions table keeps whole words ("Decision", not "De/cis/ion"), scrolling sideways.
        browser.get(served.url("/decisions"))
        heading = browser.find_element(By.XPATH, "//table[@class='list']//th[text()='Decision']")
        assert heading.size["height"] < 40
    finally:
        chromium.resize(browser, 1024)
