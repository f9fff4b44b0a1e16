"""`callcoach doctor`'s sound checks: the sound system, its inputs and outputs against the
settings, opening the chosen microphone and call audio, and (--tone) the whole loop: a tone
played on the call's output must be heard on the call channel and not on the microphone."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

from callcoach.audio.block import SAMPLE_RATE, AudioBlock
from callcoach.audio.devices import CallAudio, CapturePlan, Device, DeviceKind, DeviceList, DeviceNotFound
from callcoach.audio.system import tone
from callcoach.doctor_check import Check
from callcoach.settings import Settings

TONE_HZ = 1000.0
TONE_S = 1.0
HEARD_DB = -40.0  # the call channel must hear the tone at least this loud
BLEED_MARGIN_DB = 25.0  # the mic hearing it within this much of the call channel: speakers


def sound_system_check(_settings: Settings, context: dict) -> Check:
    from callcoach.audio.system import sound_system

    system = sound_system()  # CallCoachError when there is no way to hear anything
    context["system"] = system
    devices = context["devices"] = system.devices()
    found = f"{devices.backend}: {len(devices.inputs)} inputs, {len(devices.outputs)} outputs"
    if not devices.outputs and sys.platform.startswith("linux"):
        return Check("sound system", "warn", f"{found}; no PulseAudio or PipeWire server answered, so the call "
                     "audio can only come from an input")
    return Check("sound system", "ok", found)


def devices_check(settings: Settings, context: dict) -> Check:
    devices = context.get("devices")
    if devices is None:
        return Check("devices", "fail", "not checked: no sound system")
    plan = context["plan"] = CapturePlan.from_settings(settings)
    details = {"devices": _listing(devices, settings, plan)}
    mic, call = plan.resolve(devices)  # DeviceNotFound (one line, naming what is there) fails the check
    context["chosen"] = (mic, call)
    said = f"microphone {mic.name}{' (default)' if plan.mic is None else ''}; call audio: " + (
        f"what plays on {call.name}{' (default output)' if plan.call_device is None else ''}"
        if plan.call is CallAudio.OUTPUT else f"input {call.name}")
    return Check("devices", "ok", said, details)


def open_check(_settings: Settings, context: dict, tone: bool = False) -> Check:
    """Open the chosen microphone and call audio for real; with `tone`, play one on the
    call's output and say where it was heard."""
    system, plan = context.get("system"), context.get("plan")
    if system is None or "chosen" not in context:
        return Check("open devices", "fail", "not checked: no devices")
    source = system.open(plan)
    source.start()  # opens both streams: CallCoachError when one will not open
    if not tone:
        source.stop()
        return Check("open devices", "ok", "the microphone and the call audio open")
    mic, call = context["chosen"]
    if call.kind is not DeviceKind.OUTPUT:
        source.stop()
        return Check("tone", "warn", "the call comes from an input: no output to play a tone on")
    return _tone(system, source, call)


def _tone(system, source, output: Device) -> Check:
    heard: dict[str, list[AudioBlock]] = {"agent": [], "customer": []}
    reader = threading.Thread(target=lambda: [heard[b.role].append(b) for b in source.blocks()], daemon=True)
    reader.start()
    started = time.monotonic() - source.started_at
    system.play(output, tone(TONE_HZ, TONE_S))
    ended = time.monotonic() - source.started_at + 0.3  # the monitor delivers a little after playback
    _wait_until(lambda: all(_end(heard[r]) >= ended * SAMPLE_RATE for r in heard), 3.0)
    source.stop()
    reader.join(5.0)
    window = (int(started * SAMPLE_RATE), int(ended * SAMPLE_RATE))
    call_db, mic_db = (_tone_db(heard[role], window) for role in ("customer", "agent"))
    details = {"call_db": round(call_db, 1), "mic_db": round(mic_db, 1)}
    if call_db < HEARD_DB:
        return Check("tone", "fail", f"a tone played on {output.name} was not heard on the call channel "
                     f"({call_db:.0f} dB)", details)
    if mic_db > call_db - BLEED_MARGIN_DB:
        return Check("tone", "warn", f"the tone was heard on the call channel ({call_db:.0f} dB) and by the "
                     f"microphone too ({mic_db:.0f} dB): speakers or an open headset; the customer's words the "
                     "microphone hears are not counted as the agent's", details)
    return Check("tone", "ok", f"the tone played on {output.name} was heard on the call channel ({call_db:.0f} dB) "
                 f"and not by the microphone ({mic_db:.0f} dB)", details)


def _end(blocks: list[AudioBlock]) -> int:
    return blocks[-1].end if blocks else 0


def _wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a capture thread's progress, bounded


def _tone_db(blocks: list[AudioBlock], window: tuple[int, int]) -> float:
    """Level of the test tone's frequency in [window) of a role's audio, dBFS."""
    parts = [b.samples[max(0, window[0] - b.start):max(0, window[1] - b.start)] for b in blocks
             if b.end > window[0] and b.start < window[1]]
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if len(audio) < SAMPLE_RATE // 10:
        return -120.0
    t = np.arange(len(audio)) / SAMPLE_RATE
    amplitude = 2 * abs(np.mean(audio * np.exp(-2j * np.pi * TONE_HZ * t)))
    return float(20 * np.log10(max(amplitude, 1e-6)))


def _listing(devices: DeviceList, settings: Settings, plan: CapturePlan) -> list[dict]:
    """Every input and output, with the settings that point at it."""
    call_key = "call_output" if plan.call is CallAudio.OUTPUT else "call_device"
    chosen: dict[tuple[DeviceKind, str], list[str]] = {}  # (kind, device id) -> setting keys
    for key, kind, name in (("agent_device", DeviceKind.INPUT, plan.mic), (call_key, plan.call_kind, plan.call_device)):
        if name:
            try:
                chosen.setdefault((kind, devices.find(kind, name).id), []).append(key)
            except DeviceNotFound:
                pass
    return [{"name": d.name, "kind": kind.value, "default": d.default, "matches": chosen.get((kind, d.id), [])}
            for kind in DeviceKind for d in devices.of(kind)]
