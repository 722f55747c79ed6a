"""The location page's Camera panel in a real browser, driven by the keyboard alone: an admin
finds no approval (cameras cannot be turned on), records one, turns a kiosk's camera on with
a reason and reads the switch in the audit list, then makes the place a workplace, which turns
the camera off again with the law as its reason.

One hub (its web server on a free port, over a migrated SQLite database: site hel > area
hel-t2 > touchpoint hel-gate-1, where kiosk k1 stands) and one headless Chromium signed in as
an admin. Each state is held to WCAG 2.2 AA by axe-core at 1280 px and at 375 px, where
nothing may overflow sideways; full-page screenshots (`camera-*.png`) land in the module's
screenshot folder and in $SEED_SCREENSHOTS_DIR when it is set.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.fleet.provision import Fleet, Site
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from tests.browser import (
    axe_script,
    axe_violations,
    browser_log,
    full_page_screenshot,
    headless_chromium,
    readable,
)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
GATE = "hel-gate-1"
WAIT_S = 15
DESKTOP = (1280, 1600)
PHONE = (375, 812)
APPROVED_ON = date.today() - timedelta(days=30)
"""The panel's date field refuses a day after the browser's today."""


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    settings = HubSettings(data_dir=folder, db=url)
    with sessions.begin() as session:
        site = Site(site="hel", area="hel-t2", location=GATE, name="Gate 1")
        Fleet(session, settings).add("k1", site, auth="password", out_dir=None)
        add_user(session, username="dpo-admin", role=Role.ADMIN, password=PASSWORD)
    server = WebServer(create_app(settings, sessions), "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started(), "the web server did not start"
    yield base
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def admin(hub_url: str) -> Iterator[WebDriver]:
    """Headless Chromium, signed in as an admin through the login form, on the gate's page."""
    with headless_chromium(DESKTOP) as driver:
        driver.get(f"{hub_url}/login?next=/locations/{GATE}")
        driver.find_element(By.NAME, "username").send_keys("dpo-admin")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
        _wait(driver, lambda d: urlsplit(d.current_url).path == f"/locations/{GATE}", "the page")
        yield driver


def _wait(driver: WebDriver, condition: Any, what: str) -> Any:
    """`condition` once it holds; an element re-drawn while it was read is looked up again."""
    wait = WebDriverWait(driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(condition, f"waited {WAIT_S} s for {what}")


def _text(driver: WebDriver, css: str, words: str) -> WebElement:
    """The element once it shows `words`."""
    found: WebElement = _wait(
        driver,
        lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if words in e.text), None),
        f"{css} to say {words!r}",
    )
    return found


def _focused(driver: WebDriver) -> WebElement:
    return driver.switch_to.active_element


def _keys(driver: WebDriver, *keys: str) -> None:
    """Typed into whatever has the focus, as a keyboard does."""
    ActionChains(driver).send_keys(*keys).perform()


def _focus(driver: WebDriver, css: str) -> None:
    """Tab from the content's start (where the skip link leads) until `css` has the focus,
    a keyboard user's way there."""
    driver.execute_script("document.getElementById('main').focus()")
    target = driver.find_element(By.CSS_SELECTOR, css)
    for _ in range(200):
        _keys(driver, Keys.TAB)
        if _focused(driver) == target:
            return
    raise AssertionError(f"{css} is not reached with the Tab key")


def _tab_to(driver: WebDriver, element_id: str) -> None:
    """Tab on to the next field (a date field takes a Tab or two between its own parts)."""
    target = driver.find_element(By.ID, element_id)
    for _ in range(4):
        if _focused(driver) == target:
            return
        _keys(driver, Keys.TAB)
    assert _focused(driver) == target, f"Tab does not lead on to {element_id}"


def _clean(driver: WebDriver, screenshots: Path, name: str) -> None:
    """Screenshots at both widths; axe-core finds nothing; nothing sideways at 375 px; no
    error in the console."""
    errors = [e["message"] for e in browser_log(driver, "browser") if e["level"] == "SEVERE"]
    assert not errors, f"{name}: errors in the console:\n" + "\n".join(errors)
    name = f"camera-{name}"
    full_page_screenshot(driver, screenshots, name)
    found = {"desktop": axe_violations(driver, axe_script())}
    driver.set_window_size(*PHONE)
    try:
        _wait(driver, lambda d: d.execute_script("return window.innerWidth") == PHONE[0], "375")
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        wide = driver.execute_script(
            "return [...document.querySelectorAll('#camera *')]"
            ".filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"
        )
        full_page_screenshot(driver, screenshots, f"{name}-phone")
        found["phone"] = axe_violations(driver, axe_script())
    finally:
        driver.set_window_size(*DESKTOP)
    problems = [f"at {w}, axe-core finds:\n{readable(v)}" for w, v in found.items() if v]
    if widths[0] > widths[1] or wide:
        problems.append(f"{widths[0]} px wide on a {widths[1]} px phone: {wide}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_without_an_approval_the_panel_says_cameras_cannot_be_turned_on(
    admin: WebDriver, screenshots: Path
) -> None:
    _text(admin, "#camera-approval", "No approval: cameras cannot be turned on here.")
    _text(admin, "#camera-audience", "The public")
    refusal = _text(admin, "#camera-refusal", "no camera approval covers")
    assert refusal.is_displayed()
    kiosk = _text(admin, "#camera-kiosks li[data-device='k1']", "k1")
    assert not kiosk.find_elements(By.CSS_SELECTOR, "button[value='on']"), "no way to turn it on"
    assert admin.find_element(By.ID, "camera-approve-box").get_attribute("open") is not None
    assert not admin.find_element(By.ID, "camera-notice").is_displayed(), "refused without one"
    assert admin.find_element(By.ID, "camera-notice-none").is_displayed()
    _text(admin, "#camera-log", "No camera has been switched here.")
    _clean(admin, screenshots, "no-approval")


def test_an_admin_records_an_approval_with_the_keyboard_alone(
    admin: WebDriver, screenshots: Path
) -> None:
    _focus(admin, "#camera-approve-approved_by")
    _keys(admin, Keys.ENTER)  # an empty form: each field says what it misses
    first = admin.find_element(By.ID, "camera-approve-approved_by")
    _wait(admin, lambda d: _focused(d) == first, "the focus on the first empty field")
    assert first.get_attribute("aria-invalid") == "true"
    error = admin.find_element(By.ID, "camera-approve-approved_by-error")
    assert error.is_displayed() and error.text == "Fill this in."
    assert "camera-approve-approved_by-error" in (first.get_attribute("aria-describedby") or "")
    _clean(admin, screenshots, "approval-errors")

    typed = {
        "approved_by": "Aino Virtanen, DPO",
        "impact_assessment": "DPIA-2026-07",
        "approved_on": f"{APPROVED_ON:%m%d%Y}",  # month, day and year, as Chromium's en-US
        "deployer_name": "Finavia Oyj",
        "deployer_contact": "privacy@finavia.example",
        "legal_basis": "GDPR Art. 6(1)(f)",
    }
    _focus(admin, "#camera-approve-approved_by")
    for field, text in typed.items():
        _tab_to(admin, f"camera-approve-{field}")
        _keys(admin, text)
    date_field = admin.find_element(By.ID, "camera-approve-approved_on")
    assert date_field.get_attribute("value") == APPROVED_ON.isoformat()
    _keys(admin, Keys.ENTER)
    status = _text(admin, "#camera-status", "Approval recorded")
    _wait(admin, lambda d: _focused(d) == status, "the focus on what was done")
    facts = _text(admin, "#camera-approval-facts", "DPIA-2026-07")
    assert "Finavia Oyj" in facts.text and "privacy@finavia.example" in facts.text
    assert admin.find_element(By.ID, "camera-approve-box").get_attribute("open") is None
    _wait(admin, lambda d: not d.find_element(By.ID, "camera-refusal").is_displayed(), "allowed")
    a5 = admin.find_element(By.ID, "camera-notice-a5")
    assert a5.is_displayed()
    fetched = admin.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then((r) => done([r.status, r.headers.get('content-type')]));",
        a5.get_attribute("href"),
    )
    assert fetched == [200, "application/pdf"]


def test_an_admin_turns_the_kiosks_camera_on_and_reads_the_switch_in_the_log(
    admin: WebDriver, screenshots: Path
) -> None:
    _focus(admin, "#camera-reason-k1")
    _keys(admin, "Trial at gate 1", Keys.TAB)
    on = admin.find_element(By.CSS_SELECTOR, "li[data-device='k1'] button[value='on']")
    assert _focused(admin) == on
    _keys(admin, Keys.ENTER)
    _text(admin, "#camera-status", "Camera of k1 turned on")
    _text(admin, "li[data-device='k1']", "Camera asked: on")
    row = _text(admin, "#camera-log tbody tr[data-entry]", "Trial at gate 1")
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:4] == ["k1", "on", "dpo-admin"], cells
    _clean(admin, screenshots, "camera-on")


def test_making_the_place_a_workplace_turns_the_camera_off_with_the_law_as_reason(
    admin: WebDriver, screenshots: Path
) -> None:
    _focus(admin, "#camera-audience-select")
    _keys(admin, Keys.DOWN)  # public -> employees
    _focus(admin, "#camera-audience-form button[type='submit']")
    _keys(admin, Keys.ENTER)
    _text(admin, "#camera-status", "Cameras turned off: k1")
    _text(admin, "#camera-audience", "Employees")
    row = _text(admin, "#camera-log tbody tr[data-entry]", "Art. 5(1)(f)")
    assert [c.text for c in row.find_elements(By.TAG_NAME, "td")][1:4] == ["k1", "off", "dpo-admin"]
    _text(admin, "#camera-refusal", "the audience at hel-gate-1 is employees")
    kiosk = admin.find_element(By.CSS_SELECTOR, "li[data-device='k1']")
    assert "Camera asked: off" in kiosk.text
    assert not kiosk.find_elements(By.CSS_SELECTOR, "button[value='on']")
    assert not admin.find_element(By.ID, "camera-notice").is_displayed()
    _clean(admin, screenshots, "workplace")


def test_withdrawing_the_approval_asks_first_and_keep_it_changes_nothing(
    admin: WebDriver, screenshots: Path
) -> None:
    withdraw = admin.find_element(By.CSS_SELECTOR, "#camera-approval-facts ~ .actions button")
    _focus(admin, "#camera-approval-facts ~ .actions button")
    _keys(admin, Keys.ENTER)
    question = _text(admin, "#camera-withdraw-question", "Withdraw this approval?")
    _wait(admin, lambda d: _focused(d) == question, "the focus on the question")
    _clean(admin, screenshots, "withdraw-question")
    _focus(admin, "#camera-withdraw-confirm button.secondary")
    _keys(admin, Keys.ENTER)  # Keep it
    _wait(admin, lambda d: _focused(d) == withdraw, "the focus back on Withdraw")
    assert not admin.find_elements(By.ID, "camera-withdraw-question")
    _focus(admin, "#camera-approval-facts ~ .actions button")
    _keys(admin, Keys.ENTER)
    _focus(admin, "#camera-withdraw-confirm button.danger")
    _keys(admin, Keys.ENTER)  # Yes, withdraw it
    _text(admin, "#camera-status", "Approval withdrawn")
    _text(admin, "#camera-approval", "No approval: cameras cannot be turned on here.")
    _text(admin, "#camera-log tbody", "approval withdrawn")
