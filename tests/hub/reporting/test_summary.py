"""The director's summary against a data set small enough to count by hand."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.hierarchy import LocationTree
from hub.ingest import store
from hub.models import Channel, Task
from hub.reporting.summary import (
    SiteSummary,
    duration,
    signed,
    site_summaries,
    summary_html,
    summary_text,
)
from hub.rollups.buckets import Period
from hub.surveys.store import create_survey
from hub.tasks.records import acknowledge, escalate_overdue, open_by_hand, resolve
from hub.tasks.teams import add_team
from protocol.ids import uuid7
from protocol.messages import Button, FollowUp, PressEvent
from tests.hub.factories import place
from tests.hub.surveys.survey_files import security

DAY = Period(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
VH, H, U, VU = Button.VERY_HAPPY, Button.HAPPY, Button.UNHAPPY, Button.VERY_UNHAPPY


def _presses(location_id: str, buttons: dict[Button, int], day: Period) -> list[PressEvent]:
    """The buttons' presses, a minute apart from 08:00, answering the security survey."""
    order = [button for button, n in buttons.items() for _ in range(n)]
    return [
        PressEvent(
            event_id=str(uuid7()),
            device_id=f"k-{location_id}",
            location_id=location_id,
            seq=i + 1,
            occurred_at=day.since + timedelta(hours=8, minutes=i),
            button=button,
            survey_id="security",
            survey_version=1,
        )
        for i, button in enumerate(order)
    ]


def _reasons(presses: list[PressEvent], options: list[str]) -> list[FollowUp]:
    negative = [p for p in presses if p.button in (U, VU)]
    return [
        FollowUp(
            followup_id=str(uuid7()),
            event_id=pressed.event_id,
            device_id=pressed.device_id,
            location_id=pressed.location_id,
            survey_id="security",
            survey_version=1,
            question="negative",
            option=option,
            language="en",
            answered_at=pressed.occurred_at + timedelta(seconds=5),
        )
        for pressed, option in zip(negative, options, strict=False)
    ]


@pytest.fixture
def day(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """hel (UTC) -> t1 -> a, b, c, d.

    Today: a 20 VH 10 H; b 10 VH 10 H 10 U; c 10 H 10 U 10 VU (ten reasons: six
    cleanliness, three queue, one staff); d 5 VH by phone. The day before: a 30 H.
    Two tasks at c for team cleaning (10 min to acknowledge, 45 to resolve): acknowledged
    after 6 and 20 min, resolved after 30 and 60; the second escalated; one recovered.
    """
    with sessions.begin() as session:
        place(session, "hel", kind="site", time_zone="UTC")
        place(session, "t1", kind="area", parent="hel", time_zone="UTC")
        for touchpoint in "abcd":
            place(session, touchpoint, parent="t1", time_zone="UTC")
        create_survey(session, parsed=security(), by="ana", now=DAY.since - timedelta(days=9))
        at_c = _presses("c", {H: 10, U: 10, VU: 10}, DAY)
        kiosk = [
            *_presses("a", {VH: 20, H: 10}, DAY),
            *_presses("b", {VH: 10, H: 10, U: 10}, DAY),
            *at_c,
            *_presses("a", {H: 30}, DAY.previous()),
        ]
        store.store_events(session, events=kiosk, received_at=DAY.until)
        phone = _presses("d", {VH: 5}, DAY)
        store.store_events(session, events=phone, received_at=DAY.until, channel=Channel.WEB)
        reasons = ["cleanliness"] * 6 + ["queue"] * 3 + ["staff"]
        store.store_followups(session, followups=_reasons(at_c, reasons), received_at=DAY.until)
        add_team(
            session,
            team_id="cleaning",
            name="Cleaning",
            location_id="hel",
            now=DAY.since,
            ack_minutes=10,
            resolve_minutes=45,
        )
        for hour, ack, done, verdict in ((10, 6, 30, "recovered"), (14, 20, 60, "not_recovered")):
            opened = DAY.since + timedelta(hours=hour)
            task_id = open_by_hand(
                session, team_id="cleaning", location_id="c", title="c", by="ana", now=opened
            )
            escalate_overdue(session, now=opened + timedelta(minutes=ack - 1))
            acknowledge(session, task_id=task_id, actor="mia", now=opened + timedelta(minutes=ack))
            resolve(session, task_id=task_id, actor="mia", now=opened + timedelta(minutes=done))
            task = session.get(Task, task_id)
            assert task is not None
            task.recovery = verdict  # as hub.tasks.recovery would judge it
    return sessions


def _summary(sessions: sessionmaker[Session], min_answers: int = 30) -> SiteSummary:
    with sessions() as session:
        tree = LocationTree.load(session)
        [found] = site_summaries(
            session, tree=tree, sites=["hel"], period=DAY, now=DAY.until, min_answers=min_answers
        )
    return found


def test_the_site_its_change_and_its_channels(day: sessionmaker[Session]) -> None:
    summary = _summary(day)
    # 35 VH, 30 H, 20 U, 10 VU: 100 * (105 + 60 + 20) / 285; the day before 30 H: 200/3
    assert summary.score.responses == 95
    assert summary.score.happy_index == 64.9
    assert summary.score.positive_share == round(65 / 95, 4)
    assert summary.score.positive_ci is not None
    assert summary.before.happy_index == 66.7
    assert summary.before.responses == 30
    assert summary.change == -1.8
    assert summary.channels == {"kiosk": 90, "web": 5}


def test_best_and_worst_touchpoints_need_enough_answers(day: sessionmaker[Session]) -> None:
    summary = _summary(day)
    # a 80/90, b 60/90, c 30/90; d (5 answers) is left out
    assert [(t.location, t.happy_index, t.change) for t in summary.best] == [
        ("a", 88.9, 22.2),
        ("b", 66.7, None),
    ]
    assert [(t.location, t.happy_index) for t in summary.worst] == [("c", 33.3)]
    few = _summary(day, min_answers=5)
    assert [t.location for t in few.best] == ["d", "a"]
    assert [t.location for t in few.worst] == ["c", "b"]


def test_top_reasons_after_an_unhappy_answer(day: sessionmaker[Session]) -> None:
    summary = _summary(day)
    assert summary.unhappy_answered == 10
    assert [(r.option, r.count, r.share) for r in summary.reasons] == [
        ("cleanliness", 6, 0.6),
        ("queue", 3, 0.3),
        ("staff", 1, 0.1),
    ]


def test_tasks_how_fast_and_what_recovered(day: sessionmaker[Session]) -> None:
    summary = _summary(day)
    [team] = summary.teams
    assert (team.team_name, team.tasks, team.escalated) == ("Cleaning", 2, 1)
    assert (team.ack_median_min, team.ack_p90_min) == (13, 20)
    assert (team.resolve_median_min, team.resolve_p90_min) == (45, 60)
    assert (team.ack_in_time, team.resolve_in_time) == (0.5, 0.5)
    [place_row] = summary.places
    assert (place_row.location_id, place_row.recovered, place_row.not_recovered) == ("c", 1, 1)
    assert summary.tasks == 2


def test_the_mail_says_it_in_plain_text_and_html(day: sessionmaker[Session]) -> None:
    summary = _summary(day)
    text = summary_text([summary], intro="The daily report is attached.")
    assert text.startswith("The daily report is attached.\n\nHel, Fri 20 Nov 2026\n")
    for line in (
        "Happy Index 65 (-1.8 against the day before, 67)",
        "Positive 68% (95 % CI ",
        "95: 90 kiosk, 5 phone (30 the day before)",
        "Best             A 89; B 67",
        "Worst            C 33",
        "Cleanliness 60%, Queue too long 30%, Staff 10% (of 10 answered)",
        "Cleaning: 2 tasks; acknowledged in 13 min (median), 50% in time; resolved in 45 min, "
        "50% in time; 1 escalated; recovered 1 of 2",
        "After the fix    C (Cleaning): recovered 1 of 2",
    ):
        assert line in text
    html = summary_html([summary], intro="<Report> attached", title="Seed: hel")
    assert html.startswith("<!DOCTYPE html>")
    assert "&lt;Report&gt; attached" in html and "<Report>" not in html
    assert '<th scope="row"' in html and "Cleanliness 60%" in html


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(None, "-"), (0.4, "0 min"), (59.6, "1 h 00 min"), (125, "2 h 05 min"), (3000, "2 d 2 h")],
)
def test_durations_read_at_a_glance(minutes: float | None, shown: str) -> None:
    assert duration(minutes) == shown


def test_a_change_is_signed_and_never_minus_zero() -> None:
    assert [signed(v) for v in (2.44, -0.04, 0.0, -0.9)] == ["+2.4", "0.0", "0.0", "-0.9"]
