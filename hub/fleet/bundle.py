"""A kiosk's bundle: everything a technician copies to its SD card, in DIR/DEVICE_ID/."""

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.clock import as_utc
from hub.fleet.pki import IssuedCertificate
from protocol.errors import ConfigError
from protocol.files import write_private, write_public

REPOSITORY = Path(__file__).resolve().parents[2]
KIOSK_UNIT = REPOSITORY / "firmware_config" / "systemd" / "seed-kiosk.service"
INSTALL_SCRIPT = REPOSITORY / "scripts" / "install_kiosk.sh"
DISPLAY_UNIT = REPOSITORY / "firmware_config" / "systemd" / "seed-kiosk-display.service"
"""Installed only where kiosk.toml has a [display]: Chromium showing the kiosk's page."""


@dataclass(frozen=True)
class KioskIdentity:
    device_id: str
    location_id: str
    broker_url: str
    topic_prefix: str
    issued_at: datetime
    display: bool = False
    """A touch display: kiosk.toml gets a [display], install_kiosk.sh its browser."""
    password: str | None = None
    certificate: IssuedCertificate | None = None


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for the characters we write)."""
    return json.dumps(text)


def render_kiosk_toml(identity: KioskIdentity) -> str:
    lines = [
        f"# Provisioned by seed-hub on {as_utc(identity.issued_at):%Y-%m-%d %H:%M} UTC.",
        "# Every key is explained in firmware_config/kiosk.example.toml; paths are relative",
        "# to this file. Check it with: seed-kiosk check-config kiosk.toml",
        f"device_id = {_toml_string(identity.device_id)}",
        f"location_id = {_toml_string(identity.location_id)}",
        'data_dir = "/var/lib/seed-kiosk"',
        "",
        "[mqtt]",
        f"url = {_toml_string(identity.broker_url)}",
        f"topic_prefix = {_toml_string(identity.topic_prefix)}",
        'ca_file = "ca.crt"',
    ]
    if identity.password is not None:
        lines += [
            f"username = {_toml_string(identity.device_id)}",
            f"password = {_toml_string(identity.password)}",
        ]
    if identity.certificate is not None:
        lines += ['cert_file = "device.crt"', 'key_file = "device.key"']
    if identity.display:
        lines += ["", "[display]", "port = 8765"]
    return "\n".join(lines) + "\n"


def _readme(identity: KioskIdentity) -> str:
    return (
        f"Kiosk {identity.device_id} at {identity.location_id}\n\n"
        "On the Raspberry Pi (Raspberry Pi OS Bookworm), from this folder:\n"
        "  sudo ./install_kiosk.sh --bundle . --dry-run   # see what it will do\n"
        "  sudo ./install_kiosk.sh --bundle .             # do it\n"
        "  sudo systemctl stop seed-kiosk   # the selftest needs the GPIO pins\n"
        "  sudo /opt/seed/.venv/bin/seed-kiosk selftest --config /etc/seed-kiosk/kiosk.toml\n"
        "  sudo systemctl start seed-kiosk\n\n"
        "This folder holds the kiosk's secret (kiosk.toml or device.key): keep it on the SD\n"
        "card and the technician's encrypted laptop only, and delete other copies.\n"
    )


def write_bundle(out_dir: Path, identity: KioskIdentity, ca_certificate_pem: bytes) -> Path:
    """Write (or overwrite) the bundle; the secret files are readable by their owner only."""
    folder = out_dir / identity.device_id
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    write_private(folder / "kiosk.toml", render_kiosk_toml(identity).encode())
    write_public(folder / "ca.crt", ca_certificate_pem)
    for stale in ("device.crt", "device.key"):
        (folder / stale).unlink(missing_ok=True)
    if identity.certificate is not None:
        write_public(folder / "device.crt", identity.certificate.certificate_pem)
        write_private(folder / "device.key", identity.certificate.key_pem)
    write_public(folder / "README.txt", _readme(identity).encode())
    for source in (KIOSK_UNIT, INSTALL_SCRIPT, DISPLAY_UNIT):
        if not source.exists():
            raise ConfigError(
                f"{source} is missing: run seed-hub from the project's checkout (it ships the "
                "kiosk's systemd unit and install script)"
            )
        shutil.copy2(source, folder / source.name)
    return folder
