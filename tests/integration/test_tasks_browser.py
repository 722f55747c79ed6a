"""The Tasks page in a real browser: a duty manager opens a task by hand, acknowledges and
resolves it with the keyboard alone, reads a resolved task's recovery and the figures per
team and place; the location page's Tasks panel shows the place's tasks and figures.

One hub (its web server on a free port, over a migrated SQLite database: site hel > area
hel-t2 > the security touchpoint, in Helsinki time; team "cleaning" looks after hel-t2) and
one headless Chromium signed in as the manager of hel. Seeded: a task resolved two and a half
hours ago whose place went from 6 unhappy answers of 8 before it to 1 of 8 after (measured by
the hub: recovered), one resolved with no answers around it (too few to tell), and one nobody
acknowledged (escalated). Each state is held to WCAG 2.2 AA by axe-core at 1280 px and at
375 px, where nothing may overflow sideways; full-page screenshots (`tasks-*.png`) land in the
module's screenshot folder and in $SEED_SCREENSHOTS_DIR when it is set.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import Session

from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.fleet.provision import Fleet, Site
from hub.ingest.store import store_events
from hub.tasks import records
from hub.tasks.recovery import measure_due
from hub.tasks.teams import Role as TeamRole
from hub.tasks.teams import Route, add_member, add_team
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from protocol.messages import Button, PressEvent
from tests.browser import (
    axe_script,
    axe_violations,
    full_page_screenshot,
    headless_chromium,
    readable,
)
from tests.hub.factories import press

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
SECURITY = "hel-t2-security"
HELSINKI = ZoneInfo("Europe/Helsinki")
WAIT_S = 15
DESKTOP = (1280, 1600)
PHONE = (375, 812)
NOW = datetime.now(UTC).replace(microsecond=0)
MEASURED_OPENED = NOW - timedelta(hours=3)


def _presses(since: datetime, buttons: list[Button], first_seq: int) -> list[PressEvent]:
    return [
        press(
            b,
            device_id="k1",
            location_id=SECURITY,
            seq=first_seq + i,
            at=since + timedelta(minutes=5 * i),
        )
        for i, b in enumerate(buttons)
    ]


def _seed(session: Session, settings: HubSettings) -> None:
    fleet = Fleet(session, settings)
    helsinki = Site(
        site="hel",
        area="hel-t2",
        location=SECURITY,
        time_zone="Europe/Helsinki",
        name="Security lane 1",
    )
    fleet.add("k1", helsinki, auth="password", out_dir=None)
    add_user(session, username="duty", role=Role.MANAGER, password=PASSWORD, sites=("hel",))
    add_team(session, team_id="cleaning", name="Cleaning T2", location_id="hel-t2", now=NOW)
    add_member(
        session,
        team_id="cleaning",
        name="Ana",
        route=Route.WEBHOOK,
        target="http://127.0.0.1:9/tasks",
        role=TeamRole.MEMBER,
    )
    # Before the first task: 6 of 8 unhappy; after its fix: 1 of 8.
    unhappy = [Button.VERY_UNHAPPY, Button.UNHAPPY] * 3 + [Button.HAPPY] * 2
    happy = [Button.UNHAPPY] + [Button.HAPPY, Button.VERY_HAPPY] * 3 + [Button.HAPPY]
    resolved_at = MEASURED_OPENED + timedelta(minutes=30)
    events = _presses(MEASURED_OPENED - timedelta(minutes=50), unhappy, 1)
    events += _presses(resolved_at + timedelta(minutes=5), happy, 100)
    store_events(session, events=events, received_at=NOW)
    measured = records.open_by_hand(
        session,
        team_id="cleaning",
        location_id=SECURITY,
        title="Bins overflowing",
        by="duty",
        now=MEASURED_OPENED,
    )
    records.acknowledge(
        session, task_id=measured, actor="Ana (by link)", now=MEASURED_OPENED + _min(6)
    )
    records.resolve(session, task_id=measured, actor="Ana (by link)", now=resolved_at)
    few = records.open_by_hand(
        session,
        team_id="cleaning",
        location_id="hel-t2",
        title="Sticky floor",
        by="duty",
        now=NOW - timedelta(days=2),
    )
    records.resolve(session, task_id=few, actor="duty", now=NOW - timedelta(days=2) + _min(50))
    assert measure_due(session, now=NOW) == [few, measured]
    records.open_by_hand(
        session,
        team_id="cleaning",
        location_id=SECURITY,
        title="Queue barrier down",
        by="duty",
        now=NOW - timedelta(minutes=40),
    )
    records.escalate_overdue(session, now=NOW)


def _min(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    settings = HubSettings(data_dir=folder, db=url)
    with sessions.begin() as session:
        _seed(session, settings)
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
def duty(hub_url: str) -> Iterator[WebDriver]:
    """Headless Chromium, signed in as the manager of hel through the login form."""
    with headless_chromium(DESKTOP) as driver:
        driver.get(f"{hub_url}/login?next=/tasks")
        driver.find_element(By.NAME, "username").send_keys("duty")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
        _wait(driver, lambda d: urlsplit(d.current_url).path == "/tasks", "the tasks page")
        yield driver


def _wait(driver: WebDriver, condition: Any, what: str) -> Any:
    return WebDriverWait(driver, WAIT_S).until(condition, f"waited {WAIT_S} s for {what}")


def _shown(driver: WebDriver, css: str, what: str, *, at_least: int = 1) -> list[WebElement]:
    found: list[WebElement] = _wait(
        driver,
        lambda d: (e := d.find_elements(By.CSS_SELECTOR, css)) and len(e) >= at_least and e,
        what,
    )
    return found


def _clean(driver: WebDriver, screenshots: Path, name: str) -> None:
    """Screenshots at both widths; axe-core finds nothing; nothing sideways at 375 px; no
    error in the console."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{name}: errors in the console:\n" + "\n".join(errors)
    name = f"tasks-{name}"
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


def _focused(driver: WebDriver) -> WebElement:
    return driver.switch_to.active_element


def _api(driver: WebDriver, path: str) -> Any:
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then((r) => r.json()).then(done, () => done(null));",
        path,
    )


def test_the_page_shows_unresolved_tasks_first_then_resolved_ones_with_their_recovery(
    duty: WebDriver, screenshots: Path
) -> None:
    cards = _shown(duty, "#tasks-unresolved article.task", "the unresolved task")
    assert len(cards) == 1
    card = cards[0]
    assert "Security lane 1: Queue barrier down" in card.find_element(By.TAG_NAME, "h3").text
    badges = card.find_element(By.CSS_SELECTOR, ".task-badges").text.split()
    assert badges == ["open", "escalated", "overdue"], "nobody acknowledged it in 15 minutes"
    opened = (NOW - timedelta(minutes=40)).astimezone(HELSINKI)
    facts = card.find_element(By.CSS_SELECTOR, "dl.task-facts").text
    assert f"{opened:%I:%M}" in facts, f"opened in Helsinki time ({opened:%H:%M}): {facts}"
    # NOW was read when the module was imported, maybe minutes before this test runs
    ago = re.search(r"(?:(\d+) h )?(\d+) min ago, by duty", facts)  # "52 min" or "1 h 01 min"
    assert ago, facts
    minutes_ago = 60 * int(ago[1] or 0) + int(ago[2])
    since_opened = (datetime.now(UTC) - (NOW - timedelta(minutes=40))).total_seconds() / 60
    assert 40 <= minutes_ago <= since_opened + 1, facts
    assert "Cleaning T2" in facts

    rows = _shown(duty, "#resolved tbody tr[data-task-id]", "the resolved tasks", at_least=2)
    texts = [r.text for r in rows]
    first = next(t for t in texts if "Bins overflowing" in t)
    second = next(t for t in texts if "Sticky floor" in t)
    assert texts.index(first) < texts.index(second), "the latest resolved first"
    assert "recovered" in first, first
    assert "75% → 13% (6 of 8 → 1 of 8)" in first, first
    assert "30 min" in first and "by Ana (by link)" in first
    assert "too few answers to tell" in second and "no answers before or after" in second

    figures = _shown(duty, "#figures tbody tr.team-total", "the team's figures")
    total = [c.text for c in figures[0].find_elements(By.CSS_SELECTOR, "th, td")]
    count = len(_api(duty, "/api/tasks?state=all"))  # 3, and one more once a test opened it
    assert total[:2] == ["Cleaning T2, all places", str(count)], total
    assert total[6].startswith("100% (1 of 1)") and "1 too few to tell" in total[6], total
    places = duty.find_elements(By.CSS_SELECTOR, "#figures tbody tr.team-place")
    assert {p.get_attribute("data-location") for p in places} == {"hel-t2", SECURITY}
    _clean(duty, screenshots, "seeded")


def test_a_manager_opens_acknowledges_and_resolves_a_task_with_the_keyboard(
    duty: WebDriver, hub_url: str, screenshots: Path
) -> None:
    duty.get(f"{hub_url}/tasks")
    _shown(duty, "#open-location option", "the places a team looks after", at_least=2)
    # Nothing typed: the form says what is missing, next to the field, and keeps the focus.
    title = duty.find_element(By.ID, "open-title")
    title.send_keys(Keys.ENTER)
    error = duty.find_element(By.ID, "open-error")
    _wait(duty, lambda _d: error.is_displayed(), "the missing title's error")
    assert _focused(duty) == title and title.get_attribute("aria-invalid") == "true"

    place = duty.find_element(By.ID, "open-location")
    place.send_keys(Keys.ARROW_DOWN)
    assert place.get_attribute("value") == SECURITY
    title.send_keys("Paper towels out" + Keys.ENTER)
    status = duty.find_element(By.ID, "tasks-status")
    _wait(duty, lambda _d: "Task opened" in status.text, "the task to be opened")
    heading = _focused(duty)
    assert heading.text == "Security lane 1: Paper towels out", "the focus is on the new task"
    task_id = str(heading.get_attribute("id")).split("-")[1]
    _clean(duty, screenshots, "opened")

    heading.send_keys(Keys.TAB)
    note = _focused(duty)
    assert note.get_attribute("id") == f"task-{task_id}-note"
    note.send_keys("on my way")
    note.send_keys(Keys.TAB)
    acknowledge = _focused(duty)
    assert acknowledge.get_attribute("class") == "acknowledge" and acknowledge.text == "Acknowledge"
    acknowledge.send_keys(Keys.ENTER)
    _wait(duty, lambda _d: "Acknowledged:" in status.text, "the acknowledgement")
    card = duty.find_element(By.ID, f"task-{task_id}")
    assert "acknowledged" in card.find_element(By.CSS_SELECTOR, ".task-badges").text
    assert "by duty" in card.find_element(By.CSS_SELECTOR, "dl.task-facts").text
    resolve = _focused(duty)
    assert resolve.text == "Resolve", "the focus stays with the task, on its next step"

    resolve.send_keys(Keys.SPACE)
    _wait(duty, lambda d: not d.find_elements(By.ID, f"task-{task_id}"), "the task to go")
    assert "Resolved: Security lane 1: Paper towels out." in status.text
    assert _focused(duty) == status, "the focus moves to the message once the task is gone"
    row = _shown(duty, f'#resolved tr[data-task-id="{task_id}"]', "the task among the resolved")
    assert "not measured yet" in row[0].text
    history = _api(duty, f"/api/tasks/{task_id}")["history"]
    assert [(h["actor"], h["action"], h["note"]) for h in history] == [
        ("duty", "opened", ""),
        ("duty", "acknowledged", "on my way"),
        ("duty", "resolved", ""),
    ]
    opened = str(len(_api(duty, "/api/tasks?state=all")))
    _wait(
        duty,
        lambda d: d.find_element(By.CSS_SELECTOR, "#figures tr.team-total td").text == opened,
        f"the figures to count {opened} tasks",
    )
    _clean(duty, screenshots, "resolved")


def test_the_location_page_has_a_tasks_panel_with_the_place_s_tasks_and_figures(
    duty: WebDriver, hub_url: str, screenshots: Path
) -> None:
    duty.get(f"{hub_url}/locations/{SECURITY}")
    items = _shown(duty, "#tasks-open li[data-task-id]", "the place's unresolved task")
    queue = next(i.text for i in items if "Queue barrier down" in i.text)
    assert "open escalated overdue" in queue, queue
    rows = _shown(duty, "#tasks-figures tbody tr.team-place", "the place's figures")
    assert [r.get_attribute("data-location") for r in rows] == [SECURITY]
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    here = _api(duty, f"/api/tasks?state=all&location={SECURITY}")
    assert cells[0] == str(len(here)), "every task opened here in the period"
    assert cells[5].startswith("100% (1 of 1)")
    link = duty.find_element(By.ID, "tasks-link")
    assert str(link.get_attribute("href")).endswith(f"/tasks?location={SECURITY}")
    full_page_screenshot(duty, screenshots, "tasks-location-panel")
    violations = axe_violations(duty, axe_script())
    assert not violations, readable(violations)
