"""Remote configuration: the hub's settings for this kiosk, checked, kept and reported.

The hub publishes a retained `RemoteConfig` on the kiosk's config topic. A newer version
is validated against the kiosk's own rules (the same as for its TOML file), saved to
`data_dir/remote-config.json` and applied; anything else is refused with a reason that
goes into the next status, and the kiosk keeps its last good config.

A config is whole: each one replaces the last over the file's settings. Its `notices` (what
the display tells travellers is being handled here) are not a setting of the file: the
keeper holds them for the page, and a config without them (or with an empty list) clears
them.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from edge.config import KioskConfig
from protocol.errors import ConfigError, ProtocolError
from protocol.files import write_private
from protocol.messages import KioskNotice, RemoteConfig, decode_remote_config
from protocol.validation import summarise

log = logging.getLogger(__name__)

REMOTE_CONFIG_FILE = "remote-config.json"


@dataclass(frozen=True)
class Verdict:
    config: KioskConfig | None
    """The config to run on now, when the offer was applied."""
    error: str | None = None


def merged(base: KioskConfig, remote: RemoteConfig) -> KioskConfig:
    """The kiosk's file config with the hub's settings over it, validated as a whole."""
    if remote.device_id != base.device_id:
        raise ConfigError(f"it is for {remote.device_id!r}, this kiosk is {base.device_id!r}")
    document = base.model_dump()
    settings = remote.settings()
    settings.pop("notices", None)  # for the display, not the kiosk's config
    camera_enabled = settings.pop("camera_enabled", None)
    document.update(settings)
    if camera_enabled is not None:
        if document.get("camera") is None:
            raise ConfigError("camera_enabled is set but this kiosk has no [camera] section")
        document["camera"]["enabled"] = camera_enabled
    try:
        return KioskConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(summarise(exc)) from exc


class RemoteConfigKeeper:
    def __init__(self, base: KioskConfig) -> None:
        self._base = base
        self._path = base.data_dir / REMOTE_CONFIG_FILE
        self.version: int | None = None
        self.notices: Sequence[KioskNotice] = ()
        """What the display tells travellers, from the config running now."""

    def effective(self) -> KioskConfig:
        """The config to start with: the file's, under the last good remote one if any."""
        remote = self._saved()
        if remote is None:
            return self._base
        try:
            config = merged(self._base, remote)
        except ConfigError as exc:
            log.error("ignored the saved remote config v%d: %s", remote.version, exc)
            return self._base
        self.version, self.notices = remote.version, tuple(remote.notices or ())
        log.info("running on remote config v%d from %s", remote.version, self._path)
        return config

    def offer(self, payload: bytes) -> Verdict:
        """Check a config from the hub; apply and save it if it is newer and valid."""
        try:
            remote = decode_remote_config(payload)
        except ProtocolError as exc:
            return self._refuse(f"unreadable config ({exc.reason}): {exc.detail}")
        if self.version is not None and remote.version <= self.version:
            return Verdict(config=None)  # a replay of what runs now, or older news
        try:
            config = merged(self._base, remote)
        except ConfigError as exc:
            return self._refuse(f"config v{remote.version} refused: {exc}")
        try:
            write_private(self._path, payload)
        except OSError as exc:
            return self._refuse(f"config v{remote.version} not applied: cannot save it: {exc}")
        self.version, self.notices = remote.version, tuple(remote.notices or ())
        log.info("applied remote config v%d: %s", remote.version, remote.settings())
        return Verdict(config=config)

    def _refuse(self, reason: str) -> Verdict:
        log.error("%s; keeping config v%s", reason, self.version or "from the file")
        return Verdict(config=None, error=reason[:300])

    def _saved(self) -> RemoteConfig | None:
        try:
            return decode_remote_config(self._path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ProtocolError) as exc:
            log.error("cannot read %s (%s); starting on the file config", self._path, exc)
            return None
