"""The dashboard in a real browser: headless Chromium against the hub's web server over HTTP.

One hub (its web server on a free port, over a migrated SQLite database holding four weeks of
presses at two touchpoints and two kiosks) and one browser signed in through the login form
serve the whole module; every page is screenshotted, and every page must leave no error in
the console and fetch nothing from anywhere but the hub.
"""

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy.orm import Session

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.fleet.provision import Fleet, Site
from hub.ingest.store import apply_status, store_events
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from protocol.messages import Button, DeviceState, DeviceStatus, PressEvent
from tests.helpers import service_missing
from tests.hub.factories import press

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PASSWORD = "correct horse battery"
SECURITY = "hel-t2-security"  # presses at 09:00 and 15:00 Helsinki time, every button
GATE = "osl-gate-a"  # only "happy" presses: a Happy Index of 66.7, shown as 67
LOCAL_HOURS = (9, 15)
WAIT_S = 15
# Routes other branches add; until they are merged, the location page asks them and gets 404.
NOT_YET_HERE: tuple[str, ...] = ()


def _seed(session: Session, settings: HubSettings, now: datetime) -> None:
    fleet = Fleet(session, settings)
    helsinki = Site(site="hel", area="hel-t2", location=SECURITY, time_zone="Europe/Helsinki")
    oslo = Site(site="osl", location=GATE, time_zone="Europe/Oslo", name="Gate A")
    fleet.add("k1", helsinki, auth="password", out_dir=None)
    fleet.add("k2", oslo, auth="password", out_dir=None)
    zone = ZoneInfo("Europe/Helsinki")
    today = now.astimezone(zone).date()
    events: list[PressEvent] = []
    for day in range(28):
        date = today - timedelta(days=day + 1)
        for hour in LOCAL_HOURS:
            at = datetime(date.year, date.month, date.day, hour, 10, tzinfo=zone)
            for i, button in enumerate(Button):
                seq = len(events) + 1
                events.append(press(button, device_id="k1", location_id=SECURITY, seq=seq, at=at))
                events.append(
                    press(
                        Button.HAPPY,
                        device_id="k2",
                        location_id=GATE,
                        seq=seq,
                        at=at + timedelta(minutes=i),
                    )
                )
    store_events(session, events=events, received_at=now)
    for device_id, heard, outbox in (("k1", now, 2), ("k2", now - timedelta(hours=2), 40)):
        status = DeviceStatus(
            device_id=device_id,
            state=DeviceState.ONLINE,
            sent_at=heard,
            version="0.1.0",
            uptime_s=3600,
            outbox_depth=outbox,
            outbox_capacity=1000,
        )
        apply_status(session, status=status, received_at=heard)
    add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
    offline = Rule(0, "osl", RuleKind.DEVICE_OFFLINE, threshold=60, window_min=0)
    add_rule(session, rule=offline, created_by="admin", now=now)


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The hub's web server on a free port, over a database with four weeks of presses."""
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    settings = HubSettings(data_dir=folder, db=url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        _seed(session, settings, now)
    opened = AlertEngine(sessions, settings, lambda _topic, _payload: True).evaluate(now)
    assert opened, "k2, unheard for two hours, should have raised the offline alert"
    server = WebServer(create_app(settings, sessions), "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started(), "the web server did not start"
    yield base
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(hub_url: str, downloads: Path) -> Iterator[WebDriver]:
    """Headless Chromium from the system, never one a tool downloads."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        service_missing("chromium and chromium-driver are not installed (apt-get install them)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1600")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def signed_in(browser: WebDriver, hub_url: str, screenshots: Path) -> WebDriver:
    """The browser, signed in as the admin through the login form."""
    browser.get(f"{hub_url}/login")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    _screenshot(browser, screenshots, "login")
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    _wait(browser, lambda d: urlsplit(d.current_url).path == "/", "the overview after signing in")
    return browser


def _wait(driver: WebDriver, condition: Any, what: str) -> Any:
    return WebDriverWait(driver, WAIT_S).until(condition, f"waited {WAIT_S} s for {what}")


def _shown(driver: WebDriver, css: str, what: str, *, at_least: int = 1) -> list[WebElement]:
    """Wait until the page (drawn by its script from the API) shows `at_least` of `css`."""
    found: list[WebElement] = _wait(
        driver,
        lambda d: (e := d.find_elements(By.CSS_SELECTOR, css)) and len(e) >= at_least and e,
        what,
    )
    return found


def _screenshot(driver: WebDriver, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot of {name}"
    if extra := os.environ.get("SEED_SCREENSHOTS_DIR"):
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def _status_of(driver: WebDriver, path: str) -> int:
    """What the hub answers the signed-in browser for a path."""
    status: int = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then((r) => done(r.status), () => done(0));",
        path,
    )
    return status


def _page_is_clean(driver: WebDriver, hub_url: str, screenshots: Path, name: str) -> None:
    """Screenshot the page; no error in its console; nothing fetched from beyond the hub."""
    _screenshot(driver, screenshots, name)
    hub = urlsplit(hub_url).netloc
    missing_here = [p for p in NOT_YET_HERE if _status_of(driver, p) == 404]
    errors = [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
        and not any(f"{hub_url}{p}" in entry["message"] for p in missing_here)
    ]
    assert not errors, f"{name}: errors in the browser's console:\n" + "\n".join(errors)
    requested = {
        message["params"]["request"]["url"]
        for entry in driver.get_log("performance")
        if (message := json.loads(entry["message"])["message"])["method"]
        == "Network.requestWillBeSent"
    }
    elsewhere = sorted(u for u in requested if urlsplit(u).netloc not in ("", hub))
    assert not elsewhere, f"{name}: requests that left the hub: {elsewhere}"
    assets = driver.execute_script(
        "return [...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]"
        ".map((e) => e.getAttribute('src') ?? e.getAttribute('href'))"
    )
    absolute = [a for a in assets if urlsplit(a).netloc or a.startswith("//")]
    assert not absolute, f"{name}: assets not served by the hub: {absolute}"
    assert driver.find_elements(By.CSS_SELECTOR, "header.top nav"), f"{name}: not signed in"


def test_signing_in_opens_the_overview_with_every_location_and_its_happy_index(
    signed_in: WebDriver, hub_url: str, screenshots: Path
) -> None:
    rows = _shown(signed_in, "#overview tbody tr", "the overview's rows", at_least=5)
    shown = [row.get_attribute("data-location") for row in rows]
    assert shown == ["hel", "hel-t2", SECURITY, "osl", GATE], "sites before their children"
    gate = signed_in.find_element(By.CSS_SELECTOR, f'tr[data-location="{GATE}"]')
    cells = gate.find_elements(By.TAG_NAME, "td")
    assert cells[1].text.startswith("Gate A")
    assert cells[2].text == "67", "only happy presses: a Happy Index of 2/3"
    security = signed_in.find_element(By.CSS_SELECTOR, f'tr[data-location="{SECURITY}"]')
    assert "1 online" in security.text
    _page_is_clean(signed_in, hub_url, screenshots, "overview")


def test_a_location_page_draws_its_trend_and_a_heat_map_in_its_own_time_zone(
    signed_in: WebDriver, hub_url: str, screenshots: Path
) -> None:
    signed_in.get(f"{hub_url}/locations/{SECURITY}")
    cells = _shown(
        signed_in, "svg.heatmap rect.heat-cell", "the heat map's 7 x 24 cells", at_least=168
    )
    assert len(cells) == 168
    filled = {
        cell.find_element(By.TAG_NAME, "title").get_attribute("textContent").split(":")[0]
        for cell in cells
        if "no responses"
        not in cell.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    }
    weekdays = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert filled == {f"{day} {hour}" for day in weekdays for hour in LOCAL_HOURS}, (
        "presses at 09:10 and 15:10 Helsinki time fill those hours of every weekday"
    )
    assert signed_in.find_element(By.ID, "zone").text == "(Europe/Helsinki)"
    daily = signed_in.find_elements(By.CSS_SELECTOR, "#trend svg circle")
    assert len(daily) >= 27, "a Happy Index a day over the four weeks"
    assert signed_in.find_elements(By.CSS_SELECTOR, "#trend svg path")
    Select(signed_in.find_element(By.ID, "step")).select_by_value("week")
    weekly = signed_in.find_elements(By.CSS_SELECTOR, "#trend svg circle")
    assert 4 <= len(weekly) <= 5, "by week, four or five points"
    summary = signed_in.find_element(By.ID, "summary").text
    assert "Happy Index" in summary and "50" in summary, "every button once: an index of 50"
    _page_is_clean(signed_in, hub_url, screenshots, "location")


def test_compare_draws_two_locations_side_by_side(
    signed_in: WebDriver, hub_url: str, screenshots: Path
) -> None:
    signed_in.get(f"{hub_url}/compare?a={SECURITY}&b={GATE}")
    sides = _shown(signed_in, "#sides .side", "both sides", at_least=2)
    assert [s.find_element(By.TAG_NAME, "h2").text for s in sides] == [SECURITY, "Gate A"]
    for side in sides:
        assert len(side.find_elements(By.CSS_SELECTOR, "rect.heat-cell")) == 168
        assert side.find_elements(By.CSS_SELECTOR, "svg circle"), "a trend on each side"
    _page_is_clean(signed_in, hub_url, screenshots, "compare")


def test_the_fleet_shows_each_kiosk_online_or_offline(
    signed_in: WebDriver, hub_url: str, screenshots: Path
) -> None:
    signed_in.get(f"{hub_url}/fleet")
    rows = _shown(signed_in, "#fleet tbody tr", "the fleet's rows", at_least=2)
    state = {
        r.get_attribute("data-device"): r.find_elements(By.TAG_NAME, "td")[2].text for r in rows
    }
    assert state == {"k1": "online", "k2": "offline"}
    assert "2 kiosks, 1 online, 1 offline." in signed_in.find_element(By.ID, "fleet-summary").text
    _page_is_clean(signed_in, hub_url, screenshots, "fleet")


def test_the_responses_csv_downloads_from_the_reports_page(
    signed_in: WebDriver, hub_url: str, screenshots: Path, downloads: Path
) -> None:
    if _status_of(signed_in, "/reports") == 404:
        pytest.skip("the CSV download needs /reports (being built on the exports branch)")
    signed_in.get(f"{hub_url}/reports")
    link = _shown(signed_in, "a#download-responses-csv", "the download link")[0]
    _page_is_clean(signed_in, hub_url, screenshots, "reports")
    link.click()
    deadline = time.monotonic() + WAIT_S
    while not (done := list(downloads.glob("*.csv"))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done, f"no CSV in {downloads} after {WAIT_S} s: {list(downloads.iterdir())}"
    lines = done[0].read_text().splitlines()
    assert len(lines) > 1, "a header and at least one response"


def test_an_alert_is_acknowledged_from_the_alerts_page(
    signed_in: WebDriver, hub_url: str, screenshots: Path
) -> None:
    if _status_of(signed_in, "/alerts") == 404:
        pytest.skip("acknowledging needs /alerts (being built on the alerts branch)")
    signed_in.get(f"{hub_url}/alerts")
    buttons = _shown(
        signed_in,
        "button.acknowledge[data-alert-id]",
        "an alert to acknowledge (the seeded presses should have raised one)",
    )
    alert_id = buttons[0].get_attribute("data-alert-id")
    buttons[0].click()
    _wait(
        signed_in,
        lambda d: (
            not d.find_elements(
                By.CSS_SELECTOR, f'button.acknowledge[data-alert-id="{alert_id}"]:not([disabled])'
            )
        ),
        f"alert {alert_id} to be acknowledged",
    )
    _page_is_clean(signed_in, hub_url, screenshots, "alerts")
