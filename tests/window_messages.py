"""Every message the widget's window can show, made by the code that makes it where that
can run here (settings and policy files, the session store, device resolution, model and
playbook loading, error summaries), else as the engine and the app word it.

Used by tests/test_widget_messages.py (each must fit the window at 360×220) and by
`tools/screenshots.py --messages FOLDER` (a screenshot of each, to look at).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callcoach.audio.devices import CallAudio, CapturePlan, Device, DeviceKind, DeviceList
from callcoach.errors import CallCoachError
from callcoach.gui.app import DEMO_FILE, PICKED_TODO, settings_problem
from callcoach.gui.bridge import describe_error
from callcoach.gui.sound import Picked, resolve
from callcoach.roles import DEVICE_WORD

# The window's own hint line, in each state a message can show in.
HINTS = {
    "idle": "Press ▶ or Ctrl+Shift+Space when the call starts.",
    "call": "Listening. Prompts appear here when they can help.",
    "ended": "Press ▶ or Ctrl+Shift+Space for the next call.",
}


@dataclass(frozen=True)
class Shown:
    name: str
    level: str  # "error" (window.show_problem), "warning" or "info" (message.show_message)
    text: str
    todo: tuple[str, str | None] | None = None  # None: the bar's own advice for errors
    variable: bool = False  # carries a path or an exception's words: may end in "…"


def _input(name: str, default: bool = False, card: str | None = None) -> Device:
    return Device(name, name, DeviceKind.INPUT, default, card)


def _output(name: str, default: bool = False, card: str | None = None) -> Device:
    return Device(name, name, DeviceKind.OUTPUT, default, card)


# A desktop with a USB headset and the laptop's own sound, named as PulseAudio names them.
DESKTOP = DeviceList(
    (_input("Jabra Evolve2 65 Mono", True, "1"), _input("Built-in Audio Analog Stereo", card="0"),
     _input("USB PnP Sound Device Mono", card="2")),
    (_output("Jabra Evolve2 65 Analog Stereo", True, "1"), _output("Built-in Audio Analog Stereo", card="0")),
    "PulseAudio 16.1")


def _device_problem(plan: CapturePlan, devices: DeviceList = DESKTOP) -> str:
    try:
        resolve(plan, devices)
    except CallCoachError as exc:
        return str(exc)
    raise AssertionError(f"{plan} resolves on {devices}")


def device_messages() -> list[Shown]:
    picked = resolve(CapturePlan(), DESKTOP)
    quiet = DeviceList((_input("Test Microphone", True),), (_output("Test Headset", True),), "PulseAudio 16.1")
    return [
        Shown("picked", "info", picked.sentence(), PICKED_TODO),
        Shown("picked-test-devices", "info", resolve(CapturePlan(), quiet).sentence(), PICKED_TODO),
        Shown("picked-call-input", "info", Picked(CapturePlan(None, CallAudio.INPUT, "USB PnP Sound Device Mono"),
                                                  DESKTOP.inputs[0], DESKTOP.inputs[2]).sentence(), PICKED_TODO),
        Shown("mic-not-connected", "error", _device_problem(CapturePlan("Jabra Evolve2 65 Mono Headset Microphone"))),
        Shown("output-not-connected", "error",
              _device_problem(CapturePlan(None, CallAudio.OUTPUT, "Logitech H390 USB Headset Analog Stereo"))),
        Shown("input-not-connected", "error", _device_problem(CapturePlan(None, CallAudio.INPUT, "Desk phone tap"))),
        Shown("no-call-input", "error", _device_problem(CapturePlan(None, CallAudio.INPUT, None))),
        Shown("ambiguous", "error", _device_problem(CapturePlan("Mono"))),
        Shown("no-microphone", "error", _device_problem(CapturePlan(), DeviceList((), DESKTOP.outputs, "PulseAudio 16.1"))),
        Shown("no-output", "error", _device_problem(CapturePlan(), DeviceList(DESKTOP.inputs, (), "PulseAudio 16.1"))),
        Shown("no-outputs-here", "error", _device_problem(CapturePlan(), DeviceList(
            DESKTOP.inputs, (), "PortAudio V19.6.0-devel", "no PulseAudio or PipeWire server answered"))),
        Shown("cannot-open", "error", "cannot open 'alsa_input.usb-GN_Netcom_A_S_Jabra_EVOLVE2_65-00.mono-fallback': "
              "Access denied", variable=True),  # callcoach/audio/pulse/client.py
        Shown("portaudio-missing", "error", "PortAudio is not installed (libportaudio2); install it to use live "
              "devices (cannot load library 'libportaudio.so.2': libportaudio.so.2: cannot open shared object "
              "file: No such file or directory)", variable=True),  # callcoach/audio/live.py
    ]


def engine_messages() -> list[Shown]:
    """Notices as callcoach/engine/engine.py words them."""
    shown = []
    for role, word in DEVICE_WORD.items():
        shown += [Shown(f"{role}-lost", "warning", f"{word} lost – reconnecting"),
                  Shown(f"{role}-back", "info", f"{word} back after a 12.3 s gap"),
                  Shown(f"{role}-dropped", "warning", f"{word}: 3.2 s of audio dropped so far (the capture queue "
                        "was full; the computer is too busy)"),
                  Shown(f"{role}-gap", "warning", f"{role} audio gap of 2.4 s")]
    return [*shown, Shown("transcription-failed", "error", "transcription failed: CUDA failed with error out of "
                          "memory (cudaMalloc failed to allocate 1.2 GiB on device 0)", variable=True)]


def file_messages(folder: Path) -> list[Shown]:
    """Problems with the files CallCoach reads, from the code that reads them."""
    from callcoach.coach.playbook import load_playbook
    from callcoach.engine.transcriber import resolve_model
    from callcoach.settings import Settings
    from callcoach.store import SessionStore

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "home" / "agent" / ".config" / "CallCoach"
    config.mkdir(parents=True)
    (config / "settings.json").write_text("{")
    (config / "policy.toml").write_text('[settings]\nopacity = 0.1\nprompt_budget = "many"\n[locked]\nkeys = ["volume"]\n')
    settings = Settings(config / "settings.json", config / "policy.toml")
    (config / "bad-policy.toml").write_text("[settings\n")
    safe = Settings(config / "settings.json", config / "bad-policy.toml")
    problems = [*(settings_problem(p, settings) for p in settings.errors),
                *(settings_problem(p, safe) for p in safe.policy_errors)]
    shown = [Shown(f"settings-{n}", "warning", problem, variable=True) for n, problem in enumerate(problems)]
    (folder / "taken").write_text("")
    damaged = folder / "damaged.db"
    damaged.write_bytes(b"not a database" * 100)
    for name, path in (("store-not-folder", folder / "taken" / "sessions.db"), ("store-damaged", damaged)):
        try:
            SessionStore(path).recover()
        except CallCoachError as exc:
            shown.append(Shown(name, "warning", f"This call is not being saved for QA: {exc}", variable=True))
    (folder / "playbook.toml").write_text("[[rule]]\nid = 1\n")
    _, playbook_error = load_playbook(folder / "playbook.toml")
    shown.append(Shown("playbook", "error", playbook_error, variable=True))
    for name, model in (("model-missing", "/opt/callcoach/models/faster-whisper-small.en"), ("model-not-one", folder)):
        try:
            resolve_model(str(model))
        except CallCoachError as exc:
            shown.append(Shown(name, "error", str(exc), variable=True))
    return shown


def app_messages() -> list[Shown]:
    return [
        Shown("demo-missing", "error", f"the demo call ({DEMO_FILE}) is missing from this installation"),
        Shown("unexpected", "error", describe_error(RuntimeError("decoder exploded " * 20)), variable=True),
    ]


def all_messages(folder: Path) -> list[Shown]:
    return [*device_messages(), *engine_messages(), *file_messages(folder), *app_messages()]


def show(window, message: Shown) -> None:
    """As the app shows it."""
    if message.level == "error" and message.todo is None:
        window.show_problem(message.text)
    else:
        window.message.show_message(message.level, message.text, todo=message.todo)


def set_state(window, state: str) -> None:
    """The window before a call, during one (transcript showing), or after it."""
    window.set_hint(HINTS[state])
    window.transcript.clear_all()
    if state == "call":
        for t, role, text in ((1.0, "agent", "Thank you for calling, this is Sam."),
                              (3.5, "customer", "I have been waiting three weeks for my refund.")):
            window.transcript.add_final(role, t, text)
