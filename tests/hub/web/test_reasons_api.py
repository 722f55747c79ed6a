"""The reasons in the JSON API: a location's follow-up answers, the overview's top reason."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.surveys.store import create_survey
from protocol.messages import Button
from tests.hub.factories import place
from tests.hub.reporting.test_reasons import Traffic
from tests.hub.surveys.survey_files import security


def test_a_location_and_the_overview_carry_reasons(
    sessions: sessionmaker[Session],
    client_as: Callable[[str | None], TestClient],
) -> None:
    now = datetime.now(UTC)
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue")
    traffic.presses = [
        p.model_copy(update={"occurred_at": now - timedelta(hours=2)}) for p in traffic.presses
    ]
    traffic.followups = [
        f.model_copy(update={"answered_at": now - timedelta(hours=2)}) for f in traffic.followups
    ]
    with sessions.begin() as session:
        place(session, "lane-1", parent="hel", time_zone="UTC")
        create_survey(session, parsed=security(), by="ana", now=now)
        traffic.store(session)
    client = client_as("manager")
    view = client.get("/api/locations/hel?days=7").json()
    assert view["reasons"]["negative"]["top"] == ["queue"]
    assert view["reasons"]["negative"]["options"][0]["ci"] is not None
    rows = {row["location"]: row for row in client.get("/api/overview").json()["locations"]}
    assert rows["hel"]["top_negative_reason"]["option"] == "queue"
    assert rows["hel"]["top_negative_reason"]["label"] == "Queue too long"
