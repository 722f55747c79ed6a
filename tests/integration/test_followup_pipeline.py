"""A traveller's why, end to end: a press on the kiosk's button, the follow-up on its touch
page in real Chromium, a tap on a reason; the press and its follow-up reach the hub through
a real Mosquitto once each, linked, and the location's reasons say so, in English and in
Persian (right to left; the screenshot is `kiosk-hub-fa.png` in the test's folder)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from edge.app import Kiosk
from hub.app import Hub
from hub.config import IngestSettings
from hub.hierarchy import LocationTree
from hub.models import Event, FollowUpAnswer
from hub.reporting.reasons import reasons as location_reasons
from hub.rollups.buckets import Period
from lab.mosquitto import MosquittoProcess
from protocol.messages import Button
from tests.browser import headless_chromium
from tests.edge.test_app import SURVEY
from tests.edge.test_app import press as press_button
from tests.helpers import wait_until

pytestmark = pytest.mark.browser

TOUCH_DISPLAY = (1280, 800)


@pytest.mark.parametrize(
    ("language", "reason"), [("en", "Queue too long"), ("fa", "صف طولانی")], ids=["en", "fa"]
)
def test_a_press_and_its_reason_reach_the_hub_once_linked(
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    start_kiosk: Callable[..., Kiosk],
    tmp_path: Path,
    language: str,
    reason: str,
) -> None:
    hub = start_hub(mosquitto.url, ingest=IngestSettings(min_press_interval_s=0))
    kiosk = start_kiosk(
        "k1",
        "gate-a",
        mosquitto.url,
        response_interval_s=0,
        display={"port": 0},
        survey=SURVEY.model_dump(mode="json"),
    )
    assert kiosk.page is not None
    with headless_chromium(TOUCH_DISPLAY) as driver:
        driver.get(kiosk.page.display.url)
        wait = WebDriverWait(driver, 10)
        wait.until(lambda d: d.execute_script("return document.body.dataset.listening"))
        driver.find_element(By.XPATH, f"//nav[@id='languages']/button[@lang='{language}']").click()
        press_button(kiosk, Button.UNHAPPY)
        wait.until(lambda d: d.find_element(By.ID, "followup").is_displayed())
        driver.save_screenshot(str(tmp_path / f"kiosk-hub-{language}.png"))
        driver.find_element(By.XPATH, f"//button[text()='{reason}']").click()
        wait.until(lambda d: d.find_element(By.ID, "thanks").is_displayed())

    def stored() -> tuple[int, int]:
        with hub.sessions() as session:
            events = session.scalar(select(func.count()).select_from(Event)) or 0
            answers = session.scalar(select(func.count()).select_from(FollowUpAnswer)) or 0
            return events, answers

    wait_until(lambda: stored() == (1, 1) and kiosk.outbox.depth() == 0, 30, "both stored")
    with hub.sessions() as session:
        event = session.scalars(select(Event)).one()
        answer = session.scalars(select(FollowUpAnswer)).one()
        tree = LocationTree.load(session)
        reasons = location_reasons(session, tree=tree, location_id="gate-a", period=Period.last(1))
    assert (answer.event_id, answer.option, answer.language) == (event.event_id, "queue", language)
    assert (event.survey_id, event.survey_version) == (SURVEY.survey_id, SURVEY.version)
    negative = reasons.negative
    assert (negative.presses, negative.followups, negative.answered) == (1, 1, 1)
    assert [(o.option, o.count) for o in negative.options if o.count] == [("queue", 1)]
