#!/usr/bin/env bash
# Virtual sound devices for machines without a sound card (CI, dev boxes, tests).
#
# Idempotent: starts a per-user PulseAudio daemon if none answers, adds two null sinks
# (agentmic, callaudio), and adds ALSA pcms to ~/.asoundrc so PortAudio lists them:
#   agent_mic  -> agentmic.monitor  ("Agent headset")
#   call_audio -> callaudio.monitor ("Call audio")
# Whatever is played into a sink (paplay --device=callaudio x.wav) can be recorded from
# the matching device (sounddevice device "call_audio").
#
# As root: a plain per-user daemon works; pulseaudio only warns "This program is not
# intended to be run as root". --system=no keeps it a user daemon (a system daemon would
# need the pulse user and refuses most client access). Nothing needs to be exported:
# with XDG_RUNTIME_DIR unset the daemon puts its socket in /tmp/pulse-XXXX and links it
# from ~/.config/pulse/<machine-id>-runtime, where paplay, pactl and the ALSA pulse
# plugin all look. Needs: pulseaudio pulseaudio-utils libasound2-plugins libportaudio2.
set -euo pipefail

PYTHON="${PYTHON:-$(dirname "$0")/../.venv/bin/python}"
ASOUNDRC="${HOME}/.asoundrc"
BEGIN_MARK="# >>> callcoach virtual devices >>>"
END_MARK="# <<< callcoach virtual devices <<<"

say() { echo "pulse-setup: $*"; }

start_daemon() {
    if pulseaudio --check 2>/dev/null; then
        say "PulseAudio already running"
        return
    fi
    pulseaudio --system=no --daemonize=yes --exit-idle-time=-1 -n \
        --load=module-native-protocol-unix --log-level=error 2>/dev/null
    # --daemonize returns once the daemon forked; wait until it accepts clients.
    for _ in $(seq 50); do
        pactl info >/dev/null 2>&1 && { say "started PulseAudio daemon"; return; }
        sleep 0.1
    done
    say "PulseAudio did not come up" >&2
    exit 1
}

add_sink() {  # name, description
    if pactl list short sinks | awk '{print $2}' | grep -qx "$1"; then
        say "sink $1 already loaded"
        return
    fi
    # Two levels of quoting: module arguments, then the property list inside them.
    pactl load-module module-null-sink sink_name="$1" \
        "sink_properties='device.description=\"$2\"'" >/dev/null
    say "loaded null sink $1"
}

asound_block() {
    cat <<EOF
$BEGIN_MARK
pcm.agent_mic {
    type pulse
    device "agentmic.monitor"
    hint { show on description "Agent headset" }
}
ctl.agent_mic { type pulse }
pcm.call_audio {
    type pulse
    device "callaudio.monitor"
    hint { show on description "Call audio" }
}
ctl.call_audio { type pulse }
$END_MARK
EOF
}

write_asoundrc() {
    if [ -f "$ASOUNDRC" ] && grep -qF "$BEGIN_MARK" "$ASOUNDRC"; then
        if [ "$(sed -n "/^$BEGIN_MARK\$/,/^$END_MARK\$/p" "$ASOUNDRC")" = "$(asound_block)" ]; then
            say "$ASOUNDRC already has the callcoach devices"
            return
        fi
        # An older version of our block: replace it, keep everything else.
        sed -i "/^$BEGIN_MARK\$/,/^$END_MARK\$/d" "$ASOUNDRC"
        say "updating the callcoach block in $ASOUNDRC"
    else
        say "adding agent_mic and call_audio to $ASOUNDRC"
    fi
    asound_block >>"$ASOUNDRC"
}

verify() {
    if [ ! -x "$PYTHON" ]; then
        PYTHON=python3
    fi
    local listing
    listing=$("$PYTHON" -c "import sounddevice; print(sounddevice.query_devices())")
    echo "$listing"
    for dev in agent_mic call_audio; do
        if ! grep -q " $dev, " <<<"$listing"; then
            say "PortAudio does not list $dev" >&2
            exit 1
        fi
    done
    say "PortAudio lists agent_mic and call_audio"
}

start_daemon
add_sink agentmic "Agent headset"
add_sink callaudio "Call audio"
write_asoundrc
verify
