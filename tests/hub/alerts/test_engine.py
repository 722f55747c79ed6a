"""The engine over a real database: windows, subtrees, quiet hours, once per condition."""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import list_alerts
from hub.alerts.rules import QuietHours, RuleKind
from hub.config import AlertSettings
from hub.ingest import store
from hub.models import AlertDelivery, CusumState, Device
from hub.surveys.store import create_survey
from protocol.messages import Button, FollowUp
from tests.hub.alerts.conftest import Presser
from tests.hub.factories import NOON, press
from tests.hub.surveys.survey_files import security

MIN = timedelta(minutes=1)
U, H = Button.UNHAPPY, Button.HAPPY


def test_negative_share_fires_once_per_touchpoint_of_the_subtree(
    places: sessionmaker[Session],
    presses: Presser,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
) -> None:
    make_rule(RuleKind.NEGATIVE_SHARE, 50, 15, min_responses=4)
    presses([U, U, H, H], at=[NOON - 10 * MIN, NOON - 5 * MIN, NOON - 4 * MIN, NOON - MIN])
    # gate-b: 3 of 3 unhappy, and a fourth outside the window: too few responses
    presses(
        [U, U, U, U],
        at=[NOON - 20 * MIN, NOON - 3 * MIN, NOON - 2 * MIN, NOON - MIN],
        location_id="gate-b",
    )
    # misuse is not counted
    presses([U, U], at=[NOON - MIN, NOON - MIN], misuse=True, location_id="gate-b")
    engine = engine_for(
        alerts=AlertSettings(webhook_url="http://127.0.0.1:9/hook", webhook_allow_private=True)
    )
    assert len(engine.evaluate(NOON)) == 1
    assert engine.evaluate(NOON + MIN) == []  # still true: no second alert
    with places() as session:
        [alert] = list_alerts(session)
        deliveries = session.scalars(select(AlertDelivery.channel)).all()
    assert (alert.location, alert.kind) == ("gate-a", "negative_share")
    assert alert.message == "50 % negative of 4 in the last 15 min"
    assert sorted(deliveries) == ["mqtt", "webhook"]
    # the window passes, the alert resolves; a new drop opens a new one
    assert engine.evaluate(NOON + 30 * MIN) == []
    presses([U, U, U, U], at=[NOON + 31 * MIN] * 4)
    assert len(engine.evaluate(NOON + 32 * MIN)) == 1


def test_quiet_hours_are_the_location_own(
    presses: Presser, make_rule: Callable[..., int], engine_for: Callable[..., AlertEngine]
) -> None:
    make_rule(
        RuleKind.ANSWER_COUNT,
        2,
        15,
        button=Button.UNHAPPY,
        location_id="gate-a",
        quiet=QuietHours.parse("13:30-14:30"),
    )
    presses([U, U], at=[NOON - MIN, NOON - MIN])
    engine = engine_for()
    assert engine.evaluate(NOON) == []  # 14:00 in Helsinki
    presses([U, U], at=[NOON + 40 * MIN] * 2)
    assert len(engine.evaluate(NOON + 41 * MIN)) == 1  # 14:41


def test_device_health(
    places: sessionmaker[Session],
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
) -> None:
    make_rule(RuleKind.DEVICE_OFFLINE, 30)
    make_rule(RuleKind.CLOCK_SKEW, 60)
    make_rule(RuleKind.OUTBOX, 100)
    with places.begin() as session:
        session.add_all(
            [
                Device(
                    device_id="k1",
                    location_id="gate-a",
                    last_seen_at=NOON - 45 * MIN,
                    outbox_depth=3,
                    clock_offset_s=0.5,
                ),
                Device(
                    device_id="k2",
                    location_id="gate-b",
                    last_seen_at=NOON,
                    outbox_depth=500,
                    clock_offset_s=-300,
                ),
                Device(
                    device_id="k3",
                    location_id="gate-b",
                    last_seen_at=NOON - 99 * MIN,
                    revoked_at=NOON,
                ),
            ]
        )
    assert len(engine_for().evaluate(NOON)) == 3
    with places() as session:
        found = {(a.kind, a.subject, a.location) for a in list_alerts(session)}
    assert found == {
        ("device_offline", "k1", "gate-a"),
        ("outbox", "k2", "gate-b"),
        ("clock_skew", "k2", "gate-b"),
    }


def test_cusum_fires_on_a_run_of_unhappy_presses_and_resumes_after_a_restart(
    places: sessionmaker[Session],
    presses: Presser,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
) -> None:
    rule_id = make_rule(RuleKind.CUSUM, 4, location_id="gate-a")
    # No history: p0 is the fallback 0.2, so 8 unhappy presses in a row reach h = 4.
    presses([U] * 5, at=[NOON - (10 - i) * MIN for i in range(5)])
    assert engine_for().evaluate(NOON) == []
    with places() as session:
        state = session.get(CusumState, (rule_id, "gate-a"))
        assert state is not None
        assert round(state.statistic, 3) == 2.554  # 5 * ln(5/3)
    presses([U] * 3, at=[NOON + i * MIN for i in range(1, 4)])
    assert len(engine_for().evaluate(NOON + 5 * MIN)) == 1  # a new engine, as after a restart
    with places() as session:
        [alert] = list_alerts(session)
    assert alert.kind == "cusum"


def test_an_alert_names_the_windows_top_reasons(
    places: sessionmaker[Session],
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
) -> None:
    make_rule(RuleKind.NEGATIVE_SHARE, 50, 15, min_responses=4)
    unhappy = [
        press(U, at=NOON - n * MIN, location_id="gate-a", seq=n).model_copy(
            update={"survey_id": "security", "survey_version": 1}
        )
        for n in (1, 2, 3, 4)
    ]
    said = ["cleanliness", "queue", "cleanliness", None]  # the last shown, not answered
    with places.begin() as session:
        create_survey(session, parsed=security(), by="test")
        store.store_events(session, events=unhappy, received_at=NOON)
        store.store_followups(
            session,
            followups=[
                FollowUp(
                    followup_id=f"f{n}",
                    event_id=event.event_id,
                    device_id=event.device_id,
                    location_id="gate-a",
                    survey_id="security",
                    survey_version=1,
                    question="negative",
                    option=option,
                    answered_at=event.occurred_at + timedelta(seconds=4),
                )
                for n, (event, option) in enumerate(zip(unhappy, said, strict=True))
            ],
            received_at=NOON,
        )
    engine = engine_for()
    assert len(engine.evaluate(NOON)) == 1
    with places() as session:
        [alert] = list_alerts(session)
    assert alert.message == (
        "100 % negative of 4 in the last 15 min; top reasons: Cleanliness 2, Queue too long 1"
    )
