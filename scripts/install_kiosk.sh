#!/usr/bin/env bash
# Set up a Raspberry Pi OS (Bookworm) kiosk from the bundle `seed-hub devices add` wrote.
#
#   sudo ./install_kiosk.sh --bundle DIR [--package SPEC] [--dry-run]
#
# Idempotent: run it again after a rotate or an upgrade; it changes only what differs.
# --dry-run prints every step and changes nothing.
set -euo pipefail

BUNDLE=""
PACKAGE=""
DRY_RUN=0
APPLICATION_CHANGED=0
PREFIX=/opt/seed
CONFIG_DIR=/etc/seed-kiosk
SERVICE_USER=seed
UNIT=/etc/systemd/system/seed-kiosk.service
DISPLAY_UNIT=/etc/systemd/system/seed-kiosk-display.service
DISPLAY_PORT=""
JOURNAL_LIMITS=/etc/systemd/journald.conf.d/seed-kiosk.conf

usage() {
    cat <<'EOF'
Usage: sudo ./install_kiosk.sh --bundle DIR [--package SPEC] [--dry-run]

  --bundle DIR     the kiosk's bundle (kiosk.toml, ca.crt, credentials, seed-kiosk.service;
                   seed-kiosk-display.service for a kiosk whose config has a [display])
  --package SPEC   what pip installs: a wheel file, or a pinned requirement from your own
                   index, e.g. 'seed-kiosk-hub[kiosk]==0.1.0' (default: the wheel in the
                   bundle; without one, --package is required)
  --dry-run        print what would be done, change nothing
EOF
}

log() { printf 'install_kiosk: %s\n' "$*"; }
fail() { printf 'install_kiosk: error: %s\n' "$*" >&2; exit 1; }

run() {
    if [ "$DRY_RUN" -eq 1 ]; then
        printf 'would run: %s\n' "$*"
    else
        "$@"
    fi
}

parse_arguments() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --bundle) BUNDLE="${2:?--bundle needs a folder}"; shift 2 ;;
            --package) PACKAGE="${2:?--package needs a wheel or requirement}"; shift 2 ;;
            --dry-run) DRY_RUN=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) usage >&2; fail "unknown argument: $1" ;;
        esac
    done
    [ -n "$BUNDLE" ] || { usage >&2; fail "--bundle is required"; }
    [ -f "$BUNDLE/kiosk.toml" ] || fail "$BUNDLE/kiosk.toml not found: is this a kiosk bundle?"
    [ -f "$BUNDLE/ca.crt" ] || fail "$BUNDLE/ca.crt not found: is this a kiosk bundle?"
    if [ -z "$PACKAGE" ]; then
        PACKAGE=$(find "$BUNDLE" -maxdepth 1 -name 'seed_kiosk_hub-*.whl' | sort | tail -n 1)
        # never a bare name off a public index, as root: that invites a look-alike package
        [ -n "$PACKAGE" ] || fail "no seed_kiosk_hub-*.whl in $BUNDLE: add one \
(pip wheel --no-deps -w dist .) or give --package"
    fi
    DISPLAY_PORT=$(display_port "$BUNDLE/kiosk.toml") \
        || fail "$BUNDLE/kiosk.toml is not valid TOML: check it with seed-kiosk check-config"
    if [ -n "$DISPLAY_PORT" ] && [ ! -f "$BUNDLE/seed-kiosk-display.service" ]; then
        fail "kiosk.toml has a [display] but the bundle has no seed-kiosk-display.service"
    fi
    if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
        fail "run as root (sudo), or with --dry-run"
    fi
}

display_port() {  # the page's port when the config has an enabled [display], else nothing
    python3 - "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as file:
    display = tomllib.load(file).get("display")
if isinstance(display, dict) and display.get("enabled", True):
    print(int(display.get("port", 8765)))
PY
}

install_packages() {
    local wanted=(python3-venv python3-pip python3-lgpio)
    if [ -n "$DISPLAY_PORT" ]; then
        # the browser and its compositor; fonts for Persian, Chinese and the rest
        wanted+=(cage chromium fonts-noto-core fonts-noto-cjk)
    fi
    local missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "apt packages present: ${wanted[*]}"
        return
    fi
    log "installing apt packages: ${missing[*]}"
    run apt-get update -qq
    run apt-get install -y -qq "${missing[@]}"
}

create_user() {
    if id "$SERVICE_USER" >/dev/null 2>&1; then
        log "user $SERVICE_USER exists"
    else
        log "creating system user $SERVICE_USER"
        run useradd --system --home-dir /var/lib/seed-kiosk --shell /usr/sbin/nologin "$SERVICE_USER"
    fi
    # gpio for the buttons and LEDs, video for the camera when it is turned on
    run usermod -a -G gpio,video "$SERVICE_USER"
}

install_application() {
    if [ ! -x "$PREFIX/.venv/bin/python" ]; then
        log "creating the virtual environment in $PREFIX/.venv"
        run mkdir -p "$PREFIX"
        # system site packages: the lgpio pin driver comes from Debian, built for this Pi
        run python3 -m venv --system-site-packages "$PREFIX/.venv"
    fi
    local before after
    before=$(installed_version)
    log "installing $PACKAGE"
    run "$PREFIX/.venv/bin/pip" install --quiet --upgrade "$PACKAGE"
    after=$(installed_version)
    if [ "$before" != "$after" ]; then
        log "seed-kiosk-hub ${before:-none} -> ${after:-none}"
        APPLICATION_CHANGED=1
    fi
}

installed_version() {
    "$PREFIX/.venv/bin/pip" show seed-kiosk-hub 2>/dev/null | sed -n 's/^Version: //p' || true
}

install_file() {  # install_file SOURCE DEST MODE
    if [ -f "$2" ] && cmp -s "$1" "$2"; then
        log "$2 is up to date"
        return
    fi
    log "installing $2"
    run install -D -o root -g "$SERVICE_USER" -m "$3" "$1" "$2"
    CHANGED=1
}

install_configuration() {
    CHANGED=0
    install_file "$BUNDLE/kiosk.toml" "$CONFIG_DIR/kiosk.toml" 0640
    install_file "$BUNDLE/ca.crt" "$CONFIG_DIR/ca.crt" 0644
    if [ -f "$BUNDLE/device.crt" ]; then
        install_file "$BUNDLE/device.crt" "$CONFIG_DIR/device.crt" 0644
        install_file "$BUNDLE/device.key" "$CONFIG_DIR/device.key" 0640
    fi
    install_file "$BUNDLE/seed-kiosk.service" "$UNIT" 0644
    CONFIG_CHANGED=$CHANGED
    install_display_unit
}

install_display_unit() {
    if [ -z "$DISPLAY_PORT" ]; then
        if [ -f "$DISPLAY_UNIT" ]; then
            log "no [display] in kiosk.toml: removing $DISPLAY_UNIT"
            run systemctl disable --now seed-kiosk-display.service
            run rm -f "$DISPLAY_UNIT"
        fi
        return
    fi
    local unit
    unit=$(mktemp)
    sed "s/@PORT@/$DISPLAY_PORT/" "$BUNDLE/seed-kiosk-display.service" > "$unit"
    CHANGED=0
    install_file "$unit" "$DISPLAY_UNIT" 0644
    rm -f "$unit"
    DISPLAY_CHANGED=$CHANGED
}

limit_logs() {
    # The kiosk logs to the journal; cap it so a chatty fault cannot fill the SD card.
    local limits
    limits=$'[Journal]\nSystemMaxUse=100M\nSystemMaxFileSize=10M\nMaxRetentionSec=30day\n'
    if [ -f "$JOURNAL_LIMITS" ] && [ "$(cat "$JOURNAL_LIMITS")" == "${limits%$'\n'}" ]; then
        log "journal limits in place"
        return
    fi
    log "capping the journal at 100 MB, 30 days ($JOURNAL_LIMITS)"
    if [ "$DRY_RUN" -eq 1 ]; then
        printf 'would write %s\n' "$JOURNAL_LIMITS"
    else
        mkdir -p "$(dirname "$JOURNAL_LIMITS")"
        printf '%s' "$limits" > "$JOURNAL_LIMITS"
        systemctl restart systemd-journald
    fi
}

start_service() {
    run systemctl daemon-reload
    run systemctl enable seed-kiosk.service
    if [ "$CONFIG_CHANGED" -eq 1 ] || [ "$APPLICATION_CHANGED" -eq 1 ] \
        || ! systemctl is-active --quiet seed-kiosk.service; then
        log "(re)starting seed-kiosk"
        run systemctl restart seed-kiosk.service
    else
        log "seed-kiosk is running on the current configuration"
    fi
    if [ -n "$DISPLAY_PORT" ]; then
        run systemctl enable seed-kiosk-display.service
        if [ "${DISPLAY_CHANGED:-0}" -eq 1 ] || ! systemctl is-active --quiet seed-kiosk-display.service; then
            log "(re)starting the touch display (page on 127.0.0.1:$DISPLAY_PORT)"
            run systemctl restart seed-kiosk-display.service
        fi
    fi
}

main() {
    parse_arguments "$@"
    [ "$DRY_RUN" -eq 1 ] && log "dry run: nothing will be changed"
    install_packages
    create_user
    install_application
    install_configuration
    limit_logs
    start_service
    log "done. Check the kiosk with: sudo $PREFIX/.venv/bin/seed-kiosk selftest --config $CONFIG_DIR/kiosk.toml"
}

main "$@"
