#!/usr/bin/env bash
# Set up everything CallCoach needs on a fresh Debian/Ubuntu machine (Python 3.11+):
# system packages, then a virtual environment in .venv with the app installed.
#   tools/setup.sh          the app (widget + engine)
#   tools/setup.sh --test   the app plus what the test suite needs (the bundle build included)
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The widget (Qt xcb platform plugin) needs the xcb libraries it links to; a missing one makes
# Qt say only "could not load the Qt platform plugin xcb".
APP_DEBS=(python3-venv libportaudio2 libsndfile1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
          libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-randr0 libxkbcommon-x11-0 libegl1 libgl1
          libdbus-1-3 libfontconfig1 fonts-dejavu-core libx11-6)
# strace: the no-network test traces every socket of the app; binutils: strip for the bundle test
# A real desktop for tests/test_desktop.py: a window manager with a tray, a compositor, X tools.
# The device tests run on both sound servers (tests/sound_servers.py): PulseAudio, and PipeWire with
# pipewire-pulse and WirePlumber, which will not run without a D-Bus session bus (dbus-daemon, in dbus).
# The team store's tests run a real central PostgreSQL with TLS client certificates (tools/central_server.py).
TEST_DEBS=(pulseaudio pulseaudio-utils libasound2-plugins espeak-ng xvfb xdotool strace binutils icewm xcompmgr
           x11-utils pipewire pipewire-pulse wireplumber dbus postgresql openssl)

debs=("${APP_DEBS[@]}")
extras="gui"
if [ "${1:-}" = "--test" ]; then
    debs+=("${TEST_DEBS[@]}")
    extras="gui,test,build"
fi

missing=()
for deb in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[$extras]"
echo "setup: ready (.venv)"
