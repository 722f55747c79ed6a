"""Reasons given after a press: counts, shares and intervals per question, split by survey
version, their trend, and each place's top negative reason; in the API and the report."""

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.hierarchy import LocationTree
from hub.reporting.reasons import reasons, top_negative_reasons
from hub.reporting.scores import wilson_interval
from hub.surveys.store import create_survey
from protocol.messages import Button
from tests.hub.factories import place
from tests.hub.reporting.followup_data import DAY, PERIOD, Traffic
from tests.hub.surveys.survey_files import reworded, security


def _places(session: Session) -> None:
    place(session, "hel", kind="site", time_zone="UTC")
    place(session, "lane-1", parent="hel", time_zone="UTC")
    place(session, "lane-2", parent="hel", time_zone="UTC")
    create_survey(session, parsed=security(), by="ana", now=DAY)


def test_counts_shares_and_intervals_per_question(sessions: sessionmaker[Session]) -> None:
    traffic = Traffic()
    for option in ("queue", "queue", "queue", "staff", None):
        traffic.add(Button.UNHAPPY, option)
    traffic.add(Button.VERY_UNHAPPY, "cleanliness")
    traffic.add(Button.VERY_UNHAPPY)  # no follow-up shown
    traffic.add(Button.UNHAPPY, "staff", misuse=True)  # out of scores, out of reasons
    traffic.add(Button.HAPPY, "fast", location_id="lane-2")
    traffic.add(Button.VERY_HAPPY, location_id="lane-2")
    with sessions.begin() as session:
        _places(session)
        traffic.store(session)
    with sessions() as session:
        tree = LocationTree.load(session)
        found = reasons(session, tree=tree, location_id="hel", period=PERIOD)
        lane_2 = reasons(session, tree=tree, location_id="lane-2", period=PERIOD)
    negative = found.negative
    assert (negative.presses, negative.followups, negative.answered, negative.unanswered) == (
        7,
        6,
        5,
        1,
    )
    assert negative.followup_share == round(6 / 7, 4)
    low, high = wilson_interval(6, 7) or (0, 0)
    assert negative.followup_ci == (round(low, 4), round(high, 4))
    assert negative.top == ["queue", "cleanliness", "staff"]
    by_option = {o.option: o for o in negative.options}
    assert {k: o.count for k, o in by_option.items()} == {"queue": 3, "staff": 1, "cleanliness": 1}
    assert by_option["queue"].share == 0.6
    assert by_option["queue"].label == "Queue too long"
    low, high = wilson_interval(3, 5) or (0, 0)
    assert by_option["queue"].ci == (round(low, 4), round(high, 4))
    assert negative.by_version == []  # one version: nothing to split
    assert found.positive.presses == 2 and found.positive.top == ["fast"]
    fast = {o.option: o for o in found.positive.options}
    assert fast["friendly"].count == 0 and fast["friendly"].share == 0.0  # offered, not chosen
    assert lane_2.negative.presses == 0 and lane_2.negative.followup_share is None


def test_answers_to_two_versions_are_split_and_the_trend_marks_the_change(
    sessions: sessionmaker[Session],
) -> None:
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue", day=0)
    traffic.add(Button.UNHAPPY, "queue", day=0)
    traffic.add(Button.UNHAPPY, "staff", day=1, version=2)
    with sessions.begin() as session:
        _places(session)
        create_survey(session, parsed=reworded(), by="ana", now=DAY + timedelta(days=1))
        traffic.store(session)
    with sessions() as session:
        found = reasons(session, tree=LocationTree.load(session), location_id="hel", period=PERIOD)
    negative = found.negative
    assert [(v.survey_version, v.answered) for v in negative.by_version] == [(1, 2), (2, 1)]
    v2 = {o.option: o for o in negative.by_version[1].options}
    assert v2["queue"].label == "Waited too long" and v2["staff"].share == 1.0
    assert [(p.start.day, p.versions, p.question_changed) for p in negative.trend] == [
        (20, ["security:1"], False),
        (21, ["security:2"], True),
    ]


def test_each_place_s_top_negative_reason(sessions: sessionmaker[Session]) -> None:
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue")
    traffic.add(Button.UNHAPPY, "staff", location_id="lane-2")
    traffic.add(Button.UNHAPPY, "staff", location_id="lane-2")
    traffic.add(Button.HAPPY, "fast", location_id="lane-2")
    with sessions.begin() as session:
        _places(session)
        traffic.store(session)
    with sessions() as session:
        tree = LocationTree.load(session)
        tops = top_negative_reasons(session, tree=tree, visible=set(tree.places), period=PERIOD)
        only_lane_1 = top_negative_reasons(session, tree=tree, visible={"lane-1"}, period=PERIOD)
    assert {place: (t.option, t.count, t.share) for place, t in tops.items()} == {
        "hel": ("staff", 2, round(2 / 3, 4)),
        "lane-1": ("queue", 1, 1.0),
        "lane-2": ("staff", 2, 1.0),
    }
    assert tops["hel"].label == "Staff"
    assert set(only_lane_1) == {"lane-1"}


def test_report_json_carries_each_place_s_reasons(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue")
    traffic.add(Button.HAPPY, None)
    with session_factory(make_engine(sqlite_url)).begin() as session:
        _places(session)
        traffic.store(session)
    assert main(["report", "--json", "--db", sqlite_url]) == 0
    rows = {row["location"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["hel"]["reasons"]["negative"]["top"] == ["queue"]
    assert rows["lane-1"]["reasons"]["positive"]["unanswered"] == 1
