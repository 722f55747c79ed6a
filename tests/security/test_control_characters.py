"""Item 11: a name with CR/LF or another control character is refused at every entry, and one
failing delivery holds back no other (a real SMTP server, a real database)."""

from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule, open_alert
from hub.alerts.rules import Rule, RuleKind
from hub.cli import main
from hub.config import AlertSettings, HubSettings, SmtpSettings
from hub.ingest import store
from hub.models import AlertDelivery, Location
from hub.users import Role, add_user
from hub.web.app import create_app
from protocol.errors import ConfigError, ProtocolError
from protocol.messages import Button, DeviceState, DeviceStatus, decode_status, encode
from protocol.text import for_log
from tests.hub.alerts.conftest import smtp_inbox
from tests.hub.factories import NOON, press
from tests.hub.web.conftest import PASSWORD, sign_in

# Each one makes a name read other than it is: reversed, reordered, split or hidden.
BIDI_AND_INVISIBLE = [
    "Gate \u202eA etaG",
    "Gate\u061cA",
    "Gate\u200bA",
    "Gate\u200fA",
    "Gate\u202aA\u202c",
    "Gate\u2060A",
    "Gate\u2064A",
    "Gate\u2066A\u2069",
    "\ufeffGate A",
]
HOSTILE = [
    "Gate A\r\nBcc: everyone@example.org",
    "Gate\nA",
    "Gate\x00A",
    "Gate\x1b[2JA",
    "Gate\u2028A",
    "Gate\ud800A",
    *BIDI_AND_INVISIBLE,
]
SECOND = timedelta(seconds=1)
INJECTED = "Helsinki\r\nBcc: everyone@example.org"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_location_name_with_a_control_character_is_refused(
    sessions: sessionmaker[Session], name: str
) -> None:
    with sessions.begin() as session, pytest.raises(ConfigError, match="control character"):
        store.add_location(session, location_id="hel", name=name, time_zone="UTC")
    with sessions() as session:
        assert session.get(Location, "hel") is None


@pytest.mark.parametrize("text", BIDI_AND_INVISIBLE)
def test_a_kiosk_status_with_a_bidi_or_invisible_character_is_refused(text: str) -> None:
    status = DeviceStatus(device_id="k1", state=DeviceState.ONLINE, sent_at=NOON)
    hostile = status.model_copy(update={"camera_fault": text})  # as a kiosk could send it
    with pytest.raises(ProtocolError, match="control character U\\+"):
        decode_status(encode(hostile))


def test_logs_show_bidi_and_invisible_characters_as_escapes() -> None:
    assert for_log("Gate \u202eA\u200b\ufeff\u2066") == "Gate \\u202eA\\u200b\\ufeff\\u2066"
    assert (
        for_log("Gate A, Terminal 2 (ÅÄÖ, Καλημέρα, שלום)")
        == "Gate A, Terminal 2 (ÅÄÖ, Καλημέρα, שלום)"
    )


@pytest.mark.parametrize("location_id", ["hel\r\n", "hel/#", "Hel", "hel\x00"])
def test_a_location_id_that_would_break_a_topic_is_refused(
    sessions: sessionmaker[Session], location_id: str
) -> None:
    with sessions.begin() as session, pytest.raises(ConfigError, match="lowercase"):
        store.add_location(session, location_id=location_id, name="Helsinki", time_zone="UTC")


def test_the_cli_refuses_such_a_name(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["locations", "add", "hel", "--name", INJECTED, "--tz", "UTC", "--db", sqlite_url])
    assert "U+000D" in capsys.readouterr().err
    assert main(["locations", "list", "--db", sqlite_url]) == 0
    assert "hel" not in capsys.readouterr().out


def test_the_csv_import_refuses_such_a_name_and_saves_nothing(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(tmp_path))
    rows = tmp_path / "kiosks.csv"
    rows.write_text(
        "device_id,site,area,location,tz,name\r\n"
        "k1,hel,hel-t2,hel-gate,UTC,Gate 1\r\n"
        f'k2,hel,hel-t2,hel-gate-2,UTC,"{INJECTED}"\r\n',
        encoding="utf-8",
    )
    assert main(["devices", "import", str(rows), "--db", sqlite_url]) == 2
    assert "row 3" in capsys.readouterr().err
    assert main(["locations", "list", "--db", sqlite_url]) == 0
    assert capsys.readouterr().out == ""


def test_the_api_refuses_control_characters_in_alert_text(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="hel", name="Helsinki", time_zone="UTC")
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
        row = add_rule(
            session,
            rule=Rule(0, "hel", RuleKind.ANSWER_COUNT, 1, 15, button=Button.UNHAPPY),
            created_by="admin",
            now=NOON,
        )
        rule = Rule.from_row(row)
        alert = open_alert(
            session, rule=rule, subject="hel", location_id="hel", message="m", now=NOON, channels=()
        )
        alert_id = alert.id
    client = TestClient(create_app(HubSettings(data_dir=tmp_path, db="sqlite://"), sessions))
    client.headers["X-CSRF-Token"] = sign_in(client, "admin")
    url = f"/api/alerts/{alert_id}"
    assert client.post(f"{url}/comments", json={"text": "seen\x00"}).status_code == 422
    assert client.post(f"{url}/acknowledge", json={"comment": "a\x1b[2J"}).status_code == 422
    assert client.post(f"{url}/comments", json={"text": "seen,\nsent a cleaner"}).status_code == 200


def _two_sites_with_alerts(sessions: sessionmaker[Session]) -> None:
    """hel, whose name was stored before names were checked, and osl; one rule fires at each."""
    with sessions.begin() as session:
        for location_id in ("hel", "osl"):
            store.add_location(session, location_id=location_id, name="Site", time_zone="UTC")
            rule = Rule(0, location_id, RuleKind.ANSWER_COUNT, 1, 15, button=Button.UNHAPPY)
            add_rule(session, rule=rule, created_by="admin", now=NOON)
        session.execute(update(Location).where(Location.location_id == "hel").values(name=INJECTED))
        store.store_events(
            session,
            events=[
                press(Button.UNHAPPY, device_id=f"k-{site}", location_id=site, at=NOON - SECOND)
                for site in ("hel", "osl")
            ],
            received_at=NOON,
        )


def test_one_failing_delivery_holds_back_no_other(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _two_sites_with_alerts(sessions)
    published: list[str] = []

    def publish(topic: str, _payload: bytes) -> bool:
        if topic.endswith("/hel"):
            raise RuntimeError("the broker connection broke mid-publish")
        published.append(topic)
        return True

    with smtp_inbox() as (port, inbox):
        settings = HubSettings(
            data_dir=tmp_path,
            alerts=AlertSettings(email_to=["duty@example.org"], retry_base_s=5),
            smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False),
        )
        engine = AlertEngine(sessions, settings, publish)
        assert len(engine.evaluate(NOON)) == 2
        assert engine.deliveries.deliver_due(NOON) == 3  # in one tick, all but hel's MQTT
    assert published == ["seed/alerts/osl"]
    with sessions() as session:
        rows = session.scalars(select(AlertDelivery)).all()
        failed = [r for r in rows if r.state != "delivered"]
        [mqtt_hel] = failed
        assert (mqtt_hel.channel, mqtt_hel.state, mqtt_hel.attempts) == ("mqtt", "pending", 1)
        assert mqtt_hel.next_attempt_at == NOON + timedelta(seconds=5)
        assert "RuntimeError" in (mqtt_hel.last_error or "")
    mails = [message_from_bytes(raw) for raw in inbox.messages]
    assert len(mails) == 2
    assert all(_one_subject_no_bcc(mail) for mail in mails)
    assert any("Helsinki\\r\\nBcc" in mail["Subject"] for mail in mails)  # escaped, visible


def _one_subject_no_bcc(mail: Message) -> bool:
    return len(mail.get_all("Subject", [])) == 1 and mail["Bcc"] is None
