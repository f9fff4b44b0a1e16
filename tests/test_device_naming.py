"""Device lists and names, on device descriptions from systems this machine cannot run
(Windows) and on the PulseAudio/PipeWire server states the tests see, without a server."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from callcoach.audio.devices import CallAudio, CapturePlan, DeviceKind, DeviceNotFound
from callcoach.audio.pulse.client import PulseDevice, ServerState
from callcoach.audio.pulse.devices import backend_name, from_state
from callcoach.audio.wasapi import device_list
from callcoach.settings import Key, Settings

DATA = Path(__file__).parent / "data"


@pytest.fixture
def windows():
    recorded = json.loads((DATA / "windows_devices.json").read_text())
    as_objects = {key: [SimpleNamespace(**d) for d in recorded[key]] for key in ("speakers", "microphones")}
    return device_list(as_objects["speakers"], as_objects["microphones"], recorded["default_speaker"],
                       recorded["default_microphone"])


def test_windows_inputs_are_microphones_and_loopbacks_are_outputs(windows):
    assert [d.name for d in windows.inputs] == ["Microphone Array (Realtek(R) Audio)",
                                                "Headset Microphone (Jabra Evolve2 65)"]
    assert [d.name for d in windows.outputs] == ["Speakers (Realtek(R) Audio)", "Headset Earphone (Jabra Evolve2 65)",
                                                 "Microsoft Teams Audio"]
    assert windows.default(DeviceKind.INPUT).name == "Headset Microphone (Jabra Evolve2 65)"
    assert windows.default(DeviceKind.OUTPUT).name == "Speakers (Realtek(R) Audio)"


def test_windows_headset_earpiece_is_found_from_its_microphone(windows):
    mic = windows.find(DeviceKind.INPUT, "jabra")
    assert windows.matching_output(mic).name == "Headset Earphone (Jabra Evolve2 65)"
    laptop = windows.find(DeviceKind.INPUT, "Microphone Array")
    assert windows.matching_output(laptop).name == "Speakers (Realtek(R) Audio)"
    assert windows.matching_output(windows.find(DeviceKind.OUTPUT, "Teams")) is None


def test_names_match_exactly_then_by_unique_substring_and_say_what_is_there(windows):
    assert windows.find(DeviceKind.OUTPUT, "Microsoft Teams Audio").id.endswith("6c33}")
    assert windows.find(DeviceKind.OUTPUT, "earphone").name == "Headset Earphone (Jabra Evolve2 65)"
    with pytest.raises(DeviceNotFound, match="ambiguous; it matches: Speakers .*, Headset Earphone"):
        windows.find(DeviceKind.OUTPUT, "(")
    with pytest.raises(DeviceNotFound) as missing:
        windows.find(DeviceKind.OUTPUT, "Plantronics")
    assert str(missing.value) == ("no output named 'Plantronics'; the outputs here: Speakers (Realtek(R) Audio), "
                                  "Headset Earphone (Jabra Evolve2 65), Microsoft Teams Audio")


def _pulse_state(server="pulseaudio 16.1"):
    """A laptop on PulseAudio with a USB headset: cards 0 (built-in) and 1 (the headset)."""
    sinks = (PulseDevice("alsa_output.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo", 0,
                         "alsa_output.pci-0000_00_1f.3.analog-stereo.monitor"),
             PulseDevice("alsa_output.usb-GN_Netcom_Jabra_EVOLVE_65-00.analog-stereo", "Jabra EVOLVE 65 Analog Stereo",
                         1, "alsa_output.usb-GN_Netcom_Jabra_EVOLVE_65-00.analog-stereo.monitor"))
    sources = (PulseDevice(sinks[0].monitor, "Monitor of Built-in Audio Analog Stereo", 0, sinks[0].name),
               PulseDevice(sinks[1].monitor, "Monitor of Jabra EVOLVE 65 Analog Stereo", 1, sinks[1].name),
               PulseDevice("alsa_input.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo", 0, ""),
               PulseDevice("alsa_input.usb-GN_Netcom_Jabra_EVOLVE_65-00.mono-fallback", "Jabra EVOLVE 65 Mono", 1, ""))
    return ServerState(server, sinks[1].name, sinks[0].monitor, sinks, sources)


def test_pulse_monitors_are_never_inputs_and_outputs_are_captured_through_them():
    devices = from_state(_pulse_state())
    listing = devices.listing
    assert [d.name for d in listing.inputs] == ["Built-in Audio Analog Stereo", "Jabra EVOLVE 65 Mono"]
    assert [d.name for d in listing.outputs] == ["Built-in Audio Analog Stereo", "Jabra EVOLVE 65 Analog Stereo"]
    # The default source is a monitor here (PulseAudio picks one when no mic was chosen): no input is default.
    assert listing.default(DeviceKind.INPUT) is None
    headset = listing.find(DeviceKind.OUTPUT, "Jabra")
    assert headset.default
    assert devices.record_from(headset) == "alsa_output.usb-GN_Netcom_Jabra_EVOLVE_65-00.analog-stereo.monitor"
    mic = listing.find(DeviceKind.INPUT, "jabra")
    assert devices.record_from(mic) == "alsa_input.usb-GN_Netcom_Jabra_EVOLVE_65-00.mono-fallback"
    assert listing.matching_output(mic) == headset


def test_the_default_microphone_is_a_real_input_even_when_the_server_default_is_a_monitor():
    mic, call = CapturePlan().resolve(from_state(_pulse_state()).listing)
    assert mic.kind is DeviceKind.INPUT and mic.name == "Built-in Audio Analog Stereo"
    assert call.name == "Jabra EVOLVE 65 Analog Stereo"


@pytest.mark.parametrize("server, name", [("pulseaudio 16.1", "PulseAudio 16.1"),
                                           ("PulseAudio (on PipeWire 0.3.65) 15.0.0", "PipeWire 0.3.65")])
def test_the_sound_system_is_named_for_what_runs(server, name):
    assert from_state(_pulse_state(server)).listing.backend == name
    assert backend_name(server) == name


def test_settings_that_name_an_input_for_the_call_still_mean_an_input(fresh_settings):
    settings = Settings()
    settings.set(Key.CALL_DEVICE, "Desk phone tap")
    assert CapturePlan.from_settings(settings) == CapturePlan(None, CallAudio.INPUT, "Desk phone tap")
    settings.set(Key.CALL_AUDIO, "output")  # chosen explicitly: the output wins
    settings.set(Key.CALL_OUTPUT, "Jabra")
    assert CapturePlan.from_settings(settings) == CapturePlan(None, CallAudio.OUTPUT, "Jabra")


def test_first_run_plan_is_the_default_microphone_and_the_default_output(fresh_settings):
    assert CapturePlan.from_settings(Settings()) == CapturePlan(None, CallAudio.OUTPUT, None)
