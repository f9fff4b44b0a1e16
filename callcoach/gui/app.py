"""Wiring: settings, the window, the tray, calls (live or the demo), the idle meters and
the session store every call is journaled into.

`CoachApp` never blocks the GUI thread: a call runs in a `CallRunner` (through the
`CallController`, which names the call's state), device levels outside a call in a
`LevelProbe`, and stopping either one only asks it to stop; the next step happens when
its `finished` signal arrives.
"""

from __future__ import annotations

import logging
import os
import sys
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from callcoach.audio.devices import CapturePlan
from callcoach.engine.events import Level
from callcoach.errors import CallCoachError
from callcoach.gui.bridge import EventBridge, LevelProbe, running_threads, warm_up_coach
from callcoach.gui.call_controller import CallController, CallState
from callcoach.gui.live_sharing import LiveSharing
from callcoach.gui.message_bar import SETTINGS
from callcoach.gui.sound import Picked, open_plan
from callcoach.gui.settings_dialog import SettingsDialog
from callcoach.gui.tray import Tray, app_icon
from callcoach.gui.window import CoachWindow
from callcoach.settings import Key, Settings

if TYPE_CHECKING:
    from callcoach.engine.transcriber import WhisperTranscriber

log = logging.getLogger(__name__)

DEMO_FILE = "demo_call.flac"
PICKED_DURING_CALL_S = 10  # "Listening to …" at call start, then the room is the transcript's
PICKED_TODO = ("Change them in ⚙ Settings.", SETTINGS)


def demo_call_path() -> str:
    from callcoach.paths import asset_path

    try:
        return str(asset_path(DEMO_FILE))
    except FileNotFoundError:
        raise CallCoachError(f"the demo call ({DEMO_FILE}) is missing from this installation") from None


def settings_problem(problem: str, settings: Settings) -> str:
    """A settings or policy file's problem, the files by name: their folders took all the
    window's room."""
    for path in (settings.user_path, settings.policy_path):
        problem = problem.replace(str(path), path.name)
    return problem


class Lifetime(Enum):
    RUNNING = "running"
    SHUTTING_DOWN = "shutting_down"  # threads asked to stop; `idle` follows when they have
    QUITTING = "quitting"  # shutting down, then the Qt application quits


class CoachApp(QObject):
    call_started = Signal()
    call_finished = Signal(object)  # the session summary, or None when the call failed
    idle = Signal()  # no call and no meter thread running (after quit(): safe to exit)

    def __init__(self, settings: Settings, mode: str = "live", demo_call: str | None = None,
                 store_path: str | None = None):
        super().__init__()
        if mode not in ("live", "demo"):
            raise ValueError(f"mode must be live or demo, not {mode!r}")
        self.settings = settings
        self.mode = mode
        self.demo_call = demo_call
        self.window = CoachWindow(settings)
        self.tray = Tray(self)
        self.calls = CallController()
        self.probe: LevelProbe | None = None
        self.store_path = store_path
        self.store = None  # the SessionStore, opened by start()
        self.writer = None  # journals the current or last call (late feedback included)
        self.uploader = None  # sends finished calls to the team store, when the policy names one
        self.sharing = LiveSharing(settings, self)  # the call's status to the supervisors' board, by policy
        self.hotkey = None  # the system-wide start/stop shortcut, while registered
        # Other threads (the store writer, the hotkey listener) hand work to the GUI thread here.
        self.posted = EventBridge()
        self.posted.connect_to(lambda call: call())
        self.dialog: SettingsDialog | None = None
        self.lifetime = Lifetime.RUNNING
        self._connect()

    def _connect(self) -> None:
        w, t, calls = self.window, self.tray, self.calls
        w.call_requested.connect(self.toggle_call)
        w.settings_requested.connect(self.open_settings)
        w.quit_requested.connect(self.quit)
        w.feedback.connect(self.feedback)
        w.message_action.connect(lambda _label: self.open_settings())
        t.toggle_window.connect(self.toggle_window)
        t.call.connect(self.toggle_call)
        t.collapse.connect(lambda: w.set_collapsed(not w.collapsed))
        t.settings.connect(self.open_settings)
        t.quit.connect(self.quit)
        calls.event.connect(w.on_event)
        calls.state_changed.connect(lambda state: w.show_call_state(state, demo=self.mode == "demo"))
        calls.failed.connect(w.show_problem)
        calls.finished.connect(self._call_finished)
        self.sharing.sharing.connect(lambda on: w.show_shared(on))
        self.sharing.problem.connect(lambda why: w.show_shared(self.sharing.publisher is not None, why))
        self.sharing.supervisor_coming.connect(w.show_supervisor_coming)

    # -- lifetime ------------------------------------------------------------------------

    def start(self) -> None:
        """Show the window; the demo starts playing, a live setup starts its meters."""
        self.window.show()
        self.tray.show()
        for problem in self.settings.errors:  # in full in the log
            self.window.warn(settings_problem(problem, self.settings), timeout_s=15)
        self._open_store()
        self._register_hotkey()
        if self.mode == "demo":
            self.start_call()
        else:
            self.window.set_hint(f"{self._press()} when the call starts.")
            self._start_meters()
        self._update_tray()

    def busy(self) -> bool:
        return self.calls.running() or self._meters_running()

    def call_active(self) -> bool:
        return self.calls.running()

    def _meters_running(self) -> bool:
        return bool(self.probe and self.probe.is_running())

    def quit(self) -> None:
        """Stop everything, then quit the Qt application once the threads have ended."""
        self.lifetime = Lifetime.QUITTING
        self._shut_down()

    def shutdown(self) -> None:
        """Stop the call and the meters, close the window; `idle` follows when all ended."""
        if self.lifetime is Lifetime.RUNNING:  # after quit(): still quitting
            self.lifetime = Lifetime.SHUTTING_DOWN
        self._shut_down()

    def _shut_down(self) -> None:
        self.calls.cancel_wait()
        if self.dialog is not None:
            self.dialog.reject()
        self.calls.stop()
        if self._meters_running():
            self.probe.stop()
        self.window.close()
        self.tray.hide()
        self._release_hotkey()
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self.busy():
            return
        if self.lifetime is not Lifetime.RUNNING:
            self._close_store()
        self.idle.emit()
        if self.lifetime is Lifetime.QUITTING and QApplication.instance() is not None and not running_threads():
            QApplication.instance().quit()

    def toggle_window(self) -> None:
        self.window.setVisible(not self.window.isVisible())
        self._update_tray()

    # -- calls ---------------------------------------------------------------------------

    def toggle_call(self) -> None:
        if self.call_active():
            self.stop_call()
        else:
            self.start_call()

    def start_call(self) -> None:
        if self.call_active() or self.lifetime is not Lifetime.RUNNING:
            return
        if self._meters_running():  # free the devices first; the meters' end starts the call
            self.calls.wait_for_devices()
            self.probe.stop()
            return
        try:
            make_source, name = self._source_factory()
        except CallCoachError as exc:
            self.calls.not_started()
            self.window.show_problem(str(exc))
            return
        from callcoach.pipeline import CallPipeline

        self.window.dismiss_message()
        pipeline = CallPipeline.from_settings(self.settings, source_name=name)
        self._journal(pipeline)
        self.sharing.start(pipeline, self._agent())
        self.window.reset_call()
        self.window.set_hint("Loading the speech model…")
        self.calls.start(pipeline, make_source)
        self.call_started.emit()
        self._update_tray()

    def stop_call(self) -> None:
        self.calls.stop()

    def _source_factory(self):
        if self.mode == "demo":
            path = self.demo_call or demo_call_path()

            def make_demo():
                from callcoach.audio.files import FileSource, read_call

                return FileSource(read_call(path), realtime=True)

            return make_demo, os.path.basename(path)
        plan = CapturePlan.from_settings(self.settings)

        def make_live():  # on the call's thread
            source, picked = open_plan(plan)
            self.posted.post(lambda: self._show_picked(picked, PICKED_DURING_CALL_S))
            return source

        return make_live, "live"

    def _show_picked(self, picked: Picked, timeout_s: float | None = None) -> None:
        """Say which devices the system's defaults turned out to be, and where to change them;
        a warning or a problem already showing comes first."""
        if picked.by_default():
            self.window.inform(picked.sentence(), timeout_s, todo=PICKED_TODO)

    def _call_finished(self, summary) -> None:
        self.sharing.stop()
        if summary is not None:
            again = "to play the demo again" if self.mode == "demo" else "for the next call"
            self.window.set_hint(f"{self._press()} {again}.")
        self.call_finished.emit(summary)
        self._update_tray()
        if self.mode == "live" and self.lifetime is Lifetime.RUNNING:
            self._start_meters()
        self._maybe_idle()

    def feedback(self, prompt_id: int, action: str) -> None:
        if self.calls.pipeline is not None:
            self.calls.pipeline.coach.feedback(prompt_id, action)

    # -- the system-wide shortcut -----------------------------------------------------------

    def _register_hotkey(self) -> None:
        """Start/stop from any program: the window never has focus for a Qt shortcut to work."""
        from callcoach import hotkeys

        self._release_hotkey()
        key = self.settings.get(Key.HOTKEY)
        try:
            self.hotkey = hotkeys.register(key, lambda: self.posted.post(self.toggle_call))
        except hotkeys.HotkeyUnavailable as exc:
            log.warning("shortcut %s works only inside CallCoach: %s", key, exc)
            self.window.set_shortcut_note(f"{key} inside CallCoach only: {exc}")
        else:
            log.info("shortcut %s registered system-wide", key)

    def _release_hotkey(self) -> None:
        if self.hotkey is not None:
            self.hotkey.close()
            self.hotkey = None

    def _press(self) -> str:
        return f"Press ▶ or {self.settings.get(Key.HOTKEY)}" if self.hotkey is not None else "Press ▶"

    # -- the session store ------------------------------------------------------------------

    def _open_store(self) -> None:
        """Open the store and mark calls cut off by a crash incomplete; if it cannot be used,
        coaching still works and the agent is told calls are not being saved."""
        from callcoach.store import SessionStore, default_store_path

        try:
            self.store = SessionStore(self.store_path or default_store_path(self.settings))
            recovered = self.store.recover()
        except CallCoachError as exc:
            self.store = None
            self._store_problem(str(exc))
            return
        if recovered:
            log.info("%d interrupted call(s) kept as incomplete", len(recovered))
        dsn = self.settings.get(Key.CENTRAL_STORE)
        if dsn:
            from callcoach.central.uploader import Uploader

            self.uploader = Uploader(self.store.path, dsn)  # its own thread and connection

    def _journal(self, pipeline) -> None:
        from callcoach.store import StoreWriter

        self._close_writer()
        if self.store is None:
            return
        try:
            self.writer = StoreWriter.attach(pipeline, self.store, agent=self._agent(),
                                             redact=self.settings.get(Key.REDACT),
                                             on_error=lambda m: self.posted.post(lambda: self._store_problem(m)),
                                             on_finished=self.uploader.wake if self.uploader else None)
        except CallCoachError as exc:
            self._store_problem(str(exc))

    def _agent(self) -> str:
        from callcoach.settings import agent_name

        return agent_name(self.settings)

    def _close_writer(self) -> None:
        # Only at the next call or when quitting: feedback on the follow-up card comes after
        # the call has ended. Closing writes what is queued, which by then is little or none.
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _close_store(self) -> None:
        self._close_writer()
        if self.uploader is not None:  # what is not sent yet stays in the outbox for next time
            self.uploader.close(timeout=1.0)
            self.uploader = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def _store_problem(self, message: str) -> None:
        log.warning("session store: %s", message)
        self.window.warn(f"This call is not being saved for QA: {message}", timeout_s=15)

    # -- meters outside a call -----------------------------------------------------------

    def _start_meters(self) -> None:
        if self.mode != "live" or self.lifetime is not Lifetime.RUNNING or self.call_active() \
                or self.dialog is not None or self._meters_running():
            return
        self.probe = LevelProbe(CapturePlan.from_settings(self.settings), name="callcoach-idle-meters")
        self.probe.bridge.connect_to(self._idle_level)
        self.probe.failed.connect(self._meters_failed)
        self.probe.finished.connect(self._meters_finished)
        self.probe.start()

    def _idle_level(self, event: object) -> None:
        handler = self._IDLE_EVENTS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _idle_meter(self, level: Level) -> None:
        self.window.show_level(level.role, level.rms_db)

    _IDLE_EVENTS = {Level: _idle_meter, Picked: _show_picked}  # what the idle meters' probe posts

    def _meters_failed(self, message: str) -> None:
        self.window.show_problem(message)

    def _meters_finished(self) -> None:
        self.window.clear_levels()
        if self.calls.state is CallState.WAITING:
            self.start_call()
        self._maybe_idle()

    # -- settings ------------------------------------------------------------------------

    def open_settings(self) -> None:
        if self.dialog is not None:
            self.dialog.raise_()
            return
        if self._meters_running():
            self.probe.stop()  # the dialog tests the devices itself
        self.dialog = SettingsDialog(self.settings)
        self.dialog.saved.connect(self._settings_saved)
        self.dialog.finished.connect(self._settings_closed)
        self.dialog.show()

    def _settings_saved(self) -> None:
        self.window.apply_settings()
        self._register_hotkey()  # the key may have changed; re-grabbing takes a few ms
        if self.mode == "live":
            self.window.dismiss_message("error", "info")  # about the devices before; the meters say anew

    def _settings_closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        self._start_meters()

    def _update_tray(self) -> None:
        self.tray.update(self.window.isVisible(), self.call_active(), self.window.collapsed,
                         self.window.call_state_text())


def run(mode: str = "live", demo_call: str | None = None) -> int:
    """`callcoach` / `callcoach demo`: the widget until the agent quits."""
    _check_display()
    import signal

    from PySide6.QtCore import QTimer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CallCoach")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    settings = Settings()
    preload_model(settings)
    coach = CoachApp(settings, mode=mode, demo_call=demo_call)
    signal.signal(signal.SIGINT, lambda *_: coach.quit())
    wake = QTimer()  # lets Python see Ctrl+C while Qt's loop runs
    wake.timeout.connect(lambda: None)
    wake.start(250)
    coach.start()
    QTimer.singleShot(0, _log_ready)  # runs once the event loop turns: the window is up and answering
    status = app.exec()
    wake.stop()
    return status


def _log_ready() -> None:
    from callcoach.logs import EVENTS, since_start

    logging.getLogger(EVENTS).info("widget ready %.2f s after the command started", since_start())


def preload_model(settings: Settings) -> WhisperTranscriber | None:
    """Load the model before the event loop starts, where its GIL-holding tokenizer read
    cannot stall the window; calls then reuse it (the loaded model, or None: a failure is
    left for the call to show). Then, once, freeze what exists: a full garbage collection
    walks every object while holding the GIL, which stalled the GUI ~90 ms mid-call, and
    the model, the libraries and the coach's lexicon live for the whole process."""
    import gc

    from callcoach.engine.engine import load_model
    from callcoach.pipeline import engine_settings

    try:
        model = load_model(engine_settings(settings))
    except CallCoachError:
        model = None
    warm_up_coach()
    gc.collect()
    gc.freeze()
    return model


def _check_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise CallCoachError("no display: run CallCoach in a desktop session (or under xvfb-run)")
