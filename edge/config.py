"""The kiosk's TOML configuration, validated strictly so a typo is refused, not ignored."""

import tomllib
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from edge.camera.config import CAMERA_UNSEEN, CameraConfig
from protocol.broker_url import parse_broker_url
from protocol.errors import ConfigError
from protocol.messages import BUTTONS, DEVICE_ID_PATTERN, LOCATION_ID_PATTERN, Button
from protocol.secrets import refuse_placeholder
from protocol.surveys import Survey
from protocol.validation import summarise


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ButtonPins(_Strict):
    """BCM GPIO numbers, one per smiley."""

    very_happy: int = Field(ge=0, le=27)
    happy: int = Field(ge=0, le=27)
    unhappy: int = Field(ge=0, le=27)
    very_unhappy: int = Field(ge=0, le=27)

    def pin(self, button: Button) -> int:
        pin: int = getattr(self, button.value)
        return pin

    def all(self) -> list[int]:
        return [self.pin(b) for b in BUTTONS]


class PanelConfig(_Strict):
    buttons: ButtonPins = ButtonPins(very_happy=5, happy=6, unhappy=13, very_unhappy=19)
    leds: ButtonPins | None = ButtonPins(very_happy=12, happy=16, unhappy=20, very_unhappy=21)
    bounce_ms: int = Field(default=40, ge=0, le=1000)
    thanks_s: float = Field(default=1.5, gt=0, le=30, description="how long a pressed LED glows")

    @field_validator("leds", mode="before")
    @classmethod
    def _false_means_no_leds(cls, leds: object) -> object:
        """TOML has no null: `leds = false` is a panel without LEDs."""
        return None if leds is False else leds

    @model_validator(mode="after")
    def _pins_distinct(self) -> Self:
        pins = self.buttons.all() + (self.leds.all() if self.leds else [])
        repeated = sorted({p for p in pins if pins.count(p) > 1})
        if repeated:
            raise ValueError(f"GPIO pins used twice: {repeated}")
        return self


class MqttConfig(_Strict):
    url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = "seed"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = Field(default=30, ge=5, le=600)
    reconnect_min_s: float = Field(default=1, gt=0)
    reconnect_max_s: float = Field(default=60, gt=0)
    ack_timeout_s: float = Field(default=30, gt=0, description="resend what the hub left unacked")
    max_in_flight: int = Field(default=200, ge=1, le=10_000)
    drain_on_stop_s: float = Field(default=3, ge=0, description="wait for acks when stopping")
    max_send_per_s: float = Field(
        default=20, gt=0, description="drain rate after an outage, so a fleet cannot flood the hub"
    )

    @model_validator(mode="after")
    def _backoff_grows(self) -> Self:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        try:
            parse_broker_url(url)
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        return url

    @field_validator("password")
    @classmethod
    def _real_password(cls, password: SecretStr | None) -> SecretStr | None:
        refuse_placeholder("mqtt.password", password.get_secret_value() if password else None)
        return password


class SimulationConfig(_Strict):
    """Used by `seed-kiosk run --simulate` only."""

    peak_presses_per_hour: float = Field(default=90, gt=0)
    mood: tuple[float, float, float, float] = Field(
        default=(0.45, 0.30, 0.15, 0.10),
        description="relative weights of very_happy, happy, unhappy, very_unhappy",
    )
    speed: float = Field(default=1.0, gt=0, description="multiplies the press rate")
    misuse_share: float = Field(
        default=0.03, ge=0, le=1, description="share of presses that are deliberate misuse"
    )
    answer_share: float = Field(
        default=0.7, ge=0, le=1, description="share of follow-ups a traveller answers"
    )
    reasons: dict[str, float] = Field(
        default_factory=dict,
        description="weights of the follow-up's options by key (a washroom: cleanliness = 5); "
        "an option not named weighs 1",
    )
    time_zone: str = "UTC"
    seed: int | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}; use an IANA name") from exc
        return zone


class DisplayConfig(_Strict):
    """A touch display showing the kiosk's page (Chromium in kiosk mode on loopback)."""

    enabled: bool = Field(default=True, description="serve the page; false: buttons only")
    port: int = Field(
        default=8765, ge=0, le=65535, description="the page's port on 127.0.0.1 (0: any free)"
    )
    languages: list[str] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        description="the page's languages until a survey names them (the first is the default)",
    )


class KioskConfig(_Strict):
    device_id: str = Field(pattern=DEVICE_ID_PATTERN.pattern.join("^$"))
    location_id: str = Field(pattern=LOCATION_ID_PATTERN)
    data_dir: Path = Path("/var/lib/seed-kiosk")
    response_interval_s: float = Field(default=5.0, ge=0, le=3600)
    heartbeat_s: float = Field(default=60, gt=0)
    outbox_capacity: int = Field(default=100_000, ge=100, le=10_000_000)
    panel: PanelConfig = PanelConfig()
    mqtt: MqttConfig = MqttConfig()
    simulation: SimulationConfig = SimulationConfig()
    camera: CameraConfig | None = Field(
        default=None, description="no [camera] section: the kiosk has no camera"
    )
    display: DisplayConfig | None = Field(
        default=None, description="no [display] section: the kiosk has buttons only"
    )
    survey: Survey | None = Field(
        default=None,
        description="what the kiosk asks, as the hub's remote config last sent it (a [survey] "
        "table in the file stands until then); none: buttons only",
    )

    @model_validator(mode="after")
    def _indicator_pin_free(self) -> Self:
        pin = self.camera.indicator_led if self.camera else None
        panel = self.panel.buttons.all() + (self.panel.leds.all() if self.panel.leds else [])
        if pin is not None and pin in panel:
            raise ValueError(f"camera.indicator_led: GPIO {pin} is already used by the panel")
        return self

    @model_validator(mode="after")
    def _camera_is_announced(self) -> Self:
        """A camera that is on must be seen to be on: an indicator LED or the display's notice."""
        camera, display = self.camera, self.display
        if camera is None or not camera.enabled or camera.indicator_led is not None:
            return self
        if display is None:
            raise ValueError(CAMERA_UNSEEN)
        if not display.enabled:
            raise ValueError(f"{CAMERA_UNSEEN} ([display] has enabled = false)")
        return self


def load_config(path: Path) -> KioskConfig:
    """Read and validate a kiosk config; every problem is reported with where to fix it."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = KioskConfig.model_validate(document)
    except ValidationError as exc:
        problems = summarise(exc, root="<file>", separator="\n", indent="  ")
        raise ConfigError(f"{path}: invalid kiosk config:\n{problems}") from exc
    return _relative_to(config, path.parent)


def _relative_to(config: KioskConfig, folder: Path) -> KioskConfig:
    """Relative paths in a config file are relative to the file, so a bundle works as is."""

    def resolved(value: Path | None) -> Path | None:
        return folder / value if value is not None and not value.is_absolute() else value

    mqtt = config.mqtt.model_copy(
        update={
            "ca_file": resolved(config.mqtt.ca_file),
            "cert_file": resolved(config.mqtt.cert_file),
            "key_file": resolved(config.mqtt.key_file),
        }
    )
    camera = config.camera
    if camera is not None:
        source = Path(camera.source)
        camera = camera.model_copy(
            update={
                "detector_model": resolved(camera.detector_model),
                "emotion_manifest": resolved(camera.emotion_manifest),
                "source": camera.source if ":" in camera.source else str(resolved(source)),
            }
        )
    return config.model_copy(
        update={"data_dir": resolved(config.data_dir), "mqtt": mqtt, "camera": camera}
    )
