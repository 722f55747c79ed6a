"""The observed side of a location: the faces' emotions beside the buttons, and footfall.

Observed figures are aggregates only: a group shows them with at least k readings counted
(a reading counts when its face was found confidently enough), with their coverage beside
them; below k, neither the figures nor the count of readings. No reading is given away by
differencing either: the figures cover whole UTC hours, a group from which a hidden place's
readings could be worked out is withheld, and the figures are rounded.
"""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.config import CameraSettings
from hub.hierarchy import LocationTree
from hub.ingest import store
from hub.models import Channel
from hub.reporting.analytics import overview, rolled_up_report, subtree_summary
from hub.reporting.reports import location_scores
from hub.rollups.buckets import HOUR, Period
from protocol.emotions import EMOTIC_CATEGORIES
from protocol.messages import Button, ObservedEmotion, PressEvent
from tests.hub.camera.factories import approve_places
from tests.hub.factories import NOON, place, press, status

CAMERA = CameraSettings(min_readings=10, min_face_score=0.7)
DAY = Period(NOON - timedelta(hours=12), NOON + timedelta(hours=12))


def emotion(valence: float, happiness: float, face_score: float = 0.9) -> ObservedEmotion:
    scores = [0.0] * 26
    scores[EMOTIC_CATEGORIES.index("Happiness")] = happiness
    scores[EMOTIC_CATEGORIES.index("Annoyance")] = 1 - happiness
    return ObservedEmotion(
        emotions=scores, vad=[valence, 0.5, 0.5], face_score=face_score, age_s=0.2, faces=1
    )


def read_presses(
    count: int,
    *,
    location_id: str = "gate-a",
    valence: float = 0.7,
    happiness: float = 0.5,
    face_score: float = 0.9,
    first_seq: int = 1,
    device_id: str = "k1",
) -> list[PressEvent]:
    """`count` very happy presses a minute apart, each with the camera's reading."""
    reading = emotion(valence, happiness, face_score)
    return [
        press(
            Button.VERY_HAPPY,
            device_id=device_id,
            location_id=location_id,
            seq=seq,
            at=NOON + timedelta(minutes=seq),
        ).model_copy(update={"emotion": reading})
        for seq in range(first_seq, first_seq + count)
    ]


def stored(sessions: sessionmaker[Session], events: list[PressEvent]) -> None:
    """The events stored, their places approved for cameras first (the hub keeps a reading
    only where a camera may be on)."""
    with sessions.begin() as session:
        approve_places(session, {e.location_id for e in events if e.emotion is not None})
        store.store_events(session, events=events, received_at=NOON)


def report(
    sessions: sessionmaker[Session], camera: CameraSettings = CAMERA, **period: object
) -> dict[str, object]:
    with sessions() as session:
        scores = location_scores(session, camera=camera, **period)  # type: ignore[arg-type]
    (row,) = [s.as_dict() for s in scores if s.location == "gate-a"]
    return row


def test_readings_give_the_observed_index_its_coverage_and_its_gap_to_the_stated_one(
    sessions: sessionmaker[Session],
) -> None:
    events = [
        *read_presses(5, valence=0.9, happiness=0.8),
        *read_presses(5, valence=0.5, happiness=0.4, first_seq=6),
        press(Button.HAPPY, seq=11, at=NOON + timedelta(minutes=11)),  # the camera saw no face
    ]
    stored(sessions, events)
    stored(sessions, events[:1])  # redelivered: once
    row = report(sessions)
    observed = row["observed"]
    assert isinstance(observed, dict)
    assert (observed["readings"], observed["presses"]) == (10, 11)
    assert observed["coverage"] == 0.91, "to whole percent"
    assert observed["observed_index"] == pytest.approx(70.0)
    happy = 100 * (10 * 3 + 2) / 33
    assert observed["gap"] == pytest.approx(round(70.0 - round(happy, 1), 1), abs=0.05)
    assert list(observed["emotions"])[:2] == ["Happiness", "Annoyance"]
    assert observed["emotions"]["Happiness"] == pytest.approx(0.6)
    assert observed["vad"] == pytest.approx([0.7, 0.5, 0.5])
    assert row["observed_suppressed"] is False
    later = report(sessions, since=NOON + timedelta(hours=1))
    assert (later["observed"], later["observed_suppressed"]) == (None, False)


def test_nine_readings_show_nothing_of_them_and_ten_show_the_figures(
    sessions: sessionmaker[Session],
) -> None:
    stored(sessions, read_presses(9))
    row = report(sessions)
    assert row["observed"] is None
    assert row["observed_suppressed"] is True
    assert row["observed_min_readings"] == 10

    stored(sessions, read_presses(1, first_seq=10))
    row = report(sessions)
    observed = row["observed"]
    assert isinstance(observed, dict)
    assert (observed["readings"], observed["coverage"]) == (10, 1.0)
    assert observed["observed_index"] == pytest.approx(70.0)
    assert row["observed_suppressed"] is False


def test_readings_whose_face_was_found_with_little_confidence_are_not_counted(
    sessions: sessionmaker[Session],
) -> None:
    unsure = read_presses(5, valence=0.0, face_score=0.69, first_seq=100)
    stored(sessions, [*read_presses(9, valence=0.8), *unsure])
    row = report(sessions)
    assert row["observed"] is None, "the unsure readings must not make up the nine to ten"
    assert row["observed_suppressed"] is True

    stored(sessions, read_presses(1, valence=0.8, face_score=0.7, first_seq=10))
    observed = report(sessions)["observed"]
    assert isinstance(observed, dict)
    assert observed["readings"] == 10
    assert observed["observed_index"] == pytest.approx(80.0), "unsure readings left out"
    assert (observed["presses"], observed["coverage"]) == (15, 0.67)

    lenient = CameraSettings(min_readings=10, min_face_score=0.0)
    observed = report(sessions, lenient)["observed"]
    assert isinstance(observed, dict)
    assert (observed["readings"], observed["coverage"]) == (15, 1.0)


def test_coverage_counts_kiosk_presses_not_phone_answers(
    sessions: sessionmaker[Session],
) -> None:
    stored(sessions, [*read_presses(10), press(seq=11, at=NOON + timedelta(minutes=11))])
    phone = [press(device_id="web", seq=n, at=NOON + timedelta(minutes=n)) for n in range(1, 6)]
    with sessions.begin() as session:
        store.store_events(session, events=phone, received_at=NOON, channel=Channel.WEB)
    row = report(sessions)
    observed = row["observed"]
    assert isinstance(observed, dict)
    assert row["responses"] == 16
    assert (observed["readings"], observed["presses"]) == (10, 11)


def test_a_site_shows_the_readings_of_its_touchpoints_that_each_have_too_few(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        for gate in ("gate-1", "gate-2", "gate-3"):
            place(session, gate, parent="hel")
    stored(
        sessions,
        [
            *read_presses(6, location_id="gate-1", valence=0.9),
            *read_presses(6, location_id="gate-2", valence=0.5, first_seq=7),
            *[  # no camera at gate 3: its presses are not the cameras' to cover
                press(location_id="gate-3", device_id="k3", seq=n, at=NOON) for n in range(1, 5)
            ],
        ],
    )
    with sessions() as session:
        tree = LocationTree.load(session)
        site = subtree_summary(session, tree=tree, location_id="hel", period=DAY, camera=CAMERA)
        gate_1 = subtree_summary(
            session, tree=tree, location_id="gate-1", period=DAY, camera=CAMERA
        )
        rows = {
            row.location: row
            for row in overview(
                session, tree=tree, visible=set(tree.places), period=DAY, camera=CAMERA
            ).locations
        }
        reported = {s.location: s.as_dict() for s in rolled_up_report(session, camera=CAMERA)}

    assert site.observed is not None
    assert (site.observed.readings, site.observed.presses, site.observed.coverage) == (12, 12, 1)
    assert site.observed.observed_index == pytest.approx(70.0)
    assert (gate_1.observed, gate_1.observed_suppressed) == (None, True)
    assert gate_1.observed_min_readings == 10

    assert rows["hel"].observed_index == pytest.approx(70.0)
    assert (rows["hel"].observed_coverage, rows["hel"].observed_suppressed) == (1.0, False)
    for touchpoint in ("gate-1", "gate-2"):
        shown = rows[touchpoint]
        assert (shown.observed_index, shown.observed_coverage) == (None, None)
        assert shown.observed_suppressed is True
    assert (rows["gate-3"].observed_index, rows["gate-3"].observed_suppressed) == (None, False)

    hel = reported["hel"]["observed"]
    assert isinstance(hel, dict) and hel["readings"] == 12
    assert reported["gate-1"]["observed"] is None
    assert reported["gate-1"]["observed_suppressed"] is True


def test_the_number_of_readings_a_group_needs_is_the_settings(
    sessions: sessionmaker[Session],
) -> None:
    stored(sessions, read_presses(6))
    five = CameraSettings(min_readings=5)
    observed = report(sessions, five)["observed"]
    assert isinstance(observed, dict) and observed["readings"] == 6
    assert report(sessions, five)["observed_min_readings"] == 5
    assert report(sessions)["observed"] is None
    with sessions() as session:
        tree = LocationTree.load(session)
        shown = overview(session, tree=tree, visible={"gate-a"}, period=DAY, camera=five)
    assert shown.observed_min_readings == 5
    assert shown.locations[0].observed_index == pytest.approx(70.0)


def test_footfall_adds_up_across_statuses_and_kiosk_restarts_into_a_response_rate(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
        store.store_events(session, events=[press(), press()], received_at=NOON)
        for minute, total in enumerate((10, 25, 4), start=1):  # 10, +15, then a restart: +4
            live = status().model_copy(update={"passersby_total": total})
            at = NOON + timedelta(minutes=minute)
            store.apply_status(session, status=live, received_at=at)
    row = report(sessions)
    assert row["passersby"] == 29
    assert row["response_rate"] == pytest.approx(2 / 29, abs=1e-4)


def test_periods_a_few_minutes_apart_read_the_same_whole_hours(
    sessions: sessionmaker[Session],
) -> None:
    late = read_presses(1, valence=0.1, first_seq=90)  # 13:30, in the period's last part-hour
    stored(sessions, [*read_presses(10), *late])  # 12:01 to 12:10
    shorter = report(sessions, since=NOON, until=NOON + timedelta(minutes=89))
    longer = report(sessions, since=NOON, until=NOON + timedelta(minutes=91))
    assert (shorter["responses"], longer["responses"]) == (10, 11), "the buttons: exact"
    assert longer["observed"] == shorter["observed"], "13:30's reading must not show"
    observed = longer["observed"]
    assert isinstance(observed, dict)
    assert (observed["readings"], observed["presses"], observed["coverage"]) == (10, 10, 1.0)

    later = report(sessions, since=NOON + timedelta(minutes=5, seconds=30), until=NOON + HOUR)
    earlier = report(sessions, since=NOON + timedelta(minutes=4, seconds=30), until=NOON + HOUR)
    assert (later["responses"], earlier["responses"]) == (5, 6)
    assert later["observed"] == earlier["observed"] == shorter["observed"], "from 12:00"


def test_a_reading_added_to_a_group_moves_none_of_its_rounded_figures(
    sessions: sessionmaker[Session],
) -> None:
    stored(sessions, read_presses(10, valence=0.7, happiness=0.5))
    before = report(sessions)["observed"]
    stored(sessions, read_presses(1, valence=0.75, happiness=0.55, first_seq=11))
    after = report(sessions)["observed"]
    assert isinstance(before, dict) and isinstance(after, dict)
    assert (before["readings"], after["readings"]) == (10, 11)
    assert before["observed_index"] == after["observed_index"] == 70.0
    assert before["vad"] == after["vad"] == [0.7, 0.5, 0.5]
    assert before["emotions"] == after["emotions"]
    assert after["emotions"]["Happiness"] == 0.5


def shown(sessions: sessionmaker[Session]) -> dict[str, int | None]:
    """Each place's readings as its summary shows them (None: not shown), once the overview and
    `seed-hub report` are seen to show and hide the same places."""
    with sessions() as session:
        tree = LocationTree.load(session)
        summaries = {
            location_id: subtree_summary(
                session, tree=tree, location_id=location_id, period=DAY, camera=CAMERA
            )
            for location_id in tree.places
        }
        rows = overview(session, tree=tree, visible=set(tree.places), period=DAY, camera=CAMERA)
        reported = rolled_up_report(session, since=DAY.since, until=DAY.until, camera=CAMERA)
    readings = {
        i: None if s.observed is None else s.observed.readings for i, s in summaries.items()
    }
    hidden = {i: s.observed_suppressed for i, s in summaries.items()}
    assert {r.location: r.observed_suppressed for r in rows.locations} == hidden
    assert {s.location: s.observed_suppressed for s in reported} == hidden
    assert {r.location: r.observed_index is not None for r in rows.locations} == {
        i: n is not None for i, n in readings.items()
    }
    assert {
        s.location: None if s.observed_shown is None else s.observed_shown.readings
        for s in reported
    } == readings
    return readings


def tree_of(sessions: sessionmaker[Session], parents: dict[str, tuple[str, str | None]]) -> None:
    """location -> (kind, parent), parents first."""
    with sessions.begin() as session:
        for location_id, (kind, parent) in parents.items():
            place(session, location_id, kind=kind, parent=parent)


def readings_at(location_id: str, count: int, device: int) -> list[PressEvent]:
    return read_presses(count, location_id=location_id, device_id=f"k{device}")


def test_a_site_is_withheld_where_its_shown_touchpoints_would_leave_one_reading_over(
    sessions: sessionmaker[Session],
) -> None:
    tree_of(
        sessions,
        {"hel": ("site", None), **{g: ("touchpoint", "hel") for g in ("g-1", "g-2", "g-3")}},
    )
    stored(sessions, [*readings_at("g-1", 12, 1), *readings_at("g-2", 1, 2)])
    # hel's 13 less g-1's 12 would be g-2's one reading
    assert shown(sessions) == {"hel": None, "g-1": 12, "g-2": None, "g-3": None}

    more = read_presses(4, location_id="g-2", device_id="k2", first_seq=2)
    stored(sessions, [*more, *readings_at("g-3", 6, 3)])
    # hel less g-1 is now g-2's five and g-3's six together: eleven readings of two places
    assert shown(sessions) == {"hel": 23, "g-1": 12, "g-2": None, "g-3": None}


def test_withholding_climbs_the_tree_with_the_readings_not_shown_beneath(
    sessions: sessionmaker[Session],
) -> None:
    tree_of(
        sessions,
        {
            "hel": ("site", None),
            "area-a": ("area", "hel"),
            "area-b": ("area", "hel"),
            "t-1": ("touchpoint", "area-a"),
            "t-2": ("touchpoint", "area-a"),
            "t-3": ("touchpoint", "area-b"),
        },
    )
    stored(sessions, [*readings_at("t-1", 12, 1), *readings_at("t-2", 3, 2)])
    stored(sessions, readings_at("t-3", 12, 3))
    # Shown, hel (27) less area-b (12) would be area-a (15), less t-1 (12) t-2's three.
    assert shown(sessions) == {
        "hel": None,
        "area-a": None,
        "area-b": 12,
        "t-1": 12,
        "t-2": None,
        "t-3": 12,
    }

    with sessions.begin() as session:
        place(session, "area-c", kind="area", parent="hel")
        place(session, "t-4", parent="area-c")
    stored(sessions, readings_at("t-4", 8, 4))
    # hel less what is shown beneath it: t-2's three and area-c's eight
    assert shown(sessions)["hel"] == 35


def test_a_place_shows_its_one_read_childs_figures_but_not_its_own_few_beside_them(
    sessions: sessionmaker[Session],
) -> None:
    tree_of(sessions, {"hel": ("site", None), "g-1": ("touchpoint", "hel")})
    stored(sessions, readings_at("g-1", 12, 1))
    assert shown(sessions) == {"hel": 12, "g-1": 12}

    stored(sessions, readings_at("hel", 2, 2))  # a kiosk at the site itself
    assert shown(sessions) == {"hel": None, "g-1": 12}
