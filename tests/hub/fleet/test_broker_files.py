"""The broker's files: Mosquitto's own password format, the ACL, the CA and its CRL."""

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from hub.config import IngestSettings
from hub.fleet.broker_files import (
    PACKET_HEADROOM_BYTES,
    BrokerLayout,
    hash_password,
    render_hub_acl,
    render_kiosk_acl,
    render_mosquitto_conf,
    render_password_file,
)
from hub.fleet.pki import FleetCA, key_file
from lab.mosquitto import password_matches
from tests.helpers import service_missing


def test_hashes_verify_like_mosquitto_passwd_makes_them(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        service_missing("mosquitto_passwd not installed (apt-get install mosquitto)")
    passwords = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwords), "kiosk-1", "s3cret"], check=True)
    _, theirs = passwords.read_text().strip().split(":", 1)
    assert theirs.startswith("$7$101$")
    assert password_matches("s3cret", theirs)
    assert not password_matches("S3cret", theirs)


def test_our_hashes_have_mosquittos_shape_and_fresh_salts() -> None:
    first, second = hash_password("p"), hash_password("p")
    assert first != second
    _, kind, rounds, salt, digest = first.split("$")
    assert (kind, rounds, len(salt), len(digest)) == ("7", "101", 16, 88)
    assert password_matches("p", first) and password_matches("p", second)


def test_password_file_lines_are_sorted_user_colon_hash() -> None:
    rendered = render_password_file({"b": "$7$x", "a": "$7$y"}).decode()
    assert rendered == "a:$7$y\nb:$7$x\n"


def test_the_acl_confines_each_kiosk_to_its_own_subtree() -> None:
    acl = render_kiosk_acl(topic_prefix="seed").decode().splitlines()
    patterns = [line.split() for line in acl if line.startswith("pattern")]
    assert patterns == [
        ["pattern", "write", "seed/devices/%u/events"],
        ["pattern", "write", "seed/devices/%u/status"],
        ["pattern", "read", "seed/devices/%u/ack"],
        ["pattern", "read", "seed/devices/%u/config"],
    ]
    assert not [line for line in acl if line.startswith(("user", "topic"))], "kiosks only"


def test_the_hubs_acl_reads_every_kiosk_and_answers_each() -> None:
    acl = render_hub_acl(topic_prefix="seed", hub_username="seed-hub").decode().splitlines()
    rules = [line for line in acl if line and not line.startswith("#")]
    assert rules[0] == "user seed-hub"
    assert "topic read  seed/devices/+/events" in rules
    assert "topic write seed/devices/+/ack" in rules
    assert "topic write seed/alerts/+" in rules
    assert "topic write seed/tasks/#" in rules, "staff notices by MQTT, on any nested topic"
    assert not any(line.startswith("pattern") for line in rules)
    wildcards = [line for line in rules if "#" in line]
    assert wildcards == ["topic write seed/tasks/#"], "no one gets the whole tree"


def test_no_kiosk_may_read_the_staff_notices_and_their_links() -> None:
    acl = render_kiosk_acl(topic_prefix="seed", revoked=["k9"]).decode()
    assert "tasks" not in acl
    rules = [line.split() for line in acl.splitlines() if line.startswith(("pattern", "topic"))]
    readable = [topic for _, access, topic in rules if access in ("read", "readwrite")]
    assert readable == ["seed/devices/%u/ack", "seed/devices/%u/config"]


def test_certificates_chain_to_the_fleet_ca_and_revoked_ones_are_listed(tmp_path: Path) -> None:
    ca = FleetCA.create(tmp_path)
    assert key_file(tmp_path).stat().st_mode & 0o077 == 0
    assert key_file(tmp_path).parent.stat().st_mode & 0o077 == 0, "the broker cannot enter"
    issued = ca.issue_client("kiosk-1")
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem)
    certificate.verify_directly_issued_by(FleetCA.load(tmp_path).certificate)
    common_name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert common_name[0].value == "kiosk-1"
    crl = x509.load_pem_x509_crl(ca.revocation_list([(issued.serial, datetime.now(UTC))]))
    assert crl.get_revoked_certificate_by_serial_number(issued.serial) is not None
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]


def test_a_revoked_device_is_denied_everything_ahead_of_the_patterns() -> None:
    acl = render_kiosk_acl(topic_prefix="seed", revoked=["k9"]).decode()
    assert acl.index("user k9\ntopic deny #\n") < acl.index("pattern write")


def test_a_missing_ca_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="seed-hub fleet init"):
        FleetCA.load(tmp_path)


def test_the_templates_in_firmware_config_are_what_fleet_init_writes() -> None:
    folder = Path(__file__).resolve().parents[3] / "firmware_config" / "mosquitto"
    layout = BrokerLayout(Path("/etc/seed-hub/fleet"))
    conf = render_mosquitto_conf(
        layout, max_payload_bytes=IngestSettings.model_fields["max_payload_bytes"].default
    )
    assert (folder / "seed.conf").read_bytes() == conf
    assert (folder / "seed.acl").read_bytes() == render_kiosk_acl(topic_prefix="seed")
    hub_acl = render_hub_acl(topic_prefix="seed", hub_username="seed-hub")
    assert (folder / "seed-hub.acl").read_bytes() == hub_acl


def _listeners(conf: bytes) -> dict[str, dict[str, str]]:
    """The config's options per listener (`listener` line -> {option: value})."""
    listeners: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in conf.decode().splitlines():
        if line.startswith("listener "):
            current = listeners.setdefault(line, {})
        elif line and not line.startswith("#"):
            option, _, value = line.partition(" ")
            current[option] = value
    return listeners


def test_each_listener_has_its_own_accounts_and_acl() -> None:
    layout = BrokerLayout(Path("/f"), hub_port=1, password_port=2, certificate_port=3)
    conf = render_mosquitto_conf(layout, max_payload_bytes=4096)
    assert b"per_listener_settings true\n" in conf
    hub, passwords, certificates = _listeners(conf).values()
    assert hub["password_file"] == "/f/hub.passwd" and hub["acl_file"] == "/f/hub.acl"
    assert "use_username_as_clientid" not in hub, "the hub evicts a kiosk with its client id"
    assert passwords["password_file"] == "/f/mosquitto.passwd"
    for kiosks in (passwords, certificates):
        assert kiosks["acl_file"] == "/f/mosquitto.acl"
        assert kiosks["use_username_as_clientid"] == "true"
    for listener in (hub, passwords, certificates):
        assert listener["allow_anonymous"] == "false"


def test_the_packet_limit_follows_the_hubs_payload_limit() -> None:
    conf = render_mosquitto_conf(BrokerLayout(Path("/f")), max_payload_bytes=10_000)
    assert f"\nmax_packet_size {10_000 + PACKET_HEADROOM_BYTES}\n".encode() in conf
