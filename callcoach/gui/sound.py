"""The widget's use of the sound system (`callcoach.audio.system`): the devices there are,
what the settings' `CapturePlan` means on this desktop now, opening it, and the test tone.

Everything here waits on the sound server (a few seconds at worst): call it on a
background thread (`bridge.Background`, `CallRunner`, `LevelProbe`), never in a GUI slot.
No Qt here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callcoach.audio.devices import (
    CallAudio,
    CapturePlan,
    Device,
    DeviceKind,
    DeviceList,
    DeviceNotFound,
)
from callcoach.audio.system import sound_system, tone
from callcoach.errors import CallCoachError

if TYPE_CHECKING:
    from callcoach.audio.block import Source

TONE_HZ = 440.0
TONE_S = 2.0  # long enough to see the call-audio meter move

# Where outputs cannot be captured at all: macOS (PortAudio), Linux without a sound server.
NO_OUTPUTS = ("cannot hear what plays on an output on a Mac yet" if sys.platform == "darwin" else
              "cannot hear what plays on an output: no PulseAudio or PipeWire answered")
CALL_DEVICE = {CallAudio.OUTPUT: "the call output", CallAudio.INPUT: "the call input"}


@dataclass(frozen=True)
class Picked:
    """The devices a capture plan meant when they were opened."""

    plan: CapturePlan
    mic: Device
    call: Device

    def by_default(self) -> bool:
        """True when a device was not chosen and the system's default is used."""
        return self.plan.mic is None or self.plan.call_device is None

    def sentence(self) -> str:
        output = self.plan.call is CallAudio.OUTPUT
        heard = f"what plays on {self.call.name}" if output else f"the call on {self.call.name}"
        return f"Listening to {self.mic.name} and {heard}"


def list_devices() -> DeviceList:
    system = sound_system()
    try:
        return system.devices()
    finally:
        system.close()


def open_plan(plan: CapturePlan) -> tuple[Source, Picked]:
    """The plan's source (not started yet) and what it picked; a CallCoachError a person can
    act on when a device is not there."""
    system = sound_system()
    try:
        picked = resolve(plan, system.devices())
        return system.open(plan), picked
    finally:
        system.close()  # the source keeps its own connection


def resolve(plan: CapturePlan, devices: DeviceList) -> Picked:
    if plan.call is CallAudio.OUTPUT and devices.why_no_outputs:  # said shorter, the window is small
        raise CallCoachError(NO_OUTPUTS)
    if plan.call is CallAudio.INPUT and not plan.call_device:
        raise DeviceNotFound("choose the input that carries the call")
    try:
        return Picked(plan, *plan.resolve(devices))
    except DeviceNotFound as exc:
        raise DeviceNotFound(_not_there(plan, devices) or str(exc)) from None


def _not_there(plan: CapturePlan, devices: DeviceList) -> str | None:
    """'your microphone 'X' is not connected' for a chosen device that matches nothing
    (an ambiguous name, or no device at all, keeps the layer's own message)."""
    for kind, name, what in ((DeviceKind.INPUT, plan.mic, "your microphone"),
                             (plan.call_kind, plan.call_device, CALL_DEVICE[plan.call])):
        if name and not devices.candidates(kind, name):
            return f"{what} '{name}' is not connected"
    return None


def play_tone(output: Device) -> None:
    """A tone on `output`; returns once it has played."""
    system = sound_system()
    try:
        system.play(output, tone(TONE_HZ, TONE_S))
    finally:
        system.close()
