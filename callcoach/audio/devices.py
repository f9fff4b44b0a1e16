"""What this desktop can hear, and what a call is to capture, as typed values.

An agent's call has two sides: the agent's headset microphone (an input), and the customer,
which is what the agent hears: the sound playing on an output (the headset's earpiece, the
speakers), captured by loopback. Desk-phone taps and virtual cables are the exception: an
input that carries the call. Names are what the operating system shows a person.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from callcoach.errors import CallCoachError
from callcoach.settings import Key


class DeviceKind(enum.Enum):
    INPUT = "input"  # a microphone or another real capture input; never an output's monitor
    OUTPUT = "output"  # a playback device whose sound can be captured (loopback / monitor)


class CallAudio(enum.Enum):
    """Where the customer's side of the call comes from."""

    OUTPUT = "output"  # what plays on an output: the agent hears the customer there
    INPUT = "input"  # an input carries the call (desk-phone tap, virtual cable)


WORD = {DeviceKind.INPUT: "input", DeviceKind.OUTPUT: "output"}


@dataclass(frozen=True)
class Device:
    id: str  # the backend's own identifier (stable across renames of the description)
    name: str  # what a person sees: "Jabra Evolve2 65 Mono", "Speakers (Realtek Audio)"
    kind: DeviceKind
    default: bool = False
    card: str | None = None  # the hardware it belongs to: a headset's mic and earpiece share it

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "default": self.default}


class DeviceNotFound(CallCoachError):
    """A device named in the settings or on the command line is not there."""


@dataclass(frozen=True)
class DeviceList:
    inputs: tuple[Device, ...]
    outputs: tuple[Device, ...]
    backend: str  # "PulseAudio 16.1", "PipeWire 0.3.65", "WASAPI", "PortAudio V19.6.0-devel"
    why_no_outputs: str = ""  # where outputs cannot be captured at all: why, and what to do instead

    def of(self, kind: DeviceKind) -> tuple[Device, ...]:
        return self.inputs if kind is DeviceKind.INPUT else self.outputs

    def default(self, kind: DeviceKind) -> Device | None:
        return next((d for d in self.of(kind) if d.default), None)

    def candidates(self, kind: DeviceKind, name: str) -> list[Device]:
        """The devices `name` may mean: the one with that exact name (then the backend's id),
        else every one whose name contains it, case-insensitively."""
        devices = self.of(kind)
        for exact in (lambda d: d.name == name, lambda d: d.id == name):
            found = [d for d in devices if exact(d)]
            if found:
                return found[:1]
        needle = name.casefold()
        return [d for d in devices if needle in d.name.casefold()]

    def find(self, kind: DeviceKind, name: str) -> Device:
        """An exact name first (then the backend's id), then a unique case-insensitive substring."""
        self._can_capture(kind)
        partial = self.candidates(kind, name)
        if len(partial) == 1:
            return partial[0]
        word = WORD[kind]
        devices = self.of(kind)
        if partial:
            raise DeviceNotFound(f"{word} name '{name}' is ambiguous; it matches: "
                                 + ", ".join(d.name for d in partial))
        there = ", ".join(d.name for d in devices) or "none found"
        raise DeviceNotFound(f"no {word} named '{name}'; the {word}s here: {there}")

    def _can_capture(self, kind: DeviceKind) -> None:
        if kind is DeviceKind.OUTPUT and self.why_no_outputs:
            raise DeviceNotFound(self.why_no_outputs)

    def matching_output(self, mic: Device) -> Device | None:
        """The output on the same hardware as `mic` (a headset's earpiece), if there is one."""
        if mic.card is None:
            return None
        return next((d for d in self.outputs if d.card == mic.card), None)

    def to_json(self) -> dict:
        return {"inputs": [d.to_json() for d in self.inputs], "outputs": [d.to_json() for d in self.outputs]}


@dataclass(frozen=True)
class Target:
    """What one role records: a device of a kind by name, or the default (None), followed."""

    kind: DeviceKind
    name: str | None

    def resolve(self, devices: DeviceList, pinned: str | None = None) -> Device:
        """The device now. Once a named device was found (`pinned`: its id), only that same
        device will do: after an unplug, a name's substring must not find a different one.
        The default microphone is a real input even where the system's default is a monitor."""
        if pinned is not None and self.name is not None:
            found = [d for d in devices.of(self.kind) if d.id == pinned]
            if not found:
                raise DeviceNotFound(f"'{self.name}' is not there")
            return found[0]
        if self.name is not None:
            return devices.find(self.kind, self.name)
        found = devices.default(self.kind) or next(iter(devices.of(self.kind)), None)
        if found is None:
            devices._can_capture(self.kind)
            raise DeviceNotFound(f"this desktop has no {WORD[self.kind]} ({devices.backend} lists none)")
        return found


@dataclass(frozen=True)
class CapturePlan:
    """Which devices a call listens to. A name of None means the system's default, followed
    when it changes (the agent switches headsets)."""

    mic: str | None = None
    call: CallAudio = CallAudio.OUTPUT
    call_device: str | None = None  # an output's name, or with CallAudio.INPUT an input's

    @property
    def call_kind(self) -> DeviceKind:
        return DeviceKind.OUTPUT if self.call is CallAudio.OUTPUT else DeviceKind.INPUT

    @classmethod
    def from_settings(cls, settings) -> CapturePlan:
        """From `callcoach.settings.Settings`. Settings and policies written before outputs
        could be captured name the call's input in `call_device`: that still means an input."""
        mode = settings.get(Key.CALL_AUDIO)
        if settings.source(Key.CALL_AUDIO) == "default" and settings.get(Key.CALL_DEVICE):
            mode = CallAudio.INPUT.value
        call = CallAudio(mode)
        device = settings.get(Key.CALL_DEVICE) if call is CallAudio.INPUT else settings.get(Key.CALL_OUTPUT)
        return cls(settings.get(Key.AGENT_DEVICE) or None, call, device or None)

    def targets(self) -> dict[str, Target]:
        """What each role records."""
        return {"agent": Target(DeviceKind.INPUT, self.mic), "customer": Target(self.call_kind, self.call_device)}

    def resolve(self, devices: DeviceList) -> tuple[Device, Device]:
        """The (microphone, call device) this plan means on this desktop now."""
        if self.call is CallAudio.INPUT and not self.call_device:
            raise DeviceNotFound("choose the input that carries the call (Settings, or --call-input NAME)")
        targets = self.targets()
        call = targets["customer"].resolve(devices)  # first: no way to hear the call is the bigger news
        return targets["agent"].resolve(devices), call
