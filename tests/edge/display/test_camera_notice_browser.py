"""The camera notice on the kiosk page, in real Chromium at the touch display's 1280x800:
shown on every screen while the camera is on (what it reads, when, that no image is kept or
sent, who runs it), gone when it is off, out of the smileys' way, and held to WCAG 2.2 AA by
axe-core. Screenshots land in the test's folder (`kiosk-camera-*.png`)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from edge.display.server import CameraNotice, KioskDisplay, Prompt
from protocol.messages import Button, KioskNotice
from tests.browser import axe_violations, headless_chromium, readable
from tests.edge.display.test_server import Kiosk as PageHooks

pytestmark = pytest.mark.browser

TOUCH_DISPLAY = (1280, 800)
WAIT_S = 10
READS = (
    "Camera on: this kiosk reads your facial expression when you press a button. "
    "No image is stored or sent."
)
OPERATOR = "Finavia Oyj, privacy@finavia.fi"


@pytest.fixture
def page() -> Iterator[tuple[PageHooks, KioskDisplay, WebDriver]]:
    kiosk = PageHooks()
    display = KioskDisplay(kiosk.hooks(), port=0)
    display.start()
    try:
        with headless_chromium(TOUCH_DISPLAY) as driver:
            width, height = TOUCH_DISPLAY
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.get(display.url)
            _wait(driver, lambda d: d.execute_script("return document.body.dataset.listening"))
            yield kiosk, display, driver
    finally:
        display.stop()


def _wait(driver: WebDriver, condition: object) -> object:
    return WebDriverWait(driver, WAIT_S).until(condition)  # type: ignore[arg-type]


def _notice(driver: WebDriver) -> str | None:
    """The camera notice's text as shown, or None when it is not shown."""
    shown = driver.execute_script(
        "const box = document.getElementById('camera-notice');"
        "return box.hidden || box.offsetHeight === 0 ? null : box.innerText;"
    )
    return None if shown is None else " ".join(str(shown).split())


def _shot(driver: WebDriver, folder: Path, name: str) -> None:
    driver.save_screenshot(str(folder / f"kiosk-camera-{name}.png"))
    print(f"screenshot: {folder / f'kiosk-camera-{name}.png'}")
    violations = axe_violations(driver)
    assert not violations, f"kiosk page ({name}): WCAG 2.2 AA violations:\n{readable(violations)}"


def _fits_the_screen_below(driver: WebDriver, element_id: str, selector: str) -> None:
    """Every `selector` element is shown below `element_id` and within the screen."""
    box = driver.find_element(By.ID, element_id)
    bottom = box.location["y"] + box.size["height"]
    for element in driver.find_elements(By.CSS_SELECTOR, selector):
        assert element.is_displayed() and element.location["y"] >= bottom
        assert element.location["y"] + element.size["height"] <= TOUCH_DISPLAY[1]


def test_the_notice_shows_while_the_camera_is_on_and_not_while_it_is_off(
    page: tuple[PageHooks, KioskDisplay, WebDriver], tmp_path: Path
) -> None:
    kiosk, display, driver = page
    assert _notice(driver) is None
    _shot(driver, tmp_path, "off")

    kiosk.camera = CameraNotice(OPERATOR)
    display.changed()
    _wait(driver, lambda d: _notice(d) is not None)

    assert _notice(driver) == f"{READS} Run by {OPERATOR}"
    assert driver.find_element(By.CSS_SELECTOR, "#camera-notice bdi").text == OPERATOR
    _fits_the_screen_below(driver, "camera-notice", ".smiley")
    _shot(driver, tmp_path, "on")

    display.prompt(Prompt("open", Button.UNHAPPY, "negative", 8.0))  # on every screen
    _wait(driver, lambda d: d.find_element(By.ID, "followup").is_displayed())
    assert _notice(driver) == f"{READS} Run by {OPERATOR}"
    _fits_the_screen_below(driver, "camera-notice", "#options .option")
    _shot(driver, tmp_path, "followup")

    kiosk.camera = None
    display.changed()
    _wait(driver, lambda d: _notice(d) is None)


def test_the_notice_stands_with_the_hubs_notices_and_in_persian(
    page: tuple[PageHooks, KioskDisplay, WebDriver], tmp_path: Path
) -> None:
    kiosk, display, driver = page
    kiosk.camera = CameraNotice()  # no operator named: the first line alone
    kiosk.notices = [
        KioskNotice(
            kind="requested",
            team="Cleaning T2",
            since=datetime(2026, 11, 23, 8, 42, tzinfo=UTC),
            time_zone="Europe/Helsinki",
        )
    ]
    display.changed()
    _wait(driver, lambda d: _notice(d) is not None)

    assert _notice(driver) == READS
    _fits_the_screen_below(driver, "notices", ".smiley")
    _shot(driver, tmp_path, "with-notice")
    driver.find_element(By.XPATH, "//nav[@id='languages']/button[@lang='fa']").click()
    _wait(driver, lambda d: d.execute_script("return document.documentElement.dir") == "rtl")
    assert _notice(driver)  # in English until its words are translated
    _fits_the_screen_below(driver, "notices", ".smiley")
    _shot(driver, tmp_path, "fa")
