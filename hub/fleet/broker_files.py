"""What Mosquitto reads: its password file, its ACL file and a config that uses them.

Password lines use Mosquitto 2's own format (`$7$`: PBKDF2-HMAC-SHA512, 101 rounds, a
12-byte salt), so `mosquitto_passwd` and the broker read what the hub writes. The low round
count is Mosquitto's default and is no weakness here: every kiosk password is 32 random
bytes, out of reach of any guessing however cheap each guess is.
"""

import base64
import grp
import hashlib
import secrets
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hub.homeassistant.discovery import HaTopics
from protocol.errors import ConfigError
from protocol.files import write_atomic

PBKDF2_ROUNDS = 101
SALT_BYTES = 12
BROKER_READABLE = 0o640  # owner root (or the hub), group mosquitto


def new_password() -> str:
    return secrets.token_urlsafe(32)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ROUNDS)
    return (
        f"$7${PBKDF2_ROUNDS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def render_password_file(entries: dict[str, str]) -> bytes:
    """username -> `$7$…` hash, one `user:hash` line each, sorted for readable diffs."""
    return "".join(f"{user}:{hashed}\n" for user, hashed in sorted(entries.items())).encode()


def render_kiosk_acl(*, topic_prefix: str, revoked: Iterable[str] = ()) -> bytes:
    """For the kiosk listeners: each kiosk (username = device id) owns its own subtree.

    A revoked device is denied everything: the broker checks the ACL at each message, so a
    session still open when the broker reloads can publish nothing more."""
    devices = f"{topic_prefix}/devices"
    denied = "".join(f"user {device_id}\ntopic deny #\n\n" for device_id in sorted(revoked))
    return (
        f"# Written by seed-hub; edits are overwritten. %u is the MQTT username, which for a\n"
        f"# kiosk is its device id (its certificate's common name with client certificates).\n"
        f"{denied}"
        f"pattern write {devices}/%u/events\n"
        f"pattern write {devices}/%u/status\n"
        f"pattern read  {devices}/%u/ack\n"
        f"pattern read  {devices}/%u/config\n"
    ).encode()


def render_hub_acl(
    *, topic_prefix: str, hub_username: str, homeassistant: HaTopics | None = None
) -> bytes:
    """For the loopback listener: the hub reads every kiosk and answers each, and publishes
    alerts and staff task notices (whose topics a member's route may nest: `tasks/#`); with
    `homeassistant`, it announces (and reads back) its discovery configs and writes its states.

    Task notices carry signed links to act on a task: no kiosk may read them, and the kiosk
    listeners' ACL gives kiosks nothing outside their own subtree."""
    devices = f"{topic_prefix}/devices"
    ha = homeassistant
    discovery = (
        f"topic readwrite {ha.announced}\n" + "".join(f"topic write {t}\n" for t in ha.states)
        if ha
        else ""
    )
    return (
        f"# Written by seed-hub; edits are overwritten.\n"
        f"user {hub_username}\n"
        f"topic read  {devices}/+/events\n"
        f"topic read  {devices}/+/status\n"
        f"topic write {devices}/+/ack\n"
        f"topic write {devices}/+/config\n"
        f"topic write {topic_prefix}/alerts/+\n"
        f"topic write {topic_prefix}/tasks/#\n"
        f"{discovery}"
    ).encode()


@dataclass(frozen=True)
class BrokerLayout:
    """Where the broker's files live and which ports it listens on."""

    folder: Path
    hub_port: int = 1883
    password_port: int = 8883
    certificate_port: int = 8884
    hub_bind: str = "127.0.0.1"
    kiosk_bind: str = ""  # every interface
    persistence_dir: Path | None = None
    run_as: str | None = None  # when started as root: None = Mosquitto's own user

    @property
    def password_file(self) -> Path:
        """The kiosks' accounts, for the kiosk listeners."""
        return self.folder / "mosquitto.passwd"

    @property
    def acl_file(self) -> Path:
        """The kiosks' ACL, for the kiosk listeners."""
        return self.folder / "mosquitto.acl"

    @property
    def hub_password_file(self) -> Path:
        """The hub's own account, for the loopback listener only."""
        return self.folder / "hub.passwd"

    @property
    def hub_acl_file(self) -> Path:
        return self.folder / "hub.acl"

    @property
    def crl_file(self) -> Path:
        return self.folder / "crl.pem"

    @property
    def config_file(self) -> Path:
        return self.folder / "mosquitto.conf"


PER_LISTENER = "per_listener_settings true"
PACKET_HEADROOM_BYTES = 1024
"""What an MQTT PUBLISH carries besides its payload: fixed header (up to 5 bytes), topic
(2 + its length, under 200 bytes for `<prefix>/devices/<64-char id>/status`), packet id (2)
and MQTT 5 properties. Generous, so no payload the hub accepts is ever refused."""


def max_packet_size(max_payload_bytes: int) -> int:
    return max_payload_bytes + PACKET_HEADROOM_BYTES


def render_mosquitto_conf(
    layout: BrokerLayout, *, max_payload_bytes: int, log_file: Path | None = None
) -> bytes:
    """Three listeners, each with its own accounts and ACL: the hub's on loopback, the
    kiosks' (password, certificate) over TLS. Messages bigger than the hub takes are
    stopped at the broker."""
    return (
        _general_settings(layout, max_payload_bytes, log_file)
        + _hub_listener(layout)
        + _kiosk_listeners(layout)
    ).encode()


def _general_settings(layout: BrokerLayout, max_payload_bytes: int, log_file: Path | None) -> str:
    # Debian's main mosquitto.conf already turns persistence on; say it only when asked
    persistence = (
        f"persistence true\npersistence_location {layout.persistence_dir}/\n"
        if layout.persistence_dir
        else ""
    )
    return (
        "# Written by `seed-hub fleet init`. Each listener has its own accounts and ACL: the\n"
        "# hub's on loopback, the kiosks' over TLS only. Reload after a change:\n"
        "# systemctl reload mosquitto.\n"
        f"{PER_LISTENER}\n"
        f"{persistence}"
        "max_queued_messages 100000\n"
        f"# The hub takes payloads of up to {max_payload_bytes} bytes (its max_payload_bytes). A\n"
        f"# packet also carries its topic and headers: {PACKET_HEADROOM_BYTES} bytes more.\n"
        "# A client that sends a bigger packet is disconnected; its message goes nowhere.\n"
        f"max_packet_size {max_packet_size(max_payload_bytes)}\n"
        + (f"user {layout.run_as}\n" if layout.run_as else "")
        + (f"log_dest file {log_file}\n" if log_file else "")
    )


def _hub_listener(layout: BrokerLayout) -> str:
    return (
        "\n# The hub, on loopback, with its own username and password.\n"
        f"listener {layout.hub_port} {layout.hub_bind}\n"
        "allow_anonymous false\n"
        f"password_file {layout.hub_password_file}\n"
        f"acl_file {layout.hub_acl_file}\n"
    )


def _kiosk_listeners(layout: BrokerLayout) -> str:
    folder = layout.folder
    kiosk_bind = f" {layout.kiosk_bind}" if layout.kiosk_bind else ""
    tls = (
        "allow_anonymous false\n"
        f"acl_file {layout.acl_file}\n"
        f"cafile {folder / 'ca.crt'}\n"
        f"certfile {folder / 'broker.crt'}\n"
        f"keyfile {folder / 'broker.key'}\n"
        "tls_version tlsv1.2\n"
        # the client id is the username: no kiosk can take over another's session, nor the hub's
        "use_username_as_clientid true\n"
    )
    return (
        "\n# Kiosks with a username (their device id) and password, over TLS.\n"
        f"listener {layout.password_port}{kiosk_bind}\n"
        f"password_file {layout.password_file}\n"
        f"{tls}"
        "\n# Kiosks with a client certificate signed by the fleet CA; its common name is the\n"
        "# username. Revoked certificates are listed in the CRL.\n"
        f"listener {layout.certificate_port}{kiosk_bind}\n"
        f"{tls}"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        f"crlfile {layout.crl_file}\n"
    )


def broker_gid(group: str | None) -> int | None:
    """The group Mosquitto runs as, which must read its files; None: leave the group."""
    if group is None:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise ConfigError(
            f"no group {group!r} on this machine; set SEED_HUB_BROKER_GROUP to the group "
            "Mosquitto runs as (Debian: mosquitto), or empty for none"
        ) from exc


def write_broker_readable(path: Path, content: bytes, *, group: str | None) -> None:
    """For the broker's eyes: owner read/write, the broker's group read, no one else."""
    write_atomic(path, content, mode=BROKER_READABLE, group=broker_gid(group))


def reload_broker(command: str | None) -> str:
    """Run the configured reload (e.g. `systemctl reload mosquitto`); returns what happened."""
    if not command:
        return "broker files updated; reload the broker to apply them (systemctl reload mosquitto)"
    try:
        subprocess.run(shlex.split(command), check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"broker reload `{command}` failed: {exc}") from exc
    return f"broker reloaded ({command})"
