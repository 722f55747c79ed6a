"""scripts/demo.py: the history it seeds and the kiosks it starts (the demo itself is
`make demo`; these check what it feeds the hub, without the processes)."""

import importlib.util
import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from edge.config import load_config
from edge.recorder import MisuseWindow
from edge.simulate import PressSimulator
from hub.db import make_engine, session_factory
from hub.hierarchy import LocationTree
from hub.models import Event, FollowUpAnswer
from hub.reporting.analytics import rolled_up_report
from hub.reporting.reasons import reasons
from hub.rollups.buckets import Period
from hub.rollups.checks import rollup_mismatches
from protocol.messages import PressEvent

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"
NOW = datetime(2026, 12, 1, 5, 49, tzinfo=UTC)
HELSINKI = ZoneInfo("Europe/Helsinki")
POINTS = {"very_happy": 3, "happy": 2, "unhappy": 1, "very_unhappy": 0}


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def presses(demo: ModuleType) -> list[PressEvent]:
    history: list[PressEvent] = demo.history(NOW)
    return history


def local(press: PressEvent) -> datetime:
    return press.occurred_at.astimezone(HELSINKI)


def happy_index(presses: Sequence[PressEvent]) -> float:
    scored = [POINTS[p.button.value] for p in presses if not p.misuse]
    return 100 * sum(scored) / (3 * len(scored))


def test_history_covers_four_weeks_of_every_touchpoint(
    demo: ModuleType, presses: list[PressEvent]
) -> None:
    assert [p.occurred_at for p in presses] == sorted(p.occurred_at for p in presses)
    assert NOW - timedelta(days=28) <= presses[0].occurred_at < NOW - timedelta(days=27, hours=23)
    assert NOW - timedelta(hours=1) < presses[-1].occurred_at < NOW
    per_day: Counter[tuple[str, int]] = Counter(
        (p.location_id, (NOW - p.occurred_at).days) for p in presses
    )
    for location_id in demo.LOCATIONS:
        days = [per_day[location_id, day] for day in range(28)]
        assert min(days) >= 200, (location_id, days)  # hundreds a day per touchpoint
        assert max(days) <= 1000, (location_id, days)
    assert {p.device_id for p in presses} == {k.device_id for k in demo.KIOSKS}


def test_history_follows_an_airports_day_and_week(
    demo: ModuleType, presses: list[PressEvent]
) -> None:
    for location_id in demo.LOCATIONS:
        cells = Counter(
            (local(p).weekday(), local(p).hour) for p in presses if p.location_id == location_id
        )
        # every weekday's day (05..22 local) has presses in every hour: a full heat map
        assert all(cells[day, hour] for day in range(7) for hour in range(5, 23)), location_id
        hours = Counter(local(p).hour for p in presses if p.location_id == location_id)
        assert max(hours, key=hours.__getitem__) in (6, 7, 8)  # the morning peak
        assert hours[7] > 10 * hours[2]  # and quiet nights
    days = Counter(local(p).date() for p in presses)
    fridays = [n for day, n in days.items() if day.weekday() == 4]
    saturdays = [n for day, n in days.items() if day.weekday() == 5]
    assert min(fridays) > max(saturdays)


def test_each_touchpoint_has_a_mood_of_its_own(demo: ModuleType, presses: list[PressEvent]) -> None:
    at: dict[str, list[PressEvent]] = defaultdict(list)
    for p in presses:
        at[p.location_id].append(p)
    security, washroom = at["hel-t2-security"], at["hel-t2-washroom-b"]
    morning_peak = [p for p in security if 5 <= local(p).hour <= 8]
    midday = [p for p in security if 10 <= local(p).hour <= 14]
    assert happy_index(morning_peak) < happy_index(midday) - 15
    morning = [p for p in washroom if 6 <= local(p).hour <= 10]
    evening = [p for p in washroom if 18 <= local(p).hour <= 23]
    assert happy_index(evening) < happy_index(morning) - 10
    assert happy_index(at["hel-gate-31"]) > happy_index(security) + 10
    last_week = [p for p in washroom if NOW - p.occurred_at < timedelta(days=7)]
    first_week = [p for p in washroom if NOW - p.occurred_at > timedelta(days=21)]
    assert happy_index(last_week) < happy_index(first_week)  # a trend to see


def test_history_misuse_is_the_kiosks_own_and_a_few_percent(
    demo: ModuleType, presses: list[PressEvent]
) -> None:
    windows: defaultdict[str, MisuseWindow] = defaultdict(
        lambda: MisuseWindow(demo.RESPONSE_INTERVAL_S)
    )
    flags = [windows[p.device_id].is_misuse(p.occurred_at.timestamp()) for p in presses]
    assert flags == [p.misuse for p in presses]
    # ~40 000 presses, 3 % meant: the sd of the share is ~0.1 point
    assert sum(flags) / len(presses) == pytest.approx(demo.MISUSE_SHARE, abs=0.005)


def test_history_is_deterministic(demo: ModuleType) -> None:
    def key(presses: list[PressEvent]) -> list[tuple[str, datetime, str, bool]]:
        return [(p.device_id, p.occurred_at, p.button.value, p.misuse) for p in presses]

    assert key(demo.history(NOW, days=3)) == key(demo.history(NOW, days=3))
    assert key(demo.history(NOW, days=3)) != key(demo.history(NOW, days=3, seed=16))


def test_history_is_stored_as_the_hub_stores_presses(demo: ModuleType, sqlite_url: str) -> None:
    presses = demo.history(NOW, days=7)
    engine = make_engine(sqlite_url)
    try:
        sessions = session_factory(engine)
        demo.seed_history(sessions, presses)
        with sessions() as session:
            stored = session.scalar(select(func.count()).select_from(Event))
            assert stored == len(presses) > 7 * 1000
            assert rollup_mismatches(session, location_ids=list(demo.LOCATIONS)) == 0
            scores = {s.location: s.as_dict() for s in rolled_up_report(session)}
            gate = [p for p in presses if p.location_id == "hel-gate-31"]
            assert scores["hel-gate-31"]["responses"] == sum(not p.misuse for p in gate)
            assert scores["hel-gate-31"]["misuse"] == sum(p.misuse for p in gate)
            answers = session.scalar(select(func.count()).select_from(FollowUpAnswer))
            assert answers == sum(not p.misuse for p in presses)  # every survey asks both ways
            tree = LocationTree.load(session)
            washroom = reasons(
                session,
                tree=tree,
                location_id="hel-t2-washroom-b",
                period=Period(NOW - timedelta(days=8), NOW),
            ).negative
    finally:
        engine.dispose()
    assert washroom.top[0] == "cleanliness"  # the washroom's travellers mostly say it is dirty
    share = washroom.answered / (washroom.answered + washroom.unanswered)
    assert abs(share - demo.ANSWER_SHARE) < 0.05


def test_the_live_kiosks_press_within_the_rules(
    demo: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosks' configs as the demo writes them, at the demo's speed in its busiest and
    quietest hours: only the simulator's deliberate ~3 % is misuse, and no traveller's
    press comes within the kiosk's response interval (nor the hub's 1 s)."""
    monkeypatch.setattr(demo, "WORKDIR", tmp_path)
    for index, kiosk in enumerate(demo.KIOSKS):
        config = load_config(demo._kiosk_config(kiosk, index, None))
        assert config.response_interval_s == demo.RESPONSE_INTERVAL_S
        for hour in (7, 2):
            start = datetime(2026, 12, 1, hour, tzinfo=HELSINKI)
            simulation = config.simulation.model_copy(update={"speed": demo._speed(hour)})
            simulator = PressSimulator(simulation, {}, response_interval_s=demo.RESPONSE_INTERVAL_S)
            schedule = list(itertools.islice(simulator.schedule(start), 5000))
            window, at, misuse, first_hour = MisuseWindow(config.response_interval_s), 0.0, 0, 0
            for press in schedule:
                at += press.wait_s
                assert window.is_misuse(at) == press.repeat
                misuse += press.repeat
                first_hour += at < 3600
            assert misuse / len(schedule) == pytest.approx(0.03, abs=0.015)
            # the hour's rate (the speed is set for the hour the demo starts in): ~360
            # presses, an sd under 19
            assert first_hour == pytest.approx(demo.PRESSES_PER_KIOSK_PER_S * 3600, rel=0.2)
