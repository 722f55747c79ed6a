"""scripts/install_kiosk.sh: shellcheck-clean, and a dry run that changes nothing."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import service_missing

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install_kiosk.sh"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "kiosk-1"
    folder.mkdir()
    (folder / "kiosk.toml").write_text('device_id = "kiosk-1"\nlocation_id = "gate-1"\n')
    (folder / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (folder / "seed-kiosk.service").write_text("[Service]\n")
    return folder


def test_shellcheck_finds_nothing() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        service_missing("shellcheck not installed (apt-get install shellcheck)")
    result = subprocess.run(
        [shellcheck, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(bundle: Path) -> None:
    result = _run("--bundle", str(bundle), "--dry-run", "--package", "seed-kiosk-hub==0.1.0")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "dry run: nothing will be changed" in out
    assert "would run: install -D -o root -g seed -m 0640" in out
    assert "/etc/seed-kiosk/kiosk.toml" in out
    assert "would run: systemctl enable seed-kiosk.service" in out
    assert "installing seed-kiosk-hub==0.1.0" in out
    assert not Path("/etc/seed-kiosk/kiosk.toml").exists()


def test_a_kiosk_with_a_display_gets_its_browser_on_the_pages_port(bundle: Path) -> None:
    unit = (
        Path(__file__).resolve().parents[2] / "firmware_config/systemd/seed-kiosk-display.service"
    )
    (bundle / "seed-kiosk-display.service").write_text(unit.read_text())
    with (bundle / "kiosk.toml").open("a") as config:
        config.write("[display]\nport = 8790\n")
    result = _run("--bundle", str(bundle), "--dry-run", "--package", "seed-kiosk-hub==0.1.0")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert " cage" in out or "apt packages present" in out  # what this machine lacks of them
    assert "/etc/systemd/system/seed-kiosk-display.service" in out
    assert "would run: systemctl enable seed-kiosk-display.service" in out
    assert "page on 127.0.0.1:8790" in out


def test_a_display_without_its_unit_in_the_bundle_is_refused(bundle: Path) -> None:
    with (bundle / "kiosk.toml").open("a") as config:
        config.write("[display]\n")
    result = _run("--bundle", str(bundle), "--dry-run", "--package", "seed-kiosk-hub==0.1.0")
    assert result.returncode != 0
    assert "no seed-kiosk-display.service" in result.stderr


def test_a_wheel_in_the_bundle_is_what_gets_installed(bundle: Path) -> None:
    wheel = bundle / "seed_kiosk_hub-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    result = _run("--bundle", str(bundle), "--dry-run")
    assert f"installing {wheel}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--bundle is required"),
        (("--bundle", "/nonexistent"), "kiosk.toml not found"),
        (("--frobnicate",), "unknown argument"),
        (("--bundle", "{bundle}"), "no seed_kiosk_hub-*.whl"),
    ],
)
def test_bad_arguments_are_refused_with_what_to_fix(
    bundle: Path, args: tuple[str, ...], message: str
) -> None:
    result = _run(*(arg.format(bundle=bundle) for arg in args), "--dry-run")
    assert result.returncode != 0
    assert message in result.stderr


def test_help_explains_the_options() -> None:
    result = _run("--help")
    assert result.returncode == 0
    assert "--dry-run" in result.stdout and "--package" in result.stdout
