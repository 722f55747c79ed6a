"""The washroom scenario, end to end with real parts: travellers turn a washroom sour, the
alert engine opens a task for its cleaning team, the team hears of it on a webhook receiver
and by e-mail (a local SMTP server), the cleaner taps "On my way" and then resolves it with a
note through the signed link in its notice, in real Chromium at 375 x 667; the place
recovers, and the hub's task desk measures the recovery as the hand calculation below says,
and the Tasks API shows the same. When nobody acknowledges, the escalation contact hears of
it once; a link a day old, or bent, opens nothing.

Each test runs one `hub.app.Hub` (a broker, its alert engine and task desk, its web server on
a free port) over the test's database, SQLite then PostgreSQL, on a clock the test moves;
presses go in through the hub's own ingest. Full-page screenshots (`scenario-*.png`) land in
the test's tmp folder and in $SEED_SCREENSHOTS_DIR when set.
"""

import email
import email.policy
import itertools
import re
import socket
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import Session

from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.app import Hub
from hub.config import (
    AlertSettings,
    HubSettings,
    MqttSettings,
    SmtpSettings,
    TaskSettings,
    WebSettings,
)
from hub.ingest.pipeline import Inbound
from hub.ingest.store import add_location
from hub.tasks.desk import DELIVERY_POLL_S
from hub.tasks.links import PREFIX
from hub.tasks.records import HistoryEntry, TaskView, history, task_view
from hub.tasks.teams import Role as TeamRole
from hub.tasks.teams import Route, add_member, add_team
from hub.users import Role, add_user
from protocol.messages import Button, encode
from tests.browser import (
    PHONE,
    axe_violations,
    browser_log,
    full_page_screenshot,
    phone_chromium,
    readable,
)
from tests.helpers import wait_until
from tests.hub.alerts.conftest import Inbox, smtp_inbox
from tests.hub.factories import NOON, press
from tests.hub.tasks.conftest import Receiver, receiver

__all__ = ["receiver"]  # the webhook receiver fixture, shared with the tasks' unit tests

pytestmark = pytest.mark.browser

WAIT_S = 15
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
T0 = NOON
"""When the alert opens: 12:00 UTC, 14:00 in Helsinki."""
WASHROOM = "wc-t2"
KIOSK = "wc-t2-k1"
TEAM = "cleaning-t2"
WINDOW_MIN = 15
ACK_MINUTES = 10
RESOLVE_MINUTES = 30
LINK_HOURS = 24
PASSWORD = "correct horse battery"
TITLE = "75 % negative of 8 in the last 15 min"
"""The alert's message, the task's title."""
NOTE = "Refilled the soap, mopped the floor"
SOUR = [Button.VERY_UNHAPPY, Button.UNHAPPY] * 3 + [Button.HAPPY] * 2
"""6 unhappy of 8: 75 % negative, over the rule's 50 %."""
RECOVERED = [Button.HAPPY, Button.VERY_HAPPY] * 3 + [Button.UNHAPPY, Button.HAPPY]
"""1 unhappy of 8."""
SETTLE_S = 2 * DELIVERY_POLL_S + 0.5
"""Long enough for the desk to check at least once at the clock's new time."""


class Clock:
    """The hub's "now", moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Washroom:
    """A running hub over the test's database, on a clock the test moves; the washroom, its
    cleaning team and the receivers of the team's notices."""

    hub: Hub
    clock: Clock
    url: str
    hooks: Receiver
    inbox: Inbox
    members: dict[str, int]
    """member id by name"""
    seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def travellers(self, buttons: Sequence[Button], *, first: datetime) -> None:
        """Presses on the washroom's kiosk, one a minute from `first`, stored by the hub's
        own ingest in one batch, as its worker stores what arrives together."""
        now = self.clock()
        events = [
            press(
                b, device_id=KIOSK, location_id=WASHROOM, seq=next(self.seq), at=first + n * MINUTE
            )
            for n, b in enumerate(buttons)
        ]
        assert max(e.occurred_at for e in events) < now, "a press from the future"
        stored = self.hub.ingestor.stats.stored
        topic = self.hub.topics.events(KIOSK)
        self.hub.ingestor.process([Inbound(topic, encode(e), now) for e in events])
        assert self.hub.ingestor.stats.stored == stored + len(events)

    def task(self, task_id: int) -> TaskView:
        with self.hub.sessions() as session:
            return task_view(session, task_id=task_id)

    def history(self, task_id: int) -> list[tuple[datetime, str, str, str]]:
        """(when, who, what, note) of each change, oldest first."""
        with self.hub.sessions() as session:
            entries: list[HistoryEntry] = history(session, task_id=task_id)
        return [(e.at, e.actor, e.action, e.note) for e in entries]


def _place(session: Session, location_id: str, name: str, *, kind: str, parent: str | None) -> None:
    location = add_location(
        session, location_id=location_id, name=name, time_zone="Europe/Helsinki"
    )
    location.kind, location.parent_id = kind, parent
    session.flush()


def _seed(session: Session, hooks: Receiver) -> dict[str, int]:
    """Helsinki > Terminal 2 > Washroom T2; a rule for the washroom (50 % negative or more in
    15 minutes, at least 4 answers); Cleaning T2 answering it, with Anna on a webhook, Ben on
    e-mail and the duty manager as its escalation contact; a manager of the site. Returns the
    members' ids by name."""
    earlier = T0 - timedelta(days=1)
    _place(session, "hel", "Helsinki Airport", kind="site", parent=None)
    _place(session, "t2", "Terminal 2", kind="area", parent="hel")
    _place(session, WASHROOM, "Washroom T2", kind="touchpoint", parent="t2")
    rule = Rule(0, WASHROOM, RuleKind.NEGATIVE_SHARE, 50, WINDOW_MIN, min_responses=4)
    rule_id = add_rule(session, rule=rule, created_by="admin", now=earlier).id
    add_team(
        session,
        team_id=TEAM,
        name="Cleaning T2",
        location_id="t2",
        now=earlier,
        ack_minutes=ACK_MINUTES,
        resolve_minutes=RESOLVE_MINUTES,
        rules=[rule_id],
    )
    contacts = (
        ("Anna", Route.WEBHOOK, f"{hooks.url}/anna", TeamRole.MEMBER),
        ("Ben", Route.EMAIL, "ben@example.org", TeamRole.MEMBER),
        ("Duty manager", Route.WEBHOOK, f"{hooks.url}/duty", TeamRole.ESCALATION),
    )
    members = {
        name: add_member(session, team_id=TEAM, name=name, route=route, target=to, role=role).id
        for name, route, to, role in contacts
    }
    add_user(session, username="duty", role=Role.MANAGER, password=PASSWORD, sites=("hel",))
    return members


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def washroom(
    db_url: str, embedded_broker: str, receiver: Receiver, tmp_path: Path
) -> Iterator[Washroom]:
    clock = Clock(T0 - timedelta(hours=1))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with smtp_inbox() as (smtp_port, inbox):
        settings = HubSettings(
            data_dir=tmp_path,
            db=db_url,
            mqtt=MqttSettings(broker=embedded_broker, client_id="scenario-hub"),
            web=WebSettings(port=port),
            # the receiver is on loopback; rules every round of the engine (each second)
            alerts=AlertSettings(interval_s=0.2, mqtt=False, webhook_allow_private=True),
            tasks=TaskSettings(public_url=url, link_hours=LINK_HOURS, interval_s=0.2),
            smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, starttls=False),
        )
        hub = Hub(settings, clock=clock)
        with hub.sessions.begin() as session:
            members = _seed(session, receiver)
        hub.start()
        try:
            assert hub.web is not None and hub.web.wait_started(), "the web server did not start"
            assert hub.web.url == url, f"port {port} was taken as the test started"
            yield Washroom(hub, clock, url, receiver, inbox, members)
        finally:
            hub.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    with phone_chromium(PHONE) as driver:
        yield driver


@pytest.fixture
def browser(chromium: WebDriver) -> WebDriver:
    chromium.delete_all_cookies()
    chromium.get("about:blank")
    browser_log(chromium, "browser")
    return chromium


def _done(driver: WebDriver, done: str) -> None:
    """Wait for the task's page, back from a button, saying `done`."""

    def arrived(d: WebDriver) -> bool:
        loaded = d.execute_script("return document.readyState") == "complete"
        return loaded and parse_qs(urlsplit(d.current_url).query).get("done") == [done]

    WebDriverWait(driver, WAIT_S).until(arrived, f"waited {WAIT_S} s for the page after {done}")


def _shot(driver: WebDriver, folder: Path, name: str, *, refused: bool = False) -> None:
    """A full-page screenshot; axe-core finds nothing against WCAG 2.2 AA; nothing overflows
    sideways; no error in the console but a refused link's own 403."""
    errors = [e["message"] for e in browser_log(driver, "browser") if e["level"] == "SEVERE"]
    errors = [e for e in errors if not (refused and " 403 " in e)]
    assert not errors, f"{name}: errors in the console:\n" + "\n".join(errors)
    full_page_screenshot(driver, folder, f"scenario-{name}")
    print(f"screenshot: {folder / f'scenario-{name}.png'}")
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    violations = axe_violations(driver)
    assert not violations, f"{name}: axe-core finds:\n{readable(violations)}"
    assert widths[0] <= widths[1], f"{name}: {widths[0]} px wide on a {widths[1]} px phone"


def _button(driver: WebDriver, text: str) -> WebElement:
    return driver.find_element(By.XPATH, f'//button[normalize-space()="{text}"]')


def _buttons(driver: WebDriver) -> list[str]:
    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, ".actions button")]


def _text(driver: WebDriver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def _refused(driver: WebDriver, link: str, folder: Path, name: str) -> None:
    """The link opens the kind page that says it no longer works: no task, no button."""
    driver.get(link)
    assert _text(driver, "h1") == "This link no longer works"
    assert not driver.find_elements(By.TAG_NAME, "button")
    _shot(driver, folder, name, refused=True)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    link: str


def _mail(raw: bytes) -> Mail:
    """The e-mail as its reader sees it, and the one link in its text."""
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    [link] = re.findall(r"^http://\S+", body.get_content(), re.MULTILINE)
    return Mail(str(message["To"]), str(message["Subject"]), link)


def _notified(washroom: Washroom) -> tuple[dict[str, Any], Mail]:
    """The task's notices to its members: Anna's webhook post and Ben's e-mail."""
    wait_until(
        lambda: bool(washroom.hooks.at("/anna")) and bool(washroom.inbox.messages),
        WAIT_S,
        "the team's webhook post and e-mail",
    )
    [posted] = washroom.hooks.at("/anna")
    [raw] = washroom.inbox.messages
    task_id = posted.body["task_id"]
    key = f"task-{task_id}-opened-{washroom.members['Anna']}"
    assert posted.headers["Idempotency-Key"] == key
    return posted.body, _mail(raw)


def _tampered(link: str) -> str:
    """The link with one character of its signed value changed."""
    base, token = link.split(PREFIX)
    return base + PREFIX + ("A" if token[0] != "A" else "B") + token[1:]


@dataclass
class Api:
    """The Tasks API over the hub's own server, signed in as the site's manager."""

    client: httpx.Client

    @classmethod
    def sign_in(cls, url: str) -> "Api":
        client = httpx.Client(base_url=url, timeout=WAIT_S)
        form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert form, "the login form has no CSRF token"
        answer = client.post(
            "/login", data={"username": "duty", "password": PASSWORD, "csrf_token": form[1]}
        )
        assert answer.status_code == 303, answer.text
        return cls(client)

    @classmethod
    def task_of(cls, url: str, task_id: int) -> dict[str, Any]:
        """GET /api/tasks/<id>, as the manager."""
        api = cls.sign_in(url)
        try:
            answer = api.client.get(f"/api/tasks/{task_id}")
        finally:
            api.client.close()
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found


def _on_my_way_then_resolved(
    washroom: Washroom, browser: WebDriver, link: str, folder: Path
) -> None:
    """Anna opens her link at 14:04 and taps "On my way"; at 14:12 she resolves the task with
    a note."""
    washroom.clock.now = T0 + 4 * MINUTE
    browser.get(link)
    assert _text(browser, "h1") == TITLE
    assert _text(browser, ".where") == "Washroom T2"
    assert "75% of 8, in the 15 minutes before it opened" in _text(browser, ".facts")
    assert "4 minutes ago" in _text(browser, ".facts")
    _shot(browser, folder, "open")
    _button(browser, "On my way").click()
    _done(browser, "acknowledged")
    assert _text(browser, ".state") == "On the way"
    _shot(browser, folder, "on-the-way")

    washroom.clock.now = T0 + 12 * MINUTE
    browser.find_element(By.ID, "note").send_keys(NOTE)
    _button(browser, "Resolved").click()
    _done(browser, "resolved")
    assert _text(browser, ".done-by").startswith("Resolved by Anna (by link) at ")
    assert NOTE in _text(browser, ".history")
    _shot(browser, folder, "resolved")


def test_a_sour_washroom_is_fixed_through_the_link_and_measured_recovered(
    washroom: Washroom, browser: WebDriver, tmp_path: Path
) -> None:
    # 13:46 to 13:53 in Helsinki, 6 of 8 travellers unhappy; the engine runs its rule at 14:00
    washroom.clock.now = T0
    washroom.travellers(SOUR, first=T0 - 14 * MINUTE)
    posted, mail = _notified(washroom)
    task_id = posted["task_id"]
    assert (posted["reason"], posted["title"], posted["location"]["name"]) == (
        *("opened", TITLE),
        "Washroom T2",
    )
    assert (posted["negative_share"], posted["responses"], posted["window_min"]) == (0.75, 8, 15)
    assert (mail.to, mail.subject) == (
        "ben@example.org",
        f"[Seed task {task_id}] Washroom T2: {TITLE}",
    )
    anna, ben = posted["link"], mail.link
    assert anna.startswith(washroom.url + PREFIX) and ben.startswith(washroom.url + PREFIX)
    assert anna != ben  # each names its own member
    task = washroom.task(task_id)
    assert (task.state, task.opened_at, task.opened_by, task.team_id) == ("open", T0, "hub", TEAM)
    assert task.alert_id is not None and task.window_min == WINDOW_MIN
    with urllib.request.urlopen(ben, timeout=WAIT_S) as page:  # Ben's opens it too, as his
        assert "This link is for Ben" in page.read().decode()

    _on_my_way_then_resolved(washroom, browser, anna, tmp_path)
    assert washroom.history(task_id) == [
        (T0, "hub", "opened", ""),
        (T0 + 4 * MINUTE, "Anna (by link)", "acknowledged", ""),
        (T0 + 12 * MINUTE, "Anna (by link)", "resolved", NOTE),
    ]

    # 14:13 to 14:20: 1 of 8 unhappy; at 14:27 the 15 minutes after the fix have passed
    washroom.clock.now = T0 + 21 * MINUTE
    washroom.travellers(RECOVERED, first=T0 + 13 * MINUTE)
    washroom.clock.now = T0 + 27 * MINUTE
    wait_until(lambda: washroom.task(task_id).recovery is not None, WAIT_S, "the desk to measure")
    task = washroom.task(task_id)
    assert (task.before, task.after, task.recovery) == ((6, 8), (1, 8), "recovered")

    # By hand: the unhappy share before, p1 = 6/8 = 0.75, after, p2 = 1/8 = 0.125; Wilson
    # intervals with z = 1.95996 (z² = 3.84146, z²/8 = 0.48018):
    #   6/8: centre (0.75 + 0.24009) / 1.48018 = 0.66890,
    #        half 1.95996 · √(0.75 · 0.25 / 8 + 3.84146 / 256) / 1.48018 = 0.25962
    #        -> (0.40928, 0.92852)
    #   1/8: centre (0.125 + 0.24009) / 1.48018 = 0.24665,
    #        half 1.95996 · √(0.125 · 0.875 / 8 + 3.84146 / 256) / 1.48018 = 0.22424
    #        -> (0.02242, 0.47089)
    # Newcombe's interval for d = p2 - p1 = -0.625:
    #   low  = d - √((p2 - 0.02242)² + (0.92852 - p1)²) = -0.625 - √(0.01052 + 0.03187) = -0.83090
    #   high = d + √((0.47089 - p2)² + (p1 - 0.40928)²) = -0.625 + √(0.11964 + 0.11609) = -0.13948
    # The whole interval lies below zero: recovered.
    shown = Api.task_of(washroom.url, task_id)
    assert shown["before"] == {"unhappy": 6, "total": 8, "share": 0.75}
    assert shown["after"] == {"unhappy": 1, "total": 8, "share": 0.125}
    change = shown["change"]
    assert change["difference"] == pytest.approx(-0.625)
    assert (change["low"], change["high"]) == (
        pytest.approx(-0.83090, abs=5e-5),
        pytest.approx(-0.13948, abs=5e-5),
    )
    assert shown["recovery"] == "recovered"
    assert (shown["state"], shown["escalated"], shown["alert"]) == (
        "resolved",
        False,
        task.alert_id,
    )
    assert [
        (datetime.fromisoformat(e["at"]), e["actor"], e["action"], e["note"])
        for e in shown["history"]
    ] == washroom.history(task_id)

    # in time all along: nobody else was told
    assert not washroom.hooks.at("/duty")
    assert (len(washroom.hooks.posts), len(washroom.inbox.messages)) == (1, 1)


def test_nobody_acknowledges_so_the_escalation_contact_hears_once_and_old_or_bent_links_fail(
    washroom: Washroom, browser: WebDriver, tmp_path: Path
) -> None:
    washroom.clock.now = T0
    washroom.travellers(SOUR, first=T0 - 14 * MINUTE)
    posted, _ = _notified(washroom)
    task_id, anna = posted["task_id"], posted["link"]

    # within the 10 minutes to acknowledge: nothing more
    washroom.clock.now = T0 + ACK_MINUTES * MINUTE - SECOND
    time.sleep(SETTLE_S)
    assert not washroom.hooks.at("/duty")
    assert washroom.task(task_id).escalated_at is None

    # past them, the duty manager hears of it
    washroom.clock.now = T0 + ACK_MINUTES * MINUTE + SECOND
    wait_until(lambda: bool(washroom.hooks.at("/duty")), WAIT_S, "the escalation notice")
    [escalated] = washroom.hooks.at("/duty")
    key = f"task-{task_id}-escalated-{washroom.members['Duty manager']}"
    assert escalated.headers["Idempotency-Key"] == key
    assert (escalated.body["task_id"], escalated.body["reason"], escalated.body["missed"]) == (
        *(task_id, "escalated"),
        "acknowledge",
    )
    assert escalated.body["member"]["name"] == "Duty manager"
    task = washroom.task(task_id)
    assert (task.state, task.escalated_at) == ("open", T0 + ACK_MINUTES * MINUTE + SECOND)

    # the time to resolve passes too: still one escalation, and Anna's link still works
    washroom.clock.now = T0 + (RESOLVE_MINUTES + 1) * MINUTE
    browser.get(anna)
    assert [s.text for s in browser.find_elements(By.CSS_SELECTOR, ".state")] == [
        "Open",
        "Escalated",
    ]
    assert _buttons(browser) == ["On my way", "Resolved", "Add a note"]
    _shot(browser, tmp_path, "escalated")
    time.sleep(SETTLE_S)
    assert [p.path for p in washroom.hooks.posts] == ["/anna", "/duty"]
    assert len(washroom.inbox.messages) == 1
    assert [(at, action) for at, _who, action, _note in washroom.history(task_id)] == [
        (T0, "opened"),
        (T0 + ACK_MINUTES * MINUTE + SECOND, "escalated"),
    ]

    # a changed link opens nothing, nor does Anna's a day and a minute after it was sent
    _refused(browser, _tampered(anna), tmp_path, "tampered")
    washroom.clock.now = T0 + timedelta(hours=LINK_HOURS, minutes=1)
    _refused(browser, anna, tmp_path, "expired")
    assert washroom.task(task_id).state == "open"
    assert len(washroom.history(task_id)) == 2
