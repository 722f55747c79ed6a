"""Hub settings: command-line flags, else SEED_HUB_* environment variables, else defaults.

They come in groups named for what they are for (`settings.web.port`, `settings.smtp.host`),
each read from the variables it always was (SEED_HUB_WEB_PORT, SEED_HUB_SMTP_HOST), and none
changes once read: an override builds new settings. A refused value names its variable.
"""

import grp
import ipaddress
import json
import os
import re
import socket
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasGenerator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from protocol.broker_url import parse_broker_url
from protocol.errors import ConfigError
from protocol.secrets import refuse_placeholder


def _mosquitto_group() -> str | None:
    """Debian's Mosquitto runs as group `mosquitto`; elsewhere leave groups alone."""
    try:
        return grp.getgrnam("mosquitto").gr_name
    except KeyError:
        return None


EMAIL = re.compile(r"[^@\s,;=]+@[^@\s,;=]+")
Cadence = Literal["daily", "weekly", "monthly"]
CADENCES: tuple[Cadence, ...] = ("daily", "weekly", "monthly")
RECIPIENTS_FORM = (
    "write site=address,daily:address,monthly:address;site2=address (weekly without a word "
    'before it), or JSON: {"hel": ["a@x.org", "daily:b@x.org"]} or '
    '{"hel": {"daily": ["b@x.org"], "weekly": ["a@x.org"]}}'
)


def parse_recipients(text: str) -> dict[str, list[str]]:
    """'hel=a@x.fi,daily:b@x.fi;osl=c@x.no' (or the same as JSON) -> site -> entries."""
    text = text.strip()
    if text.startswith("{"):
        try:
            parsed: object = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc}); {RECIPIENTS_FORM}") from exc
        return recipient_entries(parsed)
    recipients: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        site, equals, addresses = part.partition("=")
        if not equals or not site.strip():
            raise ValueError(f"{part!r}: {RECIPIENTS_FORM}")
        recipients[site.strip()] = [a.strip() for a in addresses.split(",") if a.strip()]
    return recipients


def recipient_entries(value: object) -> dict[str, list[str]]:
    """Site -> entries ('a@x.org' weekly, 'daily:b@x.org'), from a list of entries or a
    mapping of cadence to addresses per site."""
    if not isinstance(value, dict):
        raise ValueError(f"a mapping of site to recipients is wanted; {RECIPIENTS_FORM}")
    entries: dict[str, list[str]] = {}
    for site, given in value.items():
        listed = given
        if isinstance(given, dict):
            listed = [
                address if cadence == "weekly" else f"{cadence}:{address}"
                for cadence, addresses in given.items()
                for address in _strings(site, addresses)
            ]
        entries[str(site)] = _strings(site, listed)
    return entries


def _strings(site: object, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"site {site!r}: a list of addresses is wanted; {RECIPIENTS_FORM}")
    return [v.strip() for v in value]


def recipient(entry: str) -> tuple[Cadence, str]:
    """'daily:b@x.org' -> ('daily', 'b@x.org'); an address alone is weekly."""
    word, colon, address = entry.partition(":")
    if not colon:
        return "weekly", entry
    for cadence in CADENCES:
        if word.strip().lower() == cadence:
            return cadence, address.strip()
    raise ValueError(
        f"{entry!r}: write daily:, weekly: or monthly: before an address, or the address alone"
    )


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "seed-hub"


def _default_client_id() -> str:
    return f"seed-hub-{socket.gethostname()}"


def _variables(prefix: str) -> AliasGenerator:
    """Each setting is read from the variable `prefix` + its name, and its errors name that."""
    return AliasGenerator(validation_alias=lambda name: f"{prefix}{name}".upper())


class SettingsGroup(BaseSettings):
    """Settings read once from SEED_HUB_* variables (or given by name) and not changed after."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=_variables("SEED_HUB_")
    )

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable a field is read from: SEED_HUB_WEB_PORT for WebSettings.port."""
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else field

    @classmethod
    def given(cls, data: dict[str, object], field: str) -> object:
        """A field's value in a model_validator(mode="before")'s input, by name or variable."""
        return data.get(field, data.get(cls.variable(field)))


def _valid_broker(url: str | None) -> str | None:
    if url:
        try:
            parse_broker_url(url)
        except ConfigError as exc:  # a ValueError, so that the refusal names the variable
            raise ValueError(str(exc)) from exc
    return url or None


BrokerUrl = Annotated[str | None, AfterValidator(_valid_broker)]


def _real_secret(
    group: type[SettingsGroup], secret: SecretStr | None, info: ValidationInfo
) -> SecretStr | None:
    name = group.variable(info.field_name or "")
    refuse_placeholder(name, secret.get_secret_value() if secret else None)
    return secret


class MqttSettings(SettingsGroup):
    """How the hub reaches the broker (or runs its own)."""

    broker: BrokerUrl = Field(default=None, description="mqtt(s)://host:port; none = embedded")
    embedded_host: str = "127.0.0.1"
    embedded_port: int = Field(
        default=1883, ge=0, le=65535, description="tried first; a free port is used if it is taken"
    )
    username: str | None = Field(default=None, validation_alias="SEED_HUB_MQTT_USERNAME")
    password: SecretStr | None = Field(default=None, validation_alias="SEED_HUB_MQTT_PASSWORD")
    ca_file: Path | None = Field(default=None, validation_alias="SEED_HUB_MQTT_CA_FILE")
    client_id: str = Field(default_factory=_default_client_id)
    share_group: str | None = Field(default=None, description="ingest workers sharing one stream")
    topic_prefix: str = "seed"

    @field_validator("password")
    @classmethod
    def _real_password(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        return _real_secret(cls, password, info)

    @model_validator(mode="before")
    @classmethod
    def _one_client_id_per_worker(cls, data: object) -> object:
        """Workers sharing a subscription need ids of their own, or the broker flaps them."""
        if not isinstance(data, dict) or cls.given(data, "client_id") is not None:
            return data
        if not cls.given(data, "share_group"):
            return data
        return {**data, "client_id": f"{_default_client_id()}-{os.getpid()}"}

    @property
    def hub_username(self) -> str:
        return self.username or "seed-hub"


class IngestSettings(SettingsGroup):
    """What ingest accepts and how much it holds."""

    require_registration: bool = False
    max_payload_bytes: int = Field(default=4096, ge=256)
    max_clock_ahead_s: float = Field(default=300, ge=0)
    clock_skew_tolerance_s: float = Field(
        default=60, ge=0, description="kiosk clocks further off than this are corrected"
    )
    batch_size: int = Field(default=500, ge=1)
    queue: int = Field(
        default=2000,
        ge=1,
        validation_alias="SEED_HUB_INGEST_QUEUE",
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


class DeadLetterSettings(SettingsGroup):
    """How many refused messages are kept, and for how long."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_DEAD_LETTER_"))

    quota: int = Field(
        default=1000,
        ge=0,
        description="dead letters kept with their payload per device; beyond, only counted",
    )
    max_age_days: float = Field(
        default=30, gt=0, description="dead letters older than this are deleted (counts stay)"
    )
    max_rows: int = Field(
        default=100_000, ge=0, description="the newest this many dead letters are kept at most"
    )


class FleetSettings(SettingsGroup):
    """The fleet's CA and broker files, and where kiosks reach the broker."""

    dir: Path | None = Field(
        default=None,
        validation_alias="SEED_HUB_FLEET_DIR",
        description="the fleet CA, broker files and service password; data_dir/fleet",
    )
    broker_group: str | None = Field(
        default_factory=_mosquitto_group,
        description="the group Mosquitto runs as, which must read its files (mosquitto)",
    )
    broker_reload_command: str | None = Field(
        default=None, description="run after the broker's files change: systemctl reload mosquitto"
    )
    kiosk_broker_url: BrokerUrl = Field(
        default=None, description="where kiosks with passwords reach the broker: mqtts://host:8883"
    )
    kiosk_certificate_broker_url: BrokerUrl = Field(
        default=None, description="where kiosks with certificates reach it: mqtts://host:8884"
    )
    config_publish_s: float = Field(
        default=5, gt=0, description="how often the hub looks for remote configs to publish"
    )


class WebSettings(SettingsGroup):
    """The dashboard's server and its sign-ins."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_WEB_"))

    host: str = Field(
        default="127.0.0.1", description="where the dashboard listens; 0.0.0.0 behind a TLS proxy"
    )
    port: int = Field(
        default=8080, ge=0, le=65535, description="tried first; a free port is used if it is taken"
    )
    secret: SecretStr | None = Field(
        default=None, description="signs session cookies; default: a random key in data_dir"
    )
    secure_cookies: bool = Field(
        default=False,
        description="mark cookies Secure even over HTTP (they are whenever HTTPS is seen)",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="reverse proxies whose X-Forwarded-For/-Proto are believed: "
        "addresses or networks, comma-separated; '' for none",
    )
    reuse_port: bool = Field(
        default=False, description="share the web port with sibling processes (SO_REUSEPORT)"
    )
    session_hours: float = Field(default=12, gt=0, description="a sign-in lasts this long")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, proxies: str) -> str:
        for proxy in filter(None, (p.strip() for p in proxies.split(","))):
            if proxy != "*":
                ipaddress.ip_network(proxy, strict=False)  # a ValueError names the bad one
        return proxies


class AlertSettings(SettingsGroup):
    """How often alert rules run, and where their alerts are delivered."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_ALERT_"))

    interval_s: float = Field(default=60, gt=0, description="how often alert rules run")
    mqtt: bool = Field(default=True, description="publish alerts to <prefix>/alerts/<loc>")
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="POST each alert as JSON here (http/https); user:password@ is sent as Basic",
    )
    webhook_token: SecretStr | None = Field(
        default=None, description="sent to the webhook as 'Authorization: Bearer <token>'"
    )
    webhook_allow_private: bool = Field(
        default=False,
        validation_alias="SEED_HUB_WEBHOOK_ALLOW_PRIVATE",
        description="let webhooks reach loopback, private and link-local addresses (a local relay)",
    )
    email_to: list[str] = Field(
        default_factory=list, description='e-mail each alert to these: ["a@x.org", "b@x.org"]'
    )
    retry_base_s: float = Field(
        default=5, gt=0, description="first retry of a failed delivery; doubles each time"
    )
    retry_max_s: float = Field(default=3600, gt=0, description="longest wait between tries")
    max_attempts: int = Field(default=12, ge=1, description="then a delivery is given up")

    @field_validator("webhook_token")
    @classmethod
    def _real_token(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        return _real_secret(cls, token, info)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must start with http:// or https://")
        return url or None


class ReportSettings(SettingsGroup):
    """Each site's PDF reports: whether they are written, and who gets them how often."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_REPORT_"))

    schedule: bool = Field(
        default=False,
        description="write each site's weekly PDF after Monday 00:00 local, and the daily and "
        "monthly ones its recipients ask for; e-mail them",
    )
    recipients: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description="who gets each site's reports: 'hel=a@x.fi,daily:b@x.fi,monthly:c@x.fi;"
        "osl=d@x.no' (an address alone gets the weekly one) or the same as JSON",
    )

    @field_validator("recipients", mode="before")
    @classmethod
    def _recipients(cls, value: object) -> object:
        return parse_recipients(value) if isinstance(value, str) else recipient_entries(value)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        """Each entry an address, with a known cadence; kept as given less 'weekly:'."""
        checked: dict[str, list[str]] = {}
        for site, entries in value.items():
            checked[site] = []
            for entry in entries:
                try:
                    cadence, address = recipient(entry)
                except ValueError as exc:
                    raise ValueError(f"{exc} (for site {site!r})") from exc
                if not EMAIL.fullmatch(address):
                    raise ValueError(f"{address!r} (for site {site!r}) is not an e-mail address")
                normal = address if cadence == "weekly" else f"{cadence}:{address}"
                if normal not in checked[site]:
                    checked[site].append(normal)
        return checked

    def addresses(self, site: str, cadence: Cadence) -> list[str]:
        """Who gets the site's reports of this cadence."""
        found = (recipient(entry) for entry in self.recipients.get(site, []))
        return [address for of, address in found if of == cadence]


class SmtpSettings(SettingsGroup):
    """The mail server, shared by alert e-mails and scheduled reports (hub/mailer.py)."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_SMTP_"))

    host: str | None = Field(default=None, description="no host: e-mail is not sent")
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(
        default="seed-hub@localhost",
        validation_alias="SEED_HUB_SMTP_FROM",
        description="the From: address",
    )
    starttls: bool = Field(default=True, description="upgrade the connection with STARTTLS")

    @field_validator("password")
    @classmethod
    def _real_password(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        return _real_secret(cls, password, info)


def _base_url(url: str | None) -> str | None:
    """An http(s) address people reach the hub at, without its trailing slash."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} needs http:// or https:// and a host")
    return url.rstrip("/")


class PhoneSettings(SettingsGroup):
    """The survey on travellers' phones, behind a QR code: its links, misuse and comments."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_PHONE_"))

    public_url: str | None = Field(
        default=None,
        description="where phones reach the hub, e.g. https://feedback.example.com; "
        "QR codes link there (default: the dashboard's own address)",
    )
    response_interval_s: float = Field(
        default=300,
        ge=0,
        description="a browser's second response to a place within this is flagged misuse",
    )
    requests_per_minute: int = Field(
        default=30, ge=1, description="answers one address may send a minute; more get 429"
    )
    concurrent_writes: int = Field(
        default=8,
        ge=1,
        description="phone answers stored at once per process; more get 503, the dashboard "
        "keeps its threads",
    )
    comment_retention_days: float = Field(
        default=90, gt=0, description="a comment's text is erased this long after it is written"
    )

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        return _base_url(url)


class CameraSettings(SettingsGroup):
    """What the hub keeps and shows of the cameras' readings (see docs/camera.md)."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_CAMERA_"))

    min_readings: int = Field(
        default=10,
        ge=2,
        description="observed figures are shown, exported and alerted on only for groups of "
        "at least this many readings, so no one traveller's reading can be singled out",
    )
    min_face_score: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="readings whose face was found with less confidence are not counted",
    )
    observation_retention_days: float = Field(
        default=30,
        gt=0,
        description="a reading is deleted this long after its press; the counts stay",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


METRICS_TOKEN_MIN_CHARS = 16


class MetricsSettings(SettingsGroup):
    """Prometheus metrics: /metrics on the dashboard's port behind a bearer token, and/or on a
    port of their own (docs/metrics.md)."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_METRICS_"))

    token: SecretStr | None = Field(
        default=None,
        description="/metrics on the dashboard's port answers 'Authorization: Bearer <token>' "
        "only; without a token it is not served there (404)",
    )
    port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="serve /metrics on this port of its own too (0: a free one); none: not",
    )
    host: str = Field(
        default="127.0.0.1",
        description="where that port listens; on loopback it asks for no token, elsewhere it "
        "asks for the token",
    )

    @field_validator("token")
    @classmethod
    def _real_token(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        _real_secret(cls, token, info)
        if token is not None and len(token.get_secret_value()) < METRICS_TOKEN_MIN_CHARS:
            raise ValueError(
                f"a metrics token needs {METRICS_TOKEN_MIN_CHARS} characters at least "
                "(`openssl rand -hex 32` makes one)"
            )
        return token

    @model_validator(mode="after")
    def _token_off_loopback(self) -> "MetricsSettings":
        if self.port is not None and self.token is None and not self.port_is_open:
            raise ValueError(
                f"metrics on {self.host}, not a loopback address, need a token: set "
                f"{self.variable('token')}, or leave {self.variable('host')} at 127.0.0.1"
            )
        return self

    @property
    def port_is_open(self) -> bool:
        """The port of its own answers without a token (it listens on loopback only)."""
        return _is_loopback(self.host)


class TaskSettings(SettingsGroup):
    """Tasks for staff: their links, and how recovery is judged."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_TASK_"))

    public_url: str | None = Field(
        default=None,
        description="where staff phones reach the hub, e.g. https://hub.example.com; "
        "links in notifications point there (default: the phone survey's, else the dashboard's)",
    )
    link_hours: float = Field(
        default=24, gt=0, le=24 * 14, description="a task link in a notification works this long"
    )
    recovery_min_answers: int = Field(
        default=5, ge=1, description="fewer answers before or after a fix: too few to tell"
    )
    interval_s: float = Field(
        default=15, gt=0, description="how often escalations and recoveries are checked"
    )
    kiosk_notice: bool = Field(
        default=False,
        description="kiosks with a display tell travellers at a place with an unresolved task "
        "that staff are called or on their way (the team's name and a time only), until it is "
        "resolved; turn it on once every such kiosk runs a release that reads notices (an older "
        "one refuses the config and keeps its last good one)",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="sign each notice to a plain webhook route: "
        "X-Seed-Signature: sha256=<hex HMAC-SHA256 of the body with this secret>",
    )

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        return _base_url(url)

    @field_validator("webhook_secret")
    @classmethod
    def _real_webhook_secret(
        cls, secret: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        return _real_secret(cls, secret, info)


class HomeAssistantSettings(SettingsGroup):
    """MQTT discovery: locations and kiosks as Home Assistant devices (docs/homeassistant.md)."""

    model_config = SettingsConfigDict(alias_generator=_variables("SEED_HUB_HA_"))

    enabled: bool = Field(
        default=False,
        description="announce each location's scores and each kiosk's health to Home Assistant "
        "by MQTT discovery",
    )
    discovery_prefix: str = Field(
        default="homeassistant", description="Home Assistant's discovery prefix"
    )
    publish_s: float = Field(
        default=60, gt=0, description="how often the figures are read; changed ones are published"
    )
    state_prefix: str | None = Field(
        default=None,
        description="where states and the hub's availability are published; default "
        "<SEED_HUB_TOPIC_PREFIX>/ha",
    )

    @field_validator("discovery_prefix", "state_prefix")
    @classmethod
    def _prefix(cls, prefix: str | None) -> str | None:
        """No wildcards, no empty level at either end."""
        if prefix is not None and (
            not prefix or any(c in prefix for c in "+#") or prefix[0] == "/" or prefix[-1] == "/"
        ):
            raise ValueError(f"{prefix!r} is no topic prefix: no + or #, no / at either end")
        return prefix


class HubSettings(SettingsGroup):
    """All of the hub's settings, each group read from its own SEED_HUB_* variables.

    Settings other than the environment's name the groups that differ:
    `HubSettings(data_dir=folder, web=WebSettings(port=0))` (the other web settings still from
    SEED_HUB_WEB_*).
    """

    data_dir: Path = Field(default_factory=_default_data_dir)
    db: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    dead_letters: DeadLetterSettings = Field(default_factory=DeadLetterSettings)
    fleet: FleetSettings = Field(default_factory=FleetSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    phone: PhoneSettings = Field(default_factory=PhoneSettings)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    camera: CameraSettings = Field(default_factory=CameraSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    homeassistant: HomeAssistantSettings = Field(default_factory=HomeAssistantSettings)

    @property
    def fleet_folder(self) -> Path:
        return self.fleet.dir or self.data_dir / "fleet"

    @property
    def staff_base_url(self) -> str:
        """Where links in staff notifications point."""
        web = self.web
        return self.tasks.public_url or self.phone.public_url or f"http://{web.host}:{web.port}"

    @property
    def web_secret_file(self) -> Path:
        return self.data_dir / "web-secret"

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'hub.sqlite3'}"
