"""Hub settings: groups named for what they are for, each read from the SEED_HUB_* variables it
always was, and not changed once read."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.config import (
    AlertSettings,
    DeadLetterSettings,
    FleetSettings,
    HubSettings,
    IngestSettings,
    MqttSettings,
    WebSettings,
)

# One or more variables of each group, as an operator's hub.env sets them, and where they land.
VARIABLES = {
    "SEED_HUB_DATA_DIR": ("/srv/seed", lambda s: s.data_dir, Path("/srv/seed")),
    "SEED_HUB_DB": ("sqlite:///x.db", lambda s: s.db, "sqlite:///x.db"),
    "SEED_HUB_BROKER": ("mqtt://broker:1883", lambda s: s.mqtt.broker, "mqtt://broker:1883"),
    "SEED_HUB_MQTT_USERNAME": ("hub-1", lambda s: s.mqtt.username, "hub-1"),
    "SEED_HUB_CLIENT_ID": ("hub-a", lambda s: s.mqtt.client_id, "hub-a"),
    "SEED_HUB_TOPIC_PREFIX": ("site", lambda s: s.mqtt.topic_prefix, "site"),
    "SEED_HUB_REQUIRE_REGISTRATION": ("true", lambda s: s.ingest.require_registration, True),
    "SEED_HUB_INGEST_QUEUE": ("50", lambda s: s.ingest.queue, 50),
    "SEED_HUB_MAX_PAYLOAD_BYTES": ("8192", lambda s: s.ingest.max_payload_bytes, 8192),
    "SEED_HUB_DEAD_LETTER_QUOTA": ("7", lambda s: s.dead_letters.quota, 7),
    "SEED_HUB_DEAD_LETTER_MAX_ROWS": ("70", lambda s: s.dead_letters.max_rows, 70),
    "SEED_HUB_FLEET_DIR": ("/etc/seed/fleet", lambda s: s.fleet_folder, Path("/etc/seed/fleet")),
    "SEED_HUB_KIOSK_BROKER_URL": (
        "mqtts://hub:8883",
        lambda s: s.fleet.kiosk_broker_url,
        "mqtts://hub:8883",
    ),
    "SEED_HUB_CONFIG_PUBLISH_S": ("0.5", lambda s: s.fleet.config_publish_s, 0.5),
    "SEED_HUB_WEB_PORT": ("8443", lambda s: s.web.port, 8443),
    "SEED_HUB_WEB_TRUSTED_PROXIES": ("10.0.0.0/8", lambda s: s.web.trusted_proxies, "10.0.0.0/8"),
    "SEED_HUB_ALERT_WEBHOOK_URL": (
        "https://relay/hook",
        lambda s: s.alerts.webhook_url,
        "https://relay/hook",
    ),
    "SEED_HUB_WEBHOOK_ALLOW_PRIVATE": ("true", lambda s: s.alerts.webhook_allow_private, True),
    "SEED_HUB_ALERT_EMAIL_TO": (
        '["duty@example.org"]',
        lambda s: s.alerts.email_to,
        ["duty@example.org"],
    ),
    "SEED_HUB_REPORT_SCHEDULE": ("true", lambda s: s.reports.schedule, True),
    "SEED_HUB_REPORT_RECIPIENTS": (
        "hel=a@example.org,daily:b@example.org",
        lambda s: s.reports.recipients,
        {"hel": ["a@example.org", "daily:b@example.org"]},
    ),
    "SEED_HUB_SMTP_HOST": ("mail.example.org", lambda s: s.smtp.host, "mail.example.org"),
    "SEED_HUB_SMTP_FROM": ("hub@example.org", lambda s: s.smtp.from_, "hub@example.org"),
    "SEED_HUB_SMTP_STARTTLS": ("false", lambda s: s.smtp.starttls, False),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the variables it sets."""
    for name in list(os.environ):
        if name.startswith("SEED_HUB_"):
            monkeypatch.delenv(name)


def test_every_group_reads_the_variables_it_always_did(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, (value, _read, _expected) in VARIABLES.items():
        monkeypatch.setenv(name, value)
    settings = HubSettings()
    assert {name: read(settings) for name, (_v, read, _e) in VARIABLES.items()} == {
        name: expected for name, (_v, _r, expected) in VARIABLES.items()
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SEED_HUB_WEB_PORT", "eighty", "valid integer"),
        ("SEED_HUB_INGEST_QUEUE", "0", "greater than or equal to 1"),
        ("SEED_HUB_ALERT_MQTT", "maybe", "valid boolean"),
        ("SEED_HUB_ALERT_WEBHOOK_URL", "ftp://relay/hook", "http:// or https://"),
        ("SEED_HUB_BROKER", "http://broker", "mqtt"),
        ("SEED_HUB_SMTP_PASSWORD", "changeme", "placeholder"),
        ("SEED_HUB_DEAD_LETTER_MAX_AGE_DAYS", "0", "greater than 0"),
        ("SEED_HUB_REPORT_RECIPIENTS", "hel=nope", "not an e-mail address"),
        ("SEED_HUB_REPORT_RECIPIENTS", "hel=hourly:a@example.org", "daily:, weekly: or monthly:"),
    ],
)
def test_an_invalid_value_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        HubSettings()
    [error] = refused.value.errors()
    assert error["loc"] == (name,)
    assert message in str(refused.value)


def test_settings_given_by_name_refuse_one_they_do_not_know() -> None:
    with pytest.raises(ValidationError, match="web_port"):
        HubSettings(web_port=8081)
    with pytest.raises(ValidationError, match="prot"):
        WebSettings(prot=8081)


def test_settings_do_not_change_once_made(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path, web=WebSettings(port=0))
    with pytest.raises(ValidationError, match="frozen"):
        settings.web.port = 8081  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        settings.web = WebSettings()  # type: ignore[misc]
    assert settings.web.port == 0


def test_a_group_given_whole_reads_the_rest_of_its_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`web=WebSettings(port=0)` keeps SEED_HUB_WEB_HOST; a variable it overrides is not read."""
    monkeypatch.setenv("SEED_HUB_WEB_HOST", "0.0.0.0")
    monkeypatch.setenv("SEED_HUB_WEB_PORT", "not a port")
    web = HubSettings(web=WebSettings(port=0)).web
    assert (web.host, web.port) == ("0.0.0.0", 0)


def test_workers_sharing_a_subscription_get_a_client_id_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not MqttSettings().client_id.endswith(f"-{os.getpid()}")
    monkeypatch.setenv("SEED_HUB_SHARE_GROUP", "ingest")
    assert MqttSettings().client_id.endswith(f"-{os.getpid()}")
    assert MqttSettings(client_id="hub-w1").client_id == "hub-w1"
    monkeypatch.setenv("SEED_HUB_CLIENT_ID", "hub-w2")
    assert MqttSettings().client_id == "hub-w2"


def test_each_group_names_its_variables() -> None:
    assert WebSettings.variable("port") == "SEED_HUB_WEB_PORT"
    assert IngestSettings.variable("queue") == "SEED_HUB_INGEST_QUEUE"
    assert DeadLetterSettings.variable("max_age_days") == "SEED_HUB_DEAD_LETTER_MAX_AGE_DAYS"
    assert FleetSettings.variable("dir") == "SEED_HUB_FLEET_DIR"
    assert AlertSettings.variable("webhook_allow_private") == "SEED_HUB_WEBHOOK_ALLOW_PRIVATE"
    assert MqttSettings.variable("password") == "SEED_HUB_MQTT_PASSWORD"
