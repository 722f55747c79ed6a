"""The kiosk page in real Chromium at the touch display's 1280x800: the question and the
smileys at rest, a press on the screen, the follow-up after a press, an answer in the
traveller's language, thanks, Persian laid out right to left, and the hub's notice that the
place is being handled, above the smileys and out of their way. Every screen is held to
WCAG 2.2 AA by axe-core; screenshots land in the test's folder (`kiosk-*.png`)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from edge.app import Kiosk
from edge.config import KioskConfig
from edge.display.server import KioskDisplay, Prompt
from edge.panel import mock_pin_factory
from protocol.messages import Button, FollowUp, KioskNotice, PressEvent
from tests.browser import axe_violations, headless_chromium, readable
from tests.edge.display.test_server import Kiosk as PageHooks
from tests.edge.test_app import SURVEY, messages, press, until
from tests.fake_mqtt import FakeMqttFactory

pytestmark = pytest.mark.browser

TOUCH_DISPLAY = (1280, 800)
WAIT_S = 10


@pytest.fixture
def kiosk() -> PageHooks:
    return PageHooks()


@pytest.fixture
def page(kiosk: PageHooks) -> Iterator[tuple[KioskDisplay, WebDriver]]:
    display = KioskDisplay(kiosk.hooks(), port=0)
    display.start()
    try:
        with headless_chromium(TOUCH_DISPLAY) as driver:
            width, height = TOUCH_DISPLAY
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})
            driver.get(display.url)
            _wait(driver, lambda d: d.execute_script("return document.body.dataset.listening"))
            yield display, driver
    finally:
        display.stop()


def _wait(driver: WebDriver, condition: object) -> object:
    return WebDriverWait(driver, WAIT_S).until(condition)  # type: ignore[arg-type]


def _visible_text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def _shot(driver: WebDriver, folder: Path, name: str) -> None:
    """A screenshot for the reviewer, and axe-core's word on the screen as it stands."""
    driver.save_screenshot(str(folder / f"kiosk-{name}.png"))
    print(f"screenshot: {folder / f'kiosk-{name}.png'}")
    violations = axe_violations(driver)
    assert not violations, f"kiosk page ({name}): WCAG 2.2 AA violations:\n{readable(violations)}"


def test_a_press_shows_the_follow_up_and_an_answer_reaches_the_kiosk(
    page: tuple[KioskDisplay, WebDriver], kiosk: PageHooks, tmp_path: Path
) -> None:
    display, driver = page
    assert _visible_text(driver, "question") == "How was the security check?"
    _shot(driver, tmp_path, "rest")
    driver.find_element(By.CSS_SELECTOR, '.smiley[data-button="unhappy"]').click()
    _wait(driver, lambda _d: kiosk.presses == [Button.UNHAPPY])

    display.prompt(Prompt("open", Button.UNHAPPY, "negative", 8.0))
    _wait(driver, lambda d: d.find_element(By.ID, "followup").is_displayed())
    assert _visible_text(driver, "followup-question") == "What went wrong?"
    options = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#options .option")]
    assert options == ["Queue too long", "Staff", "Skip"]
    _shot(driver, tmp_path, "followup")
    driver.find_element(By.XPATH, "//button[text()='Queue too long']").click()
    _wait(driver, lambda d: d.find_element(By.ID, "thanks").is_displayed())
    _wait(driver, lambda _d: kiosk.answers == [("open", "queue", "en")])
    _shot(driver, tmp_path, "thanks")


def test_persian_is_right_to_left_and_the_answer_says_so(
    page: tuple[KioskDisplay, WebDriver], kiosk: PageHooks, tmp_path: Path
) -> None:
    display, driver = page
    driver.find_element(By.XPATH, "//nav[@id='languages']/button[@lang='fa']").click()
    _wait(driver, lambda d: d.execute_script("return document.documentElement.dir") == "rtl")
    assert _visible_text(driver, "question") == "بازرسی امنیتی چطور بود؟"
    first, last = driver.find_elements(By.CSS_SELECTOR, ".smiley")[::3]
    assert first.get_attribute("data-button") == "very_happy"
    assert first.location["x"] > last.location["x"]  # very happy stands on the right
    _shot(driver, tmp_path, "rest-fa")
    display.prompt(Prompt("open", Button.VERY_UNHAPPY, "negative", 8.0))
    _wait(driver, lambda d: d.find_element(By.ID, "followup").is_displayed())
    _shot(driver, tmp_path, "followup-fa")
    driver.find_element(By.XPATH, "//button[text()='کارکنان']").click()
    _wait(driver, lambda _d: kiosk.answers == [("open", "staff", "fa")])


def test_no_answer_in_time_thanks_and_returns_to_rest_in_the_default_language(
    page: tuple[KioskDisplay, WebDriver], kiosk: PageHooks
) -> None:
    display, driver = page
    driver.find_element(By.XPATH, "//nav[@id='languages']/button[@lang='fa']").click()
    display.prompt(Prompt("open", Button.UNHAPPY, "negative", 2.0))
    _wait(driver, lambda d: d.find_element(By.ID, "followup").is_displayed())
    _wait(driver, lambda d: d.find_element(By.ID, "thanks").is_displayed())
    _wait(driver, lambda d: d.find_element(By.ID, "rest").is_displayed())
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert kiosk.answers == []  # the kiosk itself records the unanswered follow-up
    display.prompt(Prompt("e2", Button.HAPPY, None, 8.0))  # no follow-up after this press
    _wait(driver, lambda d: d.find_element(By.ID, "thanks").is_displayed())


@pytest.fixture
def kiosk_with_page(tmp_path: Path) -> Iterator[Kiosk]:
    """The whole kiosk on mock pins, its page served on a free port, the hub's survey given."""
    config = KioskConfig.model_validate(
        {
            "device_id": "k1",
            "location_id": "gate-a",
            "data_dir": tmp_path / "k1",
            "response_interval_s": 0,
            "mqtt": {"drain_on_stop_s": 0},
            "display": {"port": 0},
            "survey": SURVEY.model_dump(mode="json"),
        }
    )
    kiosk = Kiosk(config, pin_factory=mock_pin_factory(), link=FakeMqttFactory())
    kiosk.start()
    try:
        yield kiosk
    finally:
        kiosk.stop()


def _open(driver: WebDriver, url: str) -> None:
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return document.body.dataset.listening"))


def test_a_button_press_shows_the_follow_up_and_the_tap_is_recorded_once(
    kiosk_with_page: Kiosk, tmp_path: Path
) -> None:
    assert kiosk_with_page.page is not None
    with headless_chromium(TOUCH_DISPLAY) as driver:
        _open(driver, kiosk_with_page.page.display.url)
        press(kiosk_with_page, Button.VERY_UNHAPPY)  # the physical button, on its mock pin
        _wait(driver, lambda d: d.find_element(By.ID, "followup").is_displayed())
        _shot(driver, tmp_path, "kiosk-followup")
        driver.find_element(By.XPATH, "//button[text()='Staff']").click()
        _wait(driver, lambda d: d.find_element(By.ID, "thanks").is_displayed())
    recorded = until(lambda: len(messages(kiosk_with_page)) == 2 and messages(kiosk_with_page))
    event, followup = recorded
    assert isinstance(event, PressEvent) and isinstance(followup, FollowUp)
    assert (followup.event_id, followup.option, followup.language) == (
        event.event_id,
        "staff",
        "en",
    )
    assert followup.survey_version == SURVEY.version


def test_a_killed_page_leaves_the_buttons_recording(kiosk_with_page: Kiosk) -> None:
    assert kiosk_with_page.page is not None
    with headless_chromium(TOUCH_DISPLAY) as driver:
        _open(driver, kiosk_with_page.page.display.url)
    # the browser is gone, its event stream cut mid-way
    for button in (Button.HAPPY, Button.UNHAPPY):
        press(kiosk_with_page, button)
    presses = until(
        lambda: (
            [m for m in messages(kiosk_with_page) if isinstance(m, PressEvent)]
            if len([m for m in messages(kiosk_with_page) if isinstance(m, PressEvent)]) == 2
            else None
        )
    )
    assert [p.button for p in presses] == [Button.HAPPY, Button.UNHAPPY]
    with headless_chromium(TOUCH_DISPLAY) as driver:  # a restarted browser finds the page
        _open(driver, kiosk_with_page.page.display.url)
        assert _visible_text(driver, "question") == "How was the security check?"


def _notice(kind: str, team: str, hour: int, minute: int, time_zone: str) -> KioskNotice:
    return KioskNotice.model_validate(
        {
            "kind": kind,
            "team": team,
            "since": datetime(2026, 11, 23, hour, minute, tzinfo=UTC),
            "time_zone": time_zone,
        }
    )


def _notice_lines(driver: WebDriver) -> list[str]:
    """The notices' lines as shown, read in one go (the page may replace them meanwhile)."""
    lines = driver.execute_script(
        "return [...document.querySelectorAll('#notices p')].map((p) => p.innerText)"
    )
    return [str(line) for line in lines]


def test_a_notice_tells_travellers_the_place_is_being_handled_out_of_the_smileys_way(
    page: tuple[KioskDisplay, WebDriver], kiosk: PageHooks, tmp_path: Path
) -> None:
    display, driver = page
    kiosk.notices = [
        _notice("requested", "Cleaning T2", 8, 42, "Europe/Helsinki"),  # 10:42 in Helsinki
        _notice("on_the_way", "Security lanes", 9, 5, "Mars/Olympus_Mons"),  # unknown here
    ]
    display.changed()
    _wait(driver, lambda d: len(_notice_lines(d)) == 2)
    first, second = _notice_lines(driver)
    assert first == "Cleaning T2 requested at 10:42"
    assert second.startswith("Security lanes on the way since ")
    notices = driver.find_element(By.ID, "notices")
    assert notices.get_attribute("role") == "status"
    bottom = notices.location["y"] + notices.size["height"]
    smileys = driver.find_elements(By.CSS_SELECTOR, ".smiley")
    assert all(s.is_displayed() and s.location["y"] >= bottom for s in smileys)
    assert (
        float(
            driver.execute_script(  # arm's length: as large as the hints
                "return parseFloat(getComputedStyle(document.getElementById('notices')).fontSize)"
            )
        )
        >= 28
    )
    _shot(driver, tmp_path, "notice")
    driver.find_element(By.CSS_SELECTOR, '.smiley[data-button="very_unhappy"]').click()
    _wait(driver, lambda _d: kiosk.presses == [Button.VERY_UNHAPPY])  # a press still lands

    display.prompt(Prompt("open", Button.VERY_UNHAPPY, "negative", 8.0))
    _wait(driver, lambda d: d.find_element(By.ID, "followup").is_displayed())
    options = driver.find_elements(By.CSS_SELECTOR, "#options .option")
    assert all(o.location["y"] >= bottom for o in options)
    _shot(driver, tmp_path, "notice-followup")

    kiosk.notices = []  # resolved: the hub's next config has none
    display.changed()
    _wait(driver, lambda d: _notice_lines(d) == [])
    assert driver.find_element(By.ID, "notices").size["height"] == 0


def test_a_notice_in_persian_reads_right_to_left_with_persian_digits(
    page: tuple[KioskDisplay, WebDriver], kiosk: PageHooks, tmp_path: Path
) -> None:
    display, driver = page
    kiosk.notices = [_notice("requested", "Cleaning T2", 8, 42, "Europe/Helsinki")]
    display.changed()
    _wait(driver, lambda d: len(_notice_lines(d)) == 1)
    driver.find_element(By.XPATH, "//nav[@id='languages']/button[@lang='fa']").click()
    _wait(driver, lambda d: d.execute_script("return document.documentElement.dir") == "rtl")
    [line] = _notice_lines(driver)
    assert line == "Cleaning T2 ساعت ۱۰:۴۲ درخواست شد"  # noqa: RUF001 (Persian digits: 10:42)
    assert driver.find_element(By.CSS_SELECTOR, "#notices bdi").text == "Cleaning T2"
    _shot(driver, tmp_path, "notice-fa")
