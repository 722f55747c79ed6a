"""Hub settings: command-line flags, else SEED_HUB_* environment variables, else defaults."""

import grp
import ipaddress
import json
import os
import re
import socket
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from protocol.broker_url import parse_broker_url
from protocol.secrets import refuse_placeholder


def _mosquitto_group() -> str | None:
    """Debian's Mosquitto runs as group `mosquitto`; elsewhere leave groups alone."""
    try:
        return grp.getgrnam("mosquitto").gr_name
    except KeyError:
        return None


EMAIL = re.compile(r"[^@\s,;=]+@[^@\s,;=]+")


def parse_recipients(text: str) -> dict[str, list[str]]:
    """'hel=a@x.fi,b@x.fi;osl=c@x.no' (or the same as a JSON object) -> site -> addresses."""
    text = text.strip()
    if text.startswith("{"):
        parsed: dict[str, list[str]] = json.loads(text)
        return parsed
    recipients: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        site, equals, addresses = part.partition("=")
        if not equals or not site.strip():
            raise ValueError(f"{part!r}: write site=address,address;site2=address")
        recipients[site.strip()] = [a.strip() for a in addresses.split(",") if a.strip()]
    return recipients


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "seed-hub"


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEED_HUB_", extra="forbid")

    data_dir: Path = Field(default_factory=_default_data_dir)
    db: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    broker: str | None = Field(default=None, description="mqtt(s)://host:port; none = embedded")
    embedded_host: str = "127.0.0.1"
    embedded_port: int = Field(
        default=1883, ge=0, le=65535, description="tried first; a free port is used if it is taken"
    )
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_ca_file: Path | None = None
    client_id: str = Field(default_factory=lambda: f"seed-hub-{socket.gethostname()}")
    share_group: str | None = Field(default=None, description="ingest workers sharing one stream")
    topic_prefix: str = "seed"
    require_registration: bool = False
    max_payload_bytes: int = Field(default=4096, ge=256)
    max_clock_ahead_s: float = Field(default=300, ge=0)
    clock_skew_tolerance_s: float = Field(
        default=60, ge=0, description="kiosk clocks further off than this are corrected"
    )
    batch_size: int = Field(default=500, ge=1)
    ingest_queue: int = Field(
        default=2000,
        ge=1,
        description="messages waiting for ingest; when full the broker holds the rest",
    )
    min_press_interval_s: float = Field(
        default=1.0,
        ge=0,
        description="presses closer than this on one kiosk are kept but left out of scores",
    )
    max_event_age_days: float = Field(
        default=60,
        gt=0,
        description="older presses (more than a kiosk's outbox holds) are kept but left out",
    )
    dead_letter_quota: int = Field(
        default=1000,
        ge=0,
        description="dead letters kept with their payload per device; beyond, only counted",
    )
    dead_letter_max_age_days: float = Field(
        default=30, gt=0, description="dead letters older than this are deleted (counts stay)"
    )
    dead_letter_max_rows: int = Field(
        default=100_000, ge=0, description="the newest this many dead letters are kept at most"
    )
    fleet_dir: Path | None = Field(
        default=None, description="the fleet CA, broker files and service password; data_dir/fleet"
    )
    broker_group: str | None = Field(
        default_factory=_mosquitto_group,
        description="the group Mosquitto runs as, which must read its files (mosquitto)",
    )
    broker_reload_command: str | None = Field(
        default=None, description="run after the broker's files change: systemctl reload mosquitto"
    )
    kiosk_broker_url: str | None = Field(
        default=None, description="where kiosks with passwords reach the broker: mqtts://host:8883"
    )
    kiosk_certificate_broker_url: str | None = Field(
        default=None, description="where kiosks with certificates reach it: mqtts://host:8884"
    )
    config_publish_s: float = Field(
        default=5, gt=0, description="how often the hub looks for remote configs to publish"
    )
    web_host: str = Field(
        default="127.0.0.1", description="where the dashboard listens; 0.0.0.0 behind a TLS proxy"
    )
    web_port: int = Field(
        default=8080, ge=0, le=65535, description="tried first; a free port is used if it is taken"
    )
    web_secret: SecretStr | None = Field(
        default=None, description="signs session cookies; default: a random key in data_dir"
    )
    web_secure_cookies: bool = Field(
        default=False,
        description="mark cookies Secure even over HTTP (they are whenever HTTPS is seen)",
    )
    web_trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="reverse proxies whose X-Forwarded-For/-Proto are believed: "
        "addresses or networks, comma-separated; '' for none",
    )
    web_reuse_port: bool = Field(
        default=False, description="share the web port with sibling processes (SO_REUSEPORT)"
    )
    web_session_hours: float = Field(default=12, gt=0, description="a sign-in lasts this long")
    alert_interval_s: float = Field(default=60, gt=0, description="how often alert rules run")
    alert_mqtt: bool = Field(default=True, description="publish alerts to <prefix>/alerts/<loc>")
    alert_webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="POST each alert as JSON here (http/https); user:password@ is sent as Basic",
    )
    alert_webhook_token: SecretStr | None = Field(
        default=None, description="sent to the webhook as 'Authorization: Bearer <token>'"
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="let webhooks reach loopback, private and link-local addresses (a local relay)",
    )
    alert_email_to: list[str] = Field(
        default_factory=list, description='e-mail each alert to these: ["a@x.org", "b@x.org"]'
    )
    alert_retry_base_s: float = Field(
        default=5, gt=0, description="first retry of a failed delivery; doubles each time"
    )
    alert_retry_max_s: float = Field(default=3600, gt=0, description="longest wait between tries")
    alert_max_attempts: int = Field(default=12, ge=1, description="then a delivery is given up")

    report_schedule: bool = Field(
        default=False,
        description="write each site's weekly PDF after Monday 00:00 local, e-mail it",
    )
    report_recipients: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description="who gets each site's weekly PDF: 'hel=a@x.fi,b@x.fi;osl=c@x.no' or JSON",
    )
    # --- SMTP: shared by alert e-mails and scheduled reports (hub/mailer.py) ---
    smtp_host: str | None = Field(default=None, description="no host: e-mail is not sent")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="seed-hub@localhost", description="the From: address")
    smtp_starttls: bool = Field(default=True, description="upgrade the connection with STARTTLS")
    # --- end of SMTP ---

    @field_validator("broker", "kiosk_broker_url", "kiosk_certificate_broker_url")
    @classmethod
    def _valid_broker(cls, url: str | None) -> str | None:
        if url:
            parse_broker_url(url)
        return url or None

    @field_validator("report_recipients", mode="before")
    @classmethod
    def _recipients(cls, value: object) -> object:
        return parse_recipients(value) if isinstance(value, str) else value

    @field_validator("report_recipients")
    @classmethod
    def _addresses(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for site, addresses in value.items():
            for address in addresses:
                if not EMAIL.fullmatch(address):
                    raise ValueError(f"{address!r} (for site {site!r}) is not an e-mail address")
        return value

    @field_validator("mqtt_password", "smtp_password", "alert_webhook_token")
    @classmethod
    def _real_password(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        refuse_placeholder(
            f"SEED_HUB_{info.field_name}".upper(), password.get_secret_value() if password else None
        )
        return password

    @field_validator("web_trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, proxies: str) -> str:
        for proxy in filter(None, (p.strip() for p in proxies.split(","))):
            if proxy != "*":
                ipaddress.ip_network(proxy, strict=False)  # a ValueError names the bad one
        return proxies

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must start with http:// or https://")
        return url or None

    @model_validator(mode="after")
    def _one_client_id_per_worker(self) -> Self:
        """Workers sharing a subscription need ids of their own, or the broker flaps them."""
        if self.share_group and "client_id" not in self.model_fields_set:
            self.client_id = f"{self.client_id}-{os.getpid()}"
        return self

    @property
    def fleet_folder(self) -> Path:
        return self.fleet_dir or self.data_dir / "fleet"

    @property
    def hub_username(self) -> str:
        return self.mqtt_username or "seed-hub"

    @property
    def web_secret_file(self) -> Path:
        return self.data_dir / "web-secret"

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'hub.sqlite3'}"
