"""The survey on a traveller's phone in real Chromium at 375 x 667: scan to thanks in English
and in Persian (right to left), by keyboard alone, a revoked poster, a second answer flagged
misuse, a double tap and a lost network stored once, and the weight of the first page.

One hub (its web server on a free port, over a migrated SQLite database that holds the
security survey) serves the module; each test answers at a place of its own, with a link of
its own, from one headless Chromium whose cookies are cleared between tests. Every screen is
held to WCAG 2.2 AA by axe-core and must not overflow sideways; full-page screenshots
(`phone-*.png`) land in the module's screenshot folder and in $SEED_SCREENSHOTS_DIR when set.
"""

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, PhoneSettings
from hub.db import make_engine, migrate, session_factory
from hub.ingest.store import add_location
from hub.models import Comment, Event, FollowUpAnswer
from hub.phone.links import issue_link, revoke_link
from hub.surveys.store import assign_survey, create_survey, set_languages
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
from tests.hub.surveys.survey_files import security

pytestmark = pytest.mark.browser

WAIT_S = 15
PAGE_BUDGET_BYTES = 50_000
QUESTION_EN = "How was the security check?"
QUESTION_FA = "بازرسی امنیتی چطور بود؟"
COMMENT = "The queue was slow. Mail me at jane.doe@example.com or call +358 40 123 4567"


@dataclass(frozen=True)
class Served:
    """The hub's web server and its database."""

    url: str
    sessions: sessionmaker[Session]

    def place(self, location_id: str, *, languages: tuple[str, ...] = ("en", "fa")) -> str:
        """A place that asks the security survey in these languages; its live link's token."""
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            add_location(session, location_id=location_id, name="Security T2", time_zone="UTC")
            set_languages(session, location_id=location_id, languages=list(languages))
            assign_survey(session, survey_id="security", location_id=location_id, by="admin")
            return issue_link(session, location_id=location_id, by="admin", now=now).token

    def events(self, location_id: str) -> list[Event]:
        with self.sessions() as session:
            query = select(Event).where(Event.location_id == location_id)
            return list(session.scalars(query.order_by(Event.occurred_at, Event.event_id)))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The hub's web server on a free port, the security survey stored; answers from one
    address are not throttled, as the tests send more a minute than one traveller would."""
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    settings = HubSettings(data_dir=folder, db=url, phone=PhoneSettings(requests_per_minute=10_000))
    with sessions.begin() as session:
        create_survey(session, parsed=security(), by="admin", now=datetime.now(UTC))
    server = WebServer(create_app(settings, sessions), "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started(), "the web server did not start"
    yield Served(base, sessions)
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    with phone_chromium(PHONE) as driver:
        yield driver


@pytest.fixture
def browser(chromium: WebDriver) -> WebDriver:
    """The phone's browser, as a traveller who has not answered here yet meets it."""
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


def _on(driver: WebDriver, step: str) -> None:
    """Wait for a step's page: `question`, `reason`, `comment` or `thanks`."""
    ends = {"question": "", "reason": "/reason", "comment": "/comment", "thanks": "/thanks"}[step]
    token_path = r"/t/[A-Za-z0-9_-]{22}"

    def arrived(d: WebDriver) -> bool:
        path = urlsplit(d.current_url).path
        loaded = d.execute_script("return document.readyState") == "complete"
        return loaded and re.fullmatch(token_path + ends, path) is not None

    _wait(driver, arrived, f"the {step} page")


def _shot(driver: WebDriver, screenshots: Path, name: str, *, console: bool = True) -> None:
    """A full-page screenshot; axe-core finds nothing; nothing overflows sideways; no error
    in the console (unless the step provokes one)."""
    if console:
        errors = [e["message"] for e in browser_log(driver, "browser") if e["level"] == "SEVERE"]
        errors = [e for e in errors if " 410 " not in e]  # the revoked page is one
        assert not errors, f"{name}: errors in the console:\n" + "\n".join(errors)
    full_page_screenshot(driver, screenshots, f"phone-{name}")
    print(f"screenshot: {screenshots / f'phone-{name}.png'}")
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    wide = driver.execute_script(
        "return [...document.querySelectorAll('body *')]"
        ".filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1"
        " || e.getBoundingClientRect().left < -1)"
        ".slice(0, 8).map((e) => e.tagName.toLowerCase() + '.' + e.getAttribute('class'))"
    )
    violations = axe_violations(driver)
    problems = []
    if violations:
        problems.append(f"axe-core finds WCAG 2.2 AA violations:\n{readable(violations)}")
    if widths[0] > widths[1] or wide:
        problems.append(f"{widths[0]} px wide on a {widths[1]} px phone; outside: {wide}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _smiley(driver: WebDriver, button: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'button.smiley[value="{button}"]')


def _option(driver: WebDriver, key: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'button.option[value="{key}"]')


def _answer_to_thanks(
    driver: WebDriver, screenshots: Path, prefix: str, *, option: str, comment: str
) -> None:
    """From the question page: unhappy, an option, a comment, Send; thanks."""
    _smiley(driver, "unhappy").click()
    _on(driver, "reason")
    _shot(driver, screenshots, f"{prefix}-reason")
    _option(driver, option).click()
    _on(driver, "comment")
    driver.find_element(By.ID, "comment").send_keys(comment)
    _shot(driver, screenshots, f"{prefix}-comment")
    driver.find_element(By.CSS_SELECTOR, "button.send").click()
    _on(driver, "thanks")
    _shot(driver, screenshots, f"{prefix}-thanks")


def _one_response(hub: Served, location_id: str) -> tuple[Event, FollowUpAnswer, Comment]:
    """The place's one press, its follow-up and its comment, as the hub stored them."""
    with hub.sessions() as session:
        [event] = session.scalars(select(Event).where(Event.location_id == location_id)).all()
        [reason] = session.scalars(
            select(FollowUpAnswer).where(FollowUpAnswer.location_id == location_id)
        ).all()
        [comment] = session.scalars(select(Comment).where(Comment.location_id == location_id))
        session.expunge_all()
    return event, reason, comment


def test_scan_to_thanks_in_english_stores_the_press_its_reason_and_a_masked_comment(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    token = hub.place("phone-en")
    browser.get(f"{hub.url}/t/{token}")
    _on(browser, "question")
    assert browser.find_element(By.TAG_NAME, "h1").text == QUESTION_EN
    assert browser.execute_script("return document.documentElement.dir") == "ltr"
    assert [s.text for s in browser.find_elements(By.CSS_SELECTOR, "button.smiley")] == [
        *("Very happy", "Happy", "Unhappy", "Very unhappy")
    ]
    _shot(browser, screenshots, "en-question")
    _smiley(browser, "unhappy").click()
    _on(browser, "reason")
    assert browser.find_element(By.TAG_NAME, "h1").text == "What went wrong?"
    assert [o.text for o in browser.find_elements(By.CSS_SELECTOR, "button.option")] == [
        *("Queue too long", "Staff", "Cleanliness", "Skip")
    ]
    _shot(browser, screenshots, "en-reason")
    _option(browser, "queue").click()
    _on(browser, "comment")
    browser.find_element(By.ID, "comment").send_keys(COMMENT)
    _shot(browser, screenshots, "en-comment")
    browser.find_element(By.CSS_SELECTOR, "button.send").click()
    _on(browser, "thanks")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Thank you!"
    _shot(browser, screenshots, "en-thanks")

    event, reason, comment = _one_response(hub, "phone-en")
    assert (event.channel, event.device_id, event.button, event.misuse) == (
        *("web", "web", "unhappy"),
        False,
    )
    assert (event.survey_id, event.survey_version) == ("security", 1)
    assert (reason.event_id, reason.option, reason.question, reason.language) == (
        *(event.event_id, "queue", "negative"),
        "en",
    )
    assert comment.event_id == event.event_id and comment.text is not None
    assert "[email]" in comment.text and "[phone]" in comment.text, comment.text
    assert "jane.doe" not in comment.text and "example.com" not in comment.text
    assert "123 4567" not in comment.text
    assert comment.text.startswith("The queue was slow.")


def test_persian_through_the_language_switch_is_right_to_left(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    token = hub.place("phone-fa")
    browser.get(f"{hub.url}/t/{token}")
    _on(browser, "question")
    links = browser.find_elements(By.CSS_SELECTOR, "nav.languages a")
    assert [(a.text, a.get_attribute("aria-current")) for a in links] == [
        ("English", "true"),
        ("فارسی", None),
    ]
    browser.find_element(By.LINK_TEXT, "فارسی").click()
    _wait(browser, lambda d: d.execute_script("return document.documentElement.lang") == "fa", "fa")
    _on(browser, "question")
    assert browser.execute_script("return document.documentElement.dir") == "rtl"
    assert browser.find_element(By.TAG_NAME, "h1").text == QUESTION_FA
    current = browser.find_element(By.CSS_SELECTOR, 'nav.languages a[aria-current="true"]')
    assert current.text == "فارسی"
    # Right to left: the first smiley (very happy) stands on the right of the second.
    first, second = browser.find_elements(By.CSS_SELECTOR, "button.smiley")[:2]
    assert first.get_attribute("value") == "very_happy"
    assert first.rect["x"] > second.rect["x"]
    _shot(browser, screenshots, "fa-question")
    _answer_to_thanks(browser, screenshots, "fa", option="staff", comment="صف خیلی طولانی بود")
    assert browser.execute_script("return document.documentElement.dir") == "rtl"
    assert "fa" in urlsplit(browser.current_url).query

    event, reason, comment = _one_response(hub, "phone-fa")
    assert (event.channel, event.button, event.misuse) == ("web", "unhappy", False)
    assert (reason.event_id, reason.option, reason.language) == (event.event_id, "staff", "fa")
    assert (comment.event_id, comment.language, comment.text) == (
        *(event.event_id, "fa"),
        "صف خیلی طولانی بود",
    )


def _tab_to(driver: WebDriver, css: str, *, most: int = 20) -> WebElement:
    """Press Tab until the focus is on an element matching `css`; that element."""
    for _ in range(most):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        active = driver.switch_to.active_element
        if driver.execute_script("return arguments[0].matches(arguments[1])", active, css):
            return active
    raise AssertionError(f"{most} presses of Tab never reached {css}")


def test_keyboard_alone_answers_and_the_focus_is_always_visible(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    token = hub.place("phone-keys")
    browser.get(f"{hub.url}/t/{token}")
    _on(browser, "question")
    smiley = _tab_to(browser, 'button.smiley[value="happy"]')
    assert browser.execute_script("return arguments[0].matches(':focus-visible')", smiley)
    outline = browser.execute_script(
        "const s = getComputedStyle(arguments[0]);"
        "return [s.outlineStyle, parseFloat(s.outlineWidth)]",
        smiley,
    )
    assert outline[0] != "none" and outline[1] >= 2, f"the focused smiley's outline: {outline}"
    _shot(browser, screenshots, "keys-question-focus")
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    _on(browser, "reason")
    assert browser.find_element(By.TAG_NAME, "h1").text == "What went well?"
    option = _tab_to(browser, 'button.option[value="friendly"]')
    assert browser.execute_script("return arguments[0].matches(':focus-visible')", option)
    assert browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", option) != (
        "none"
    )
    _shot(browser, screenshots, "keys-reason-focus")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _on(browser, "comment")
    _tab_to(browser, "textarea#comment")
    ActionChains(browser).send_keys("Quick and friendly").perform()
    send = _tab_to(browser, "button.send")
    assert browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", send) != (
        "none"
    )
    _shot(browser, screenshots, "keys-comment-focus")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _on(browser, "thanks")

    event, reason, comment = _one_response(hub, "phone-keys")
    assert (event.button, reason.option, comment.text) == (
        "happy",
        "friendly",
        "Quick and friendly",
    )


def test_a_revoked_link_says_so_kindly_with_410(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    token = hub.place("phone-revoked")
    with hub.sessions.begin() as session:
        revoke_link(session, token=token, by="admin", now=datetime.now(UTC))
    url = f"{hub.url}/t/{token}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=WAIT_S)  # the test's own server
    assert refused.value.code == 410
    browser.get(url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "This code is no longer in use"
    statuses = [
        message["params"]["response"]["status"]
        for entry in browser_log(browser, "performance")
        if (message := json.loads(entry["message"])["message"])["method"]
        == "Network.responseReceived"
        and message["params"]["response"]["url"] == url
    ]
    assert statuses == [410]
    assert not browser.find_elements(By.CSS_SELECTOR, "button.smiley")
    _shot(browser, screenshots, "revoked")
    assert hub.events("phone-revoked") == []


def test_a_second_answer_from_the_same_browser_is_kept_and_flagged_misuse(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    token = hub.place("phone-twice")
    for n, button in enumerate(("very_happy", "very_unhappy")):
        browser.get(f"{hub.url}/t/{token}")
        _on(browser, "question")
        _smiley(browser, button).click()
        _on(browser, "reason")
        _shot(browser, screenshots, f"misuse-reason-{n + 1}")
    events = hub.events("phone-twice")
    assert [(e.button, e.misuse) for e in events] == [
        ("very_happy", False),
        ("very_unhappy", True),
    ]
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert cookies["seed_phone"]["httpOnly"] and cookies["seed_phone"]["path"] == "/t/"


def test_a_double_tap_stores_one_answer(hub: Served, browser: WebDriver) -> None:
    token = hub.place("phone-double")
    browser.get(f"{hub.url}/t/{token}")
    _on(browser, "question")
    ActionChains(browser).double_click(_smiley(browser, "unhappy")).perform()
    _on(browser, "reason")
    time.sleep(0.5)  # a second post, had one left, would have landed by now
    assert [e.button for e in hub.events("phone-double")] == ["unhappy"]
    posts = [
        message["params"]["request"]["url"]
        for entry in browser_log(browser, "performance")
        if (message := json.loads(entry["message"])["message"])["method"]
        == "Network.requestWillBeSent"
        and message["params"]["request"]["method"] == "POST"
    ]
    assert posts == [f"{hub.url}/t/{token}"], "the page sent the answer once"


def _network(driver: WebDriver, *, offline: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def test_an_answer_sent_offline_is_stored_once_when_the_network_is_back(
    hub: Served, browser: WebDriver, screenshots: Path
) -> None:
    token = hub.place("phone-offline")
    browser.get(f"{hub.url}/t/{token}")
    _on(browser, "question")
    status = browser.find_element(By.CSS_SELECTOR, "p.sending")
    offline_text = status.get_attribute("data-offline")
    _network(browser, offline=True)
    try:
        _smiley(browser, "very_unhappy").click()
        _wait(browser, lambda _d: status.text == offline_text, "the offline message")
        time.sleep(2.5)  # a retry or two, all lost
        assert hub.events("phone-offline") == []
        assert urlsplit(browser.current_url).path == f"/t/{token}"
        assert all(
            not b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, "button.smiley")
        )
        _shot(browser, screenshots, "offline", console=False)
    finally:
        _network(browser, offline=False)
    _on(browser, "reason")
    assert browser.find_element(By.TAG_NAME, "h1").text == "What went wrong?"
    time.sleep(0.5)
    assert [(e.button, e.misuse) for e in hub.events("phone-offline")] == [("very_unhappy", False)]
    browser_log(browser, "browser")  # the failed fetches while offline
    _shot(browser, screenshots, "offline-back")


def test_the_question_page_weighs_under_50_kb_and_fetches_only_from_the_hub(
    hub: Served, browser: WebDriver
) -> None:
    token = hub.place("phone-weight")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        browser.get(f"{hub.url}/t/{token}")
        _on(browser, "question")
        time.sleep(0.5)  # the favicon, if the browser asks for it
        messages = [
            json.loads(e["message"])["message"] for e in browser_log(browser, "performance")
        ]
    finally:
        browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    urls = {
        m["params"]["requestId"]: m["params"]["request"]["url"]
        for m in messages
        if m["method"] == "Network.requestWillBeSent"
    }
    urls = {k: u for k, u in urls.items() if not u.startswith(("about:", "data:"))}
    hub_host = urlsplit(hub.url).netloc
    elsewhere = sorted(u for u in urls.values() if urlsplit(u).netloc != hub_host)
    assert not elsewhere, f"requests that left the hub: {elsewhere}"
    sizes = {
        urls[m["params"]["requestId"]]: int(m["params"]["encodedDataLength"])
        for m in messages
        if m["method"] == "Network.loadingFinished" and m["params"]["requestId"] in urls
    }
    paths = {urlsplit(u).path for u in sizes}
    assert {f"/t/{token}", "/static/phone.css", "/static/phone.js"} <= paths, sizes
    weight = sum(sizes.values())
    print(f"question page: {weight} bytes transferred: {sizes}")
    assert weight < PAGE_BUDGET_BYTES, f"{weight} bytes: {sizes}"
