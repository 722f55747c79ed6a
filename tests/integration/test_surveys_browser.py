"""The surveys page in a real browser: an admin creates, assigns, edits and retires a survey and
sets a place's languages; a manager of another site sees none of that place and is refused.

One hub (its web server on a free port, over a migrated SQLite database with two sites: hel,
with an area and a security touchpoint, and osl, with a gate) and one headless Chromium, signed
in through the login form, first as the admin, then as the manager of osl. Each state of the
page is held to WCAG 2.2 AA by axe-core at 1280 px and at 375 px, where nothing may overflow
sideways; full-page screenshots (`surveys-*.png`) land in the module's screenshot folder and in
$SEED_SCREENSHOTS_DIR when it is set.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.fleet.provision import Fleet, Site
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from tests.browser import (
    axe_script,
    axe_violations,
    full_page_screenshot,
    headless_chromium,
    readable,
)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
SECURITY = "hel-t2-security"
GATE = "osl-gate-a"
WAIT_S = 15
DESKTOP = (1280, 1600)
PHONE = (375, 812)
SURVEY_FILE = Path(__file__).parents[2] / "firmware_config" / "surveys" / "security.toml"


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The hub's web server on a free port: two sites, a kiosk at each, an admin and the
    manager of osl."""
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    settings = HubSettings(data_dir=folder, db=url)
    with sessions.begin() as session:
        fleet = Fleet(session, settings)
        helsinki = Site(site="hel", area="hel-t2", location=SECURITY, time_zone="Europe/Helsinki")
        oslo = Site(site="osl", location=GATE, time_zone="Europe/Oslo", name="Gate A")
        fleet.add("k1", helsinki, auth="password", out_dir=None)
        fleet.add("k2", oslo, auth="password", out_dir=None)
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
        add_user(session, username="oslo", role=Role.MANAGER, password=PASSWORD, sites=("osl",))
    server = WebServer(create_app(settings, sessions), "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started(), "the web server did not start"
    yield base
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with headless_chromium(DESKTOP) as driver:
        yield driver


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _wait(driver: WebDriver, condition: Any, what: str) -> Any:
    return WebDriverWait(driver, WAIT_S).until(condition, f"waited {WAIT_S} s for {what}")


def _sign_in(driver: WebDriver, hub_url: str, username: str) -> None:
    if driver.find_elements(By.CSS_SELECTOR, "form.signout"):
        driver.find_element(By.CSS_SELECTOR, "form.signout button").submit()
        _wait(driver, lambda d: urlsplit(d.current_url).path == "/login", "the login page")
    driver.get(f"{hub_url}/login?next=/surveys")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    _wait(driver, lambda d: urlsplit(d.current_url).path == "/surveys", "the surveys page")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#assign-location option"), "places")


def _row(driver: WebDriver, survey_id: str) -> WebElement:
    found: WebElement = _wait(
        driver,
        lambda d: (
            (r := d.find_elements(By.CSS_SELECTOR, f'tr[data-survey="{survey_id}"]')) and r[0]
        ),
        f"the row of {survey_id}",
    )
    return found


def _status(driver: WebDriver, contains: str) -> str:
    """The result line, once it says `contains`; the focus is moved to it."""
    box = driver.find_element(By.ID, "surveys-status")
    _wait(driver, lambda _d: box.is_displayed() and contains in box.text, f"status {contains!r}")
    assert driver.switch_to.active_element == box, "the focus moves to the result"
    return str(box.text)


def _field_error(driver: WebDriver, error_id: str, field_id: str, contains: str) -> str:
    """An error next to its field, tied to it, the focus on the field."""
    box = driver.find_element(By.ID, error_id)
    _wait(
        driver, lambda _d: box.is_displayed() and contains in box.text, f"{error_id} {contains!r}"
    )
    field = driver.find_element(By.ID, field_id)
    assert error_id in (field.get_attribute("aria-describedby") or "").split()
    assert field.get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element == field, "the focus moves to the field at fault"
    return str(box.text)


def _clean(driver: WebDriver, screenshots: Path, name: str) -> None:
    """Screenshots at both widths; axe-core finds nothing; nothing sideways at 375 px; no
    error in the console."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    # A refusal the page shows is logged by Chromium as a failed fetch: not a fault.
    errors = [e for e in errors if not any(f" {code} " in e for code in ("403", "404", "422"))]
    assert not errors, f"{name}: errors in the console:\n" + "\n".join(errors)
    name = f"surveys-{name}"
    full_page_screenshot(driver, screenshots, name)
    found = {"desktop": axe_violations(driver, axe_script())}
    driver.set_window_size(*PHONE)
    try:
        _wait(driver, lambda d: d.execute_script("return window.innerWidth") == PHONE[0], "375")
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        wide = driver.execute_script(
            "return [...document.querySelectorAll('body *')]"
            ".filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"
        )
        full_page_screenshot(driver, screenshots, f"{name}-phone")
        found["phone"] = axe_violations(driver, axe_script())
    finally:
        driver.set_window_size(*DESKTOP)
    problems = [f"at {w}, axe-core finds:\n{readable(v)}" for w, v in found.items() if v]
    if widths[0] > widths[1]:
        problems.append(f"{widths[0]} px wide on a {widths[1]} px phone: {wide}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _paste(driver: WebDriver, text: str) -> None:
    area = driver.find_element(By.ID, "survey-toml")
    driver.execute_script("arguments[0].value = arguments[1]", area, text)
    driver.find_element(By.CSS_SELECTOR, "#survey-form button[type=submit]").click()


def test_an_admin_creates_assigns_edits_and_retires_a_survey_and_a_manager_is_refused(
    browser: WebDriver, hub_url: str, screenshots: Path
) -> None:
    _sign_in(browser, hub_url, "admin")
    assert browser.find_element(By.CSS_SELECTOR, '#site-nav a[aria-current="page"]').text == (
        "Surveys"
    )
    assert "No survey yet" in browser.find_element(By.ID, "surveys-list").text
    _clean(browser, screenshots, "empty")

    _create(browser, screenshots)
    again = _assign_and_edit(browser, screenshots)
    _languages(browser, screenshots)
    _retire(browser, screenshots)
    _manager_is_refused(browser, hub_url, screenshots, again)


def _create(browser: WebDriver, screenshots: Path) -> None:
    # A file with a text missing: refused, what to fix shown next to the field.
    text = SURVEY_FILE.read_text()
    _paste(browser, text.replace('fa = "کارکنان"\n', "", 1))
    error = _field_error(browser, "toml-error", "survey-toml", "negative.options[staff]")
    assert "no text in fa" in error
    _clean(browser, screenshots, "create-refused")

    # Pasted whole: version 1, listed, asked nowhere yet.
    _paste(browser, text)
    assert "version 1" in _status(browser, "Saved security")
    assert not browser.find_element(By.ID, "toml-error").is_displayed()
    row = _row(browser, "security")
    assert row.find_element(By.CSS_SELECTOR, "td.version").text == "1"
    assert "nowhere yet" in row.find_element(By.CSS_SELECTOR, "td.where").text
    assert "in use" in row.find_element(By.CSS_SELECTOR, "td.state").text

    # Its detail: every text in each language, Persian right to left in its own elements.
    row.find_element(By.CSS_SELECTOR, "button.show").click()
    detail = browser.find_element(By.ID, "survey-detail")
    _wait(browser, lambda d: d.switch_to.active_element == detail, "the detail, focused once drawn")
    kiosks = detail.find_elements(By.CSS_SELECTOR, ".kiosk")
    assert [k.get_attribute("data-language") for k in kiosks] == ["en", "nl", "zh-Hans", "fa"]
    persian = detail.find_element(By.CSS_SELECTOR, '.kiosk[data-language="fa"] .question')
    assert persian.text == "بازرسی امنیتی چطور بود؟"
    assert (persian.get_attribute("dir"), persian.get_attribute("lang")) == ("rtl", "fa")
    assert browser.execute_script("return getComputedStyle(arguments[0]).direction", persian) == (
        "rtl"
    )
    options = detail.find_elements(By.CSS_SELECTOR, '.kiosk[data-language="fa"] .options li')
    assert [o.get_attribute("data-option") for o in options] == [
        *("queue", "staff", "rules", "other"),
        *("fast", "staff", "other"),
    ]
    assert "Asked nowhere yet." in detail.text
    _clean(browser, screenshots, "detail")


def _assign_and_edit(browser: WebDriver, screenshots: Path) -> str:
    # Assigned to the touchpoint: "where asked" says so.
    Select(browser.find_element(By.ID, "assign-survey")).select_by_value("security")
    Select(browser.find_element(By.ID, "assign-location")).select_by_value(SECURITY)
    browser.find_element(By.CSS_SELECTOR, "#assign-form button[type=submit]").click()
    assert "1 kiosk given a new config" in _status(browser, "security is now asked at")
    where = _row(browser, "security").find_element(By.CSS_SELECTOR, "td.where").text
    assert SECURITY in where
    assert f"Asked at {SECURITY} (touchpoint)." in browser.find_element(By.ID, "detail-body").text

    # Edited from the detail: the file comes back in the field; a change makes version 2.
    browser.find_element(By.CSS_SELECTOR, "#detail-actions button.edit").click()
    area = browser.find_element(By.ID, "survey-toml")
    assert browser.switch_to.active_element == area
    again = area.get_attribute("value")
    assert 'fa = "صف طولانی"' in again and 'name = "Security check"' in again
    _paste(browser, again.replace("Queue too long", "Waited too long"))
    assert "version 2" in _status(browser, "Saved security")
    assert _row(browser, "security").find_element(By.CSS_SELECTOR, "td.version").text == "2"
    _wait(
        browser,
        lambda d: "version 2" in d.find_element(By.ID, "detail-heading").text,
        "the detail to show version 2",
    )
    assert "Waited too long" in browser.find_element(By.CSS_SELECTOR, '[data-language="en"]').text
    versions = browser.find_elements(By.CSS_SELECTOR, ".versions button")
    assert [v.get_attribute("data-version") for v in versions] == ["2", "1"]
    versions[1].click()
    _wait(browser, lambda d: "older version" in d.find_element(By.ID, "detail-heading").text, "v1")
    assert "Queue too long" in browser.find_element(By.CSS_SELECTOR, '[data-language="en"]').text
    _clean(browser, screenshots, "edited")

    return str(again)


def _languages(browser: WebDriver, screenshots: Path) -> None:
    # Languages: one the survey lacks is refused, naming it; Persian first is taken.
    Select(browser.find_element(By.ID, "languages-location")).select_by_value(SECURITY)
    tags = browser.find_element(By.ID, "languages-tags")
    _wait(browser, lambda _d: tags.get_attribute("value") == "en", "the place's languages")
    assert "asks the survey security" in browser.find_element(By.ID, "languages-now").text
    tags.clear()
    tags.send_keys("fa, de")
    browser.find_element(By.CSS_SELECTOR, "#languages-form button[type=submit]").click()
    assert "de" in _field_error(browser, "languages-error", "languages-tags", "security")
    _clean(browser, screenshots, "languages-refused")
    tags.clear()
    tags.send_keys("fa, en")
    browser.find_element(By.CSS_SELECTOR, "#languages-form button[type=submit]").click()
    assert "Persian (fa), English (en)" in _status(browser, "now asks in")
    assert "Persian" in browser.find_element(By.ID, "languages-now").text


def _retire(browser: WebDriver, screenshots: Path) -> None:
    # Retired, after a confirmation: kept in the list as retired, no longer offered to assign.
    browser.find_element(By.CSS_SELECTOR, "#detail-actions button.retire").click()
    question = browser.find_element(By.ID, "retire-question")
    assert browser.switch_to.active_element == question
    _clean(browser, screenshots, "retire-confirm")
    browser.find_element(By.CSS_SELECTOR, "button.confirm-retire").click()
    _status(browser, "Retired security")
    row = _row(browser, "security")
    assert "retired" in row.find_element(By.CSS_SELECTOR, "td.state").text
    assert "no longer asked" in row.find_element(By.CSS_SELECTOR, "td.where").text
    assert "version 2" in browser.find_element(By.ID, "detail-heading").text
    assert not browser.find_elements(By.CSS_SELECTOR, '#assign-survey option[value="security"]')
    _clean(browser, screenshots, "retired")


def _manager_is_refused(browser: WebDriver, hub_url: str, screenshots: Path, again: str) -> None:
    # The manager of osl: hel is none of his places; he may not change or retire the survey.
    _sign_in(browser, hub_url, "oslo")
    places = [
        o.get_attribute("value")
        for o in browser.find_elements(By.CSS_SELECTOR, "#assign-location option")
    ]
    assert places == ["osl", GATE]
    row = _row(browser, "security")
    where = row.find_element(By.CSS_SELECTOR, "td.where").text
    assert SECURITY not in where and "hel" not in where
    assert "was asked beyond your sites" in where
    _paste(browser, again.replace("Queue too long", "Slow"))
    refused = _field_error(browser, "toml-error", "survey-toml", "Not allowed")
    assert "beyond your sites" in refused
    _clean(browser, screenshots, "manager-refused")
    status = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/api/surveys/security/retire', {method: 'POST',"
        " headers: {'X-CSRF-Token': Seed.csrf()}}).then((r) => done(r.status));"
    )
    assert status == 403, "the API refuses a manager a survey asked beyond his sites"
    gone = browser.execute_async_script(
        "const done = arguments[0];"
        f"fetch('/api/locations/{SECURITY}/languages').then((r) => done(r.status));"
    )
    assert gone == 404


def test_every_field_of_the_page_has_a_label(browser: WebDriver, hub_url: str) -> None:
    browser.get(f"{hub_url}/surveys")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#assign-location option"), "places")
    for field in browser.find_elements(By.CSS_SELECTOR, "main textarea, main input, main select"):
        field_id = field.get_attribute("id")
        assert browser.find_elements(By.CSS_SELECTOR, f'label[for="{field_id}"]'), field_id
