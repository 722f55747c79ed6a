"""A task's page behind the signed link, in real Chromium at 375 x 667: a cleaner taps "On my
way", then resolves with a note, by touch and by keyboard alone; the confirmation takes the
focus; a note too long is shown next to its field; Persian reads right to left; an expired
link says kindly that it no longer works.

One hub (its web server on a free port over a migrated SQLite database with a washroom and
its cleaning team) serves the module; each test opens a task of its own. Every screen is held
to WCAG 2.2 AA by axe-core and must not overflow sideways; full-page screenshots
(`staff-*.png`) land in the module's screenshot folder and in $SEED_SCREENSHOTS_DIR when set.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.ingest.store import add_location
from hub.signing import session_secret
from hub.tasks.links import StaffLinks
from hub.tasks.records import HistoryEntry, TaskView, history, open_by_hand, task_view
from hub.tasks.teams import Role, Route, add_member, add_team
from hub.web.app import create_app
from hub.web.server import WebServer
from tests.browser import (
    PHONE,
    axe_violations,
    browser_log,
    full_page_screenshot,
    phone_chromium,
    readable,
)

pytestmark = pytest.mark.browser

WAIT_S = 15
PLACE = "wc-t2"
NOTE = "Refilled the soap and mopped the floor"


@dataclass(frozen=True)
class Served:
    """The hub's web server, its database, its settings and its cleaner."""

    url: str
    sessions: sessionmaker[Session]
    settings: HubSettings
    member_id: int

    def task(self, title: str) -> int:
        with self.sessions.begin() as session:
            return open_by_hand(
                session,
                team_id="clean-t2",
                location_id=PLACE,
                title=title,
                by="duty manager",
                now=datetime.now(UTC) - timedelta(minutes=7),
            )

    def link(self, task_id: int, *, signed_at: datetime | None = None) -> str:
        """The link in the cleaner's notification, signed now or at `signed_at`."""
        at = signed_at or datetime.now(UTC)
        links = StaffLinks(
            session_secret(self.settings),
            max_age_s=self.settings.tasks.link_hours * 3600,
            clock=lambda: at,
        )
        return self.url + links.path(task_id=task_id, member_id=self.member_id)

    def view(self, task_id: int) -> TaskView:
        with self.sessions() as session:
            return task_view(session, task_id=task_id)

    def history(self, task_id: int) -> list[HistoryEntry]:
        with self.sessions() as session:
            return history(session, task_id=task_id)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    settings = HubSettings(data_dir=folder, db=url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        add_location(session, location_id=PLACE, name="Washroom T2", time_zone="Europe/Helsinki")
        add_team(session, team_id="clean-t2", name="Cleaning T2", location_id=PLACE, now=now)
        member = add_member(
            session,
            team_id="clean-t2",
            name="Anna",
            route=Route.EMAIL,
            target="anna@example.org",
            role=Role.MEMBER,
        )
    server = WebServer(create_app(settings, sessions), "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started(), "the web server did not start"
    yield Served(base, sessions, settings, member.id)
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    with phone_chromium(PHONE) as driver:
        yield driver


@pytest.fixture
def browser(chromium: WebDriver) -> WebDriver:
    chromium.delete_all_cookies()
    chromium.get("about:blank")
    browser_log(chromium, "browser")
    browser_log(chromium, "performance")
    return chromium


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _wait(driver: WebDriver, condition: Any, what: str) -> Any:
    return WebDriverWait(driver, WAIT_S).until(condition, f"waited {WAIT_S} s for {what}")


def _done(driver: WebDriver, done: str) -> None:
    """Wait for the task's page, back from a button, saying `done`."""

    def arrived(d: WebDriver) -> bool:
        loaded = d.execute_script("return document.readyState") == "complete"
        return loaded and parse_qs(urlsplit(d.current_url).query).get("done") == [done]

    _wait(driver, arrived, f"the page after {done}")


def _shot(driver: WebDriver, screenshots: Path, name: str, *, refused: bool = False) -> None:
    """A full-page screenshot; axe-core finds nothing; nothing overflows sideways; no error
    in the console (but the refusal's own status)."""
    errors = [e["message"] for e in browser_log(driver, "browser") if e["level"] == "SEVERE"]
    expected = (" 403 ", " 422 ") if refused else (" 422 ",)
    errors = [e for e in errors if not any(code in e for code in expected)]
    assert not errors, f"{name}: errors in the console:\n" + "\n".join(errors)
    full_page_screenshot(driver, screenshots, f"staff-{name}")
    print(f"screenshot: {screenshots / f'staff-{name}.png'}")
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    violations = axe_violations(driver)
    problems = []
    if violations:
        problems.append(f"axe-core finds WCAG 2.2 AA violations:\n{readable(violations)}")
    if widths[0] > widths[1]:
        problems.append(f"{widths[0]} px wide on a {widths[1]} px phone")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _button(driver: WebDriver, text: str) -> WebElement:
    return driver.find_element(By.XPATH, f'//button[normalize-space()="{text}"]')


def _buttons(driver: WebDriver) -> list[str]:
    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, ".actions button")]


def _focused(driver: WebDriver) -> str:
    """The focused element, as `tag#id.class`."""
    script = (
        "const e = document.activeElement;"
        "return e.tagName.toLowerCase() + '#' + e.id + '.' + (e.className || '')"
    )
    found: str = driver.execute_script(script)
    return found


def _in_thumbs_reach(driver: WebDriver, element: WebElement) -> None:
    """A big target, on the first screen."""
    rect = element.rect
    assert rect["height"] >= 48 and rect["width"] >= 300, rect
    assert rect["y"] + rect["height"] <= PHONE[1], f"below the first screen: {rect}"


def test_on_my_way_then_resolved_with_a_note_by_touch(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    task_id = hub.task("Washroom T2: the soap is empty")
    browser.get(hub.link(task_id))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Washroom T2: the soap is empty"
    assert "7 minutes ago" in browser.find_element(By.CSS_SELECTOR, ".facts").text
    assert _buttons(browser) == ["On my way", "Resolved", "Add a note"]
    _in_thumbs_reach(browser, _button(browser, "On my way"))
    _shot(browser, screenshots, "open")

    _button(browser, "On my way").click()
    _done(browser, "acknowledged")
    status = browser.find_element(By.CSS_SELECTOR, '[role="status"]')
    assert status.text == "Thank you. The team sees that you are on your way."
    assert _focused(browser) == "p#done.confirm"  # a screen reader reads it out
    assert _buttons(browser) == ["Resolved", "Add a note"]
    assert browser.find_element(By.CSS_SELECTOR, ".state").text == "On the way"
    _shot(browser, screenshots, "on-the-way")

    browser.find_element(By.ID, "note").send_keys(NOTE)
    _button(browser, "Resolved").click()
    _done(browser, "resolved")
    assert _focused(browser) == "p#done.confirm"
    assert browser.find_element(By.CSS_SELECTOR, ".done-by").text.startswith(
        "Resolved by Anna (by link) at "
    )
    assert _buttons(browser) == ["Add a note"]
    assert NOTE in browser.find_element(By.CSS_SELECTOR, ".history").text
    _shot(browser, screenshots, "resolved")

    assert [(e.action, e.actor, e.note) for e in hub.history(task_id)] == [
        ("opened", "duty manager", ""),
        ("acknowledged", "Anna (by link)", ""),
        ("resolved", "Anna (by link)", NOTE),
    ]


def _tab_to(driver: WebDriver, css: str, *, most: int = 25) -> WebElement:
    """Press Tab until the focus is on an element matching `css`; that element, its focus
    visible."""
    for _ in range(most):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        active = driver.switch_to.active_element
        if driver.execute_script("return arguments[0].matches(arguments[1])", active, css):
            outline = driver.execute_script(
                "const s = getComputedStyle(arguments[0]);"
                "return [s.outlineStyle, parseFloat(s.outlineWidth)]",
                active,
            )
            assert outline[0] != "none" and outline[1] >= 2, f"{css}: outline {outline}"
            return active
    raise AssertionError(f"{most} presses of Tab never reached {css}")


def test_the_keyboard_alone_does_it_all(hub: Served, browser: WebDriver, screenshots: Path) -> None:
    task_id = hub.task("Washroom T2: the floor is wet")
    browser.get(hub.link(task_id))
    _tab_to(browser, "button.go")
    _shot(browser, screenshots, "keys-on-my-way-focus")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _done(browser, "acknowledged")
    assert _focused(browser) == "p#done.confirm"
    _tab_to(browser, "textarea#note")
    ActionChains(browser).send_keys("Dried it and put up a sign").perform()
    _tab_to(browser, "button.fixed")
    _shot(browser, screenshots, "keys-resolved-focus")
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    _done(browser, "resolved")
    _tab_to(browser, "textarea#note")
    ActionChains(browser).send_keys("The sign can go at 15:00").perform()
    _tab_to(browser, "button.add")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _done(browser, "noted")
    assert _focused(browser) == "p#done.confirm"
    _shot(browser, screenshots, "keys-noted")

    task = hub.view(task_id)
    assert (task.state, task.acknowledged_by, task.resolved_by) == (
        "resolved",
        "Anna (by link)",
        "Anna (by link)",
    )
    assert [(e.action, e.note) for e in hub.history(task_id)][1:] == [
        ("acknowledged", ""),
        ("resolved", "Dried it and put up a sign"),
        ("note", "The sign can go at 15:00"),
    ]


def test_an_empty_note_is_refused_next_to_its_field(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    task_id = hub.task("Washroom T2: a tap is dripping")
    browser.get(hub.link(task_id))
    _button(browser, "Add a note").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "note-error"), "the note's error")
    field = browser.find_element(By.ID, "note")
    assert field.get_attribute("aria-invalid") == "true"
    assert "note-error" in (field.get_attribute("aria-describedby") or "").split()
    assert _focused(browser) == "textarea#note."  # where the error is, read with it
    _shot(browser, screenshots, "note-error")
    assert [e.action for e in hub.history(task_id)] == ["opened"]


def test_persian_reads_right_to_left(hub: Served, browser: WebDriver, screenshots: Path) -> None:
    task_id = hub.task("Washroom T2: no paper towels")
    browser.get(hub.link(task_id) + "?lang=fa")
    assert browser.execute_script("return document.documentElement.dir") == "rtl"
    go = _button(browser, "در راهم")  # "On my way"
    assert go.rect["x"] >= 0
    assert "در راهم" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, screenshots, "fa-open")


def test_an_expired_link_says_it_no_longer_works(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    task_id = hub.task("Washroom T2: the bin is full")
    hours = hub.settings.tasks.link_hours
    url = hub.link(task_id, signed_at=datetime.now(UTC) - timedelta(hours=hours, minutes=1))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=WAIT_S)  # the test's own server
    assert refused.value.code == 403
    browser.get(url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "This link no longer works"
    assert "ask your team lead" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.TAG_NAME, "button")
    statuses = [
        message["params"]["response"]["status"]
        for entry in browser_log(browser, "performance")
        if (message := json.loads(entry["message"])["message"])["method"]
        == "Network.responseReceived"
        and message["params"]["response"]["url"] == url
    ]
    assert statuses == [403]
    _shot(browser, screenshots, "expired", refused=True)
    assert hub.view(task_id).state == "open"
