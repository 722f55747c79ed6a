"""The cameras' reading on the dashboard, in headless Chromium against the hub's web server:
a site whose two touchpoints hold six readings each shows its figures with their coverage;
each touchpoint shows only that its figures are hidden, never the figures or count."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.ingest.store import store_events
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from protocol.messages import Button, ObservedEmotion
from tests.browser import (
    axe_script,
    axe_violations,
    browser_log,
    headless_chromium,
    readable,
)
from tests.hub.camera.factories import approve_places
from tests.hub.factories import place, press

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
WAIT_S = 15
READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.6, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """hel -> gate-1 and gate-2, six read presses each, an hour ago."""
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        approve_places(session, ["hel"])  # the hub keeps a reading only where one may be
        events = []
        for device, gate in enumerate(("gate-1", "gate-2"), start=1):
            place(session, gate, parent="hel")
            events += [
                press(
                    Button.HAPPY,
                    device_id=f"k{device}",
                    location_id=gate,
                    seq=n,
                    at=now - timedelta(hours=1, minutes=n),
                ).model_copy(update={"emotion": READING})
                for n in range(1, 7)
            ]
        store_events(session, events=events, received_at=now)
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
    server = WebServer(create_app(HubSettings(data_dir=folder, db=url), sessions), "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started(), "the web server did not start"
    yield base
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def signed_in(hub_url: str) -> Iterator[WebDriver]:
    with headless_chromium((1280, 1200)) as driver:
        driver.get(f"{hub_url}/login")
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        _wait(driver, lambda d: urlsplit(d.current_url).path == "/", "the overview")
        yield driver


def _wait(driver: WebDriver, condition: Any, what: str) -> Any:
    return WebDriverWait(driver, WAIT_S).until(condition, f"waited {WAIT_S} s for {what}")


def _observed_cell(driver: WebDriver, location: str) -> str:
    css = f'#overview tr[data-location="{location}"] td:nth-child(7)'
    cell = _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, css), f"{location}'s row")
    text: str = cell[0].get_attribute("textContent")
    return text


def _no_console_errors(driver: WebDriver, name: str) -> None:
    errors = [e["message"] for e in browser_log(driver, "browser") if e["level"] == "SEVERE"]
    assert not errors, f"{name}: errors in the browser's console:\n" + "\n".join(errors)


def test_the_overview_shows_the_sites_reading_and_hides_each_touchpoints(
    signed_in: WebDriver, hub_url: str
) -> None:
    signed_in.get(f"{hub_url}/")
    assert _observed_cell(signed_in, "hel") == "60coverage 100%"
    for gate in ("gate-1", "gate-2"):
        text = _observed_cell(signed_in, gate)
        assert text == (
            "hiddennot shown: fewer than 10 readings here, or a smaller group beneath would show"
        ), text
        assert "6" not in text
    _no_console_errors(signed_in, "overview")
    found = axe_violations(signed_in, axe_script())
    assert not found, f"axe-core finds WCAG 2.2 AA violations:\n{readable(found)}"


def test_the_location_page_says_too_few_readings_or_shows_them_with_their_coverage(
    signed_in: WebDriver, hub_url: str
) -> None:
    signed_in.get(f"{hub_url}/locations/gate-1")
    panel = _wait(
        signed_in,
        lambda d: (e := d.find_element(By.ID, "observed")).text and e,
        "gate-1's observed panel",
    )
    assert panel.text.startswith("Not shown: fewer than 10 readings here")
    assert "6" not in panel.text
    _no_console_errors(signed_in, "gate-1")

    signed_in.get(f"{hub_url}/locations/hel")
    panel = _wait(
        signed_in, lambda d: (e := d.find_element(By.ID, "observed")).text and e, "hel's panel"
    )
    assert "Observed index 60 " in panel.text
    assert "Coverage 100% (12 readings of 12 kiosk presses)." in panel.text
    _no_console_errors(signed_in, "hel")
