"""The server's sinks and sources as CallCoach devices: inputs are real sources (a monitor
of a sink is never an input), outputs are sinks, each captured through its monitor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcoach.audio.devices import Device, DeviceKind, DeviceList

from .client import PulseClient, ServerState


@dataclass(frozen=True)
class PulseDevices:
    listing: DeviceList
    monitors: dict[str, str]  # output id -> the source that hears what plays on it

    def record_from(self, device: Device) -> str:
        """What the server records to capture `device`."""
        return self.monitors[device.id] if device.kind is DeviceKind.OUTPUT else device.id


def backend_name(server: str) -> str:
    """'PulseAudio 16.1', or 'PipeWire 0.3.65' for pipewire-pulse ('PulseAudio (on PipeWire 0.3.65)')."""
    pipewire = re.search(r"PipeWire ([\d.]+)", server)
    if pipewire:
        return f"PipeWire {pipewire.group(1)}"
    name, _, version = server.partition(" ")
    return f"PulseAudio {version}" if name == "pulseaudio" else server


def from_state(state: ServerState) -> PulseDevices:
    inputs = tuple(Device(s.name, s.description, DeviceKind.INPUT, s.name == state.default_source, _card(s.card))
                   for s in state.sources if not s.monitor)
    outputs = tuple(Device(s.name, s.description, DeviceKind.OUTPUT, s.name == state.default_sink, _card(s.card))
                    for s in state.sinks if s.monitor)
    listing = DeviceList(inputs, outputs, backend_name(state.server))
    return PulseDevices(listing, {s.name: s.monitor for s in state.sinks if s.monitor})


def device_list(client: PulseClient) -> PulseDevices:
    return from_state(client.state())


def _card(card: int | None) -> str | None:
    return None if card is None else f"pulse-card-{card}"
