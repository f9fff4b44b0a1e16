"""The agent's widget: always on top, frameless, small, draggable, and never focused.

It shows what the engine and coach say (`on_event`, on the GUI thread) and the call's
state (`show_call_state`), and asks the app to act through signals; it owns no threads.
The app speaks to it through the methods here (what to show), never to its children.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QLayout, QSizeGrip, QVBoxLayout, QWidget

from callcoach.coach.events import CallSummary, CoachState, Prompt, PromptCleared
from callcoach.engine.events import CallEnded, Level, ModelReady, Notice, Partial, Utterance
from callcoach.gui import theme
from callcoach.gui.bars import PaceBar, TalkShareBar
from callcoach.gui.call_controller import CallState
from callcoach.gui.geometry import GeometryKeeper
from callcoach.gui.message_bar import MessageBar
from callcoach.gui.meters import MeterRow
from callcoach.gui.mood_gauge import MoodGauge
from callcoach.gui.prompt_card import PromptCard
from callcoach.gui.title_bar import TitleBar
from callcoach.gui.transcript import TranscriptPane
from callcoach.settings import Key, Settings

QWIDGETSIZE_MAX = 16777215
COLLAPSED_HEIGHT = 34
TRANSCRIPT_WITH_CARD_MIN_HEIGHT = 330  # below this a prompt card hides the transcript
WINDOW_FLAGS = (Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)


class CoachWindow(QWidget):
    call_requested = Signal()  # start or stop
    settings_requested = Signal()
    quit_requested = Signal()
    feedback = Signal(int, str)  # prompt id, action
    message_action = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent, WINDOW_FLAGS)
        self.settings = settings
        self.setObjectName("CoachWindow")
        self.setWindowTitle("CallCoach")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setStyleSheet(theme.STYLE)
        self.collapsed = False
        self._drag_from: QPoint | None = None  # the press point, relative to the window
        self._press_at: QPoint | None = None  # where a press began, until it becomes a drag
        self.call_time = 0.0
        self.lost_devices: dict[str, str] = {}  # role -> its "… lost – reconnecting" message
        self._build()
        for child in self.findChildren(QWidget):  # no child may take focus either
            child.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Inside CallCoach's windows only; CoachApp also registers it system-wide.
        self.shortcut = QShortcut(QKeySequence(settings.get(Key.HOTKEY)), self)
        self.shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.shortcut.activated.connect(self.call_requested)
        self.geometry_keeper = GeometryKeeper(self, settings)
        self.geometry_keeper.restore()
        self.apply_settings()
        if settings.get(Key.COLLAPSED):
            self.set_collapsed(True, remember=False)

    def _build(self) -> None:
        root = QVBoxLayout(self)
        # The minimum size is set by _fit() for the width the window has: the layout's own
        # minimum assumes wrapped text at its narrowest, which left a blank band under a card.
        root.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        root.setContentsMargins(10, 5, 10, 6)
        root.setSpacing(5)
        self.title_bar = TitleBar(self.settings.get(Key.HOTKEY))
        self.title_bar.call_clicked.connect(self.call_requested)
        self.title_bar.collapse_clicked.connect(lambda: self.set_collapsed(not self.collapsed))
        self.title_bar.settings_clicked.connect(self.settings_requested)
        self.title_bar.close_clicked.connect(self.quit_requested)
        root.addWidget(self.title_bar)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(5)
        self.message = MessageBar()
        self.message.action.connect(self.message_action)
        self.message.changed.connect(self._arrange)
        self.meters = MeterRow()
        self.mood = MoodGauge()
        self.pace = PaceBar()
        self.talk = TalkShareBar()
        row = QHBoxLayout()
        row.setSpacing(14)
        row.addWidget(self.pace, 1)
        row.addWidget(self.talk, 1)
        self.card = PromptCard()
        self.card.feedback.connect(self.feedback)
        self.hint = QLabel()
        self.hint.setObjectName("Hint")
        self.hint.setProperty("role", "muted")
        self.hint.setWordWrap(True)
        self.transcript = TranscriptPane()
        body.addWidget(self.message)
        body.addWidget(self.meters)
        body.addWidget(self.mood)
        body.addLayout(row)
        body.addWidget(self.card)
        body.addWidget(self.hint)
        body.addWidget(self.transcript, 100)
        body.addStretch(1)  # spare height goes to the transcript, else below everything
        root.addWidget(self.body, 1)
        self.grip = QSizeGrip(self)
        self.grip.resize(12, 12)

    # -- settings ------------------------------------------------------------------------

    def apply_settings(self) -> None:
        self.setWindowOpacity(float(self.settings.get(Key.OPACITY)))
        self.shortcut.setKey(QKeySequence(self.settings.get(Key.HOTKEY)))
        self.title_bar.set_shortcut(self.settings.get(Key.HOTKEY))
        self._arrange()

    def _arrange(self) -> None:
        """The prompt card comes first: the transcript only gets the room it leaves."""
        card = self.card.prompt is not None
        self.hint.setVisible(not card and bool(self.hint.text()))
        room = not card or self.height() >= TRANSCRIPT_WITH_CARD_MIN_HEIGHT
        self.transcript.setVisible(bool(self.settings.get(Key.SHOW_TRANSCRIPT)) and not self.collapsed and room)
        self._fit()

    def _fit(self) -> None:
        """Never smaller than what shows needs at this width: text must not overlap."""
        if self.collapsed:
            return
        layout = self.layout()
        layout.activate()
        self.setMinimumWidth(layout.minimumSize().width())
        need = layout.totalHeightForWidth(self.width())
        if need < 0:  # no wrapped text showing: the plain minimum is exact
            need = layout.minimumSize().height()
        if need != self.minimumHeight():
            self.setMinimumHeight(need)  # grows the window if it is smaller

    def set_shortcut_note(self, text: str) -> None:
        """What the start/stop shortcut does here (it may work only inside CallCoach)."""
        self.title_bar.set_shortcut(text)

    # -- call state ----------------------------------------------------------------------

    def show_call_state(self, state: CallState, demo: bool = False) -> None:
        shown = _STATE_SHOWN.get(state)
        if shown is None:  # nothing to say before a call, or while the meters free the devices
            return
        kind, text, active = shown
        if isinstance(text, tuple):
            text = text[demo]
        self.title_bar.set_state(kind, text)
        if active is not None:
            self.title_bar.set_call_active(active)
        self._refresh_summary()

    def call_state_text(self) -> str:
        return self.title_bar.state.text()

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self._arrange()

    def reset_call(self) -> None:
        """A new call begins: clear what the last one showed."""
        self.call_time = 0.0
        self.lost_devices.clear()
        self.title_bar.set_time(0)
        self.card.clear()
        self._arrange()
        self._shrink_after_card()
        self.mood.reset()
        self.pace.reset()
        self.talk.reset()
        self.transcript.clear_all()
        if self.message.level != "error":
            self.message.dismiss()
        self._refresh_summary()

    def show_problem(self, message: str) -> None:
        self.message.show_message("error", message)
        if self.collapsed:
            self.set_collapsed(False)

    def warn(self, message: str, timeout_s: float | None = None) -> None:
        self.message.show_message("warning", message, timeout_s=timeout_s)

    def inform(self, message: str, timeout_s: float | None = None,
               todo: tuple[str, str | None] | None = None) -> None:
        """An info line, unless a warning or a problem is showing: those come first."""
        if self.message.level in ("", "info"):
            self.message.show_message("info", message, timeout_s, todo=todo)

    def show_shared(self, shared: bool, problem: str | None = None) -> None:
        """Whether this call's live status goes to the supervisors' board (always visible)."""
        self.title_bar.set_shared(shared, problem)

    def show_supervisor_coming(self, who: str) -> None:
        self.inform(f"Supervisor on the way: {who} acknowledged the escalation.")

    def dismiss_message(self, *levels: str) -> None:
        """Hide the message line, or only a message of one of these levels."""
        if not levels or self.message.level in levels:
            self.message.dismiss()

    # -- levels outside a call -----------------------------------------------------------

    def show_level(self, role: str, rms_db: float) -> None:
        self.meters.set_level(role, rms_db)

    def clear_levels(self) -> None:
        self.meters.clear()

    # -- events from the engine and the coach (GUI thread) -------------------------------

    def on_event(self, event: object) -> None:
        handler = self._HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _level(self, e: Level) -> None:
        self.meters.set_level(e.role, e.rms_db)
        if e.t > self.call_time:
            self.call_time = e.t
            self.title_bar.set_time(e.t)

    def _partial(self, e: Partial) -> None:
        self.transcript.set_partial(e.role, e.start, e.text)

    def _utterance(self, e: Utterance) -> None:
        self.transcript.add_final(e.role, e.start, e.text)

    def _state(self, s: CoachState) -> None:
        self.mood.set_mood(s.mood, s.mood_state, s.mood_trend)
        self.pace.set_pace(s.agent_wpm, s.pace_band)
        self.talk.set_share(s.agent_talk_share)
        self._refresh_summary()

    def _prompt(self, p: Prompt) -> None:
        self.card.show_prompt(p)
        self._arrange()
        self._refresh_summary()

    def _cleared(self, c: PromptCleared) -> None:
        self.card.clear(c.id)
        self._arrange()
        self._shrink_after_card()
        self._refresh_summary()

    def _shrink_after_card(self) -> None:
        """A card may have made the window grow; give the agent back the size they chose."""
        if self.card.prompt is None and not self.collapsed:
            self.resize(self.width(), self.geometry_keeper.expanded_height)

    def _notice(self, n: Notice) -> None:
        if n.kind == "device_lost":  # stays until the device is back
            self.lost_devices[n.role] = n.message
            self.message.show_message("warning", n.message)
            return
        if n.kind == "device_back":
            self.lost_devices.pop(n.role, None)
            if self.lost_devices:  # the other one is still gone
                self.message.show_message("warning", next(iter(self.lost_devices.values())))
            else:
                self.message.show_message("info", n.message, timeout_s=5)
            return
        if self.lost_devices and n.level != "error":
            return  # "reconnecting" stays in view
        if n.level == "error":
            self.show_problem(n.message)
        elif n.level == "warning":
            self.message.show_message("warning", n.message, timeout_s=8)

    def _model_ready(self, _e: ModelReady) -> None:
        self.set_hint("Listening. Prompts appear here when they can help.")

    def _call_ended(self, _e: CallEnded) -> None:
        self.meters.clear()
        if self.lost_devices:  # no longer reconnecting: the call is over
            self.lost_devices.clear()
            if self.message.level == "warning":
                self.message.dismiss()

    def _summary(self, s: CallSummary) -> None:
        self.card.set_handoff(s.handoff)

    _HANDLERS = {Level: _level, Partial: _partial, Utterance: _utterance, CoachState: _state,
                 Prompt: _prompt, PromptCleared: _cleared, Notice: _notice, ModelReady: _model_ready,
                 CallEnded: _call_ended, CallSummary: _summary}

    # -- collapse ------------------------------------------------------------------------

    def set_collapsed(self, collapsed: bool, remember: bool = True) -> None:
        if collapsed == self.collapsed:
            return
        keeper = self.geometry_keeper
        if collapsed and self.card.prompt is None:  # a card's growth is not the agent's choice
            keeper.expanded_height = self.height()
        expanded_height = keeper.expanded_height  # showing the body resizes on the way
        self.collapsed = collapsed
        self.body.setVisible(not collapsed)
        self.grip.setVisible(not collapsed)
        self.title_bar.set_collapsed(collapsed)
        self.layout().setContentsMargins(10, 5, 10, 5 if collapsed else 6)
        if collapsed:
            self.setMinimumHeight(0)
            self.setMaximumHeight(COLLAPSED_HEIGHT)
            self.resize(self.width(), COLLAPSED_HEIGHT)
        else:
            self.setMaximumHeight(QWIDGETSIZE_MAX)
            self.resize(self.width(), expanded_height)
        self.apply_settings()
        self._refresh_summary()
        if remember:
            try:
                self.settings.set(Key.COLLAPSED, collapsed)
                self.settings.save()
            except Exception:  # locked by policy or unwritable: the window still collapses
                pass

    def _refresh_summary(self) -> None:
        if not self.collapsed:
            return
        mood = self.mood.state_text() if self.mood.state else ""
        p = self.card.prompt
        self.title_bar.set_summary(mood, theme.MOOD.get(self.mood.state or "", theme.TEXT),
                                   p.title if p else "", theme.SEVERITY.get(p.severity, theme.TEXT) if p else "")

    # -- dragging, geometry --------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_at = event.globalPosition().toPoint()
            self._drag_from = self._press_at - self.pos()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag_from is not None:
            at = event.globalPosition().toPoint()
            # A drag starts only once the mouse has really moved: handing a mere click to
            # the window manager as a move leaves some (IceWM) in move mode, holding the
            # keyboard the agent is typing with.
            if self._press_at is not None:
                if (at - self._press_at).manhattanLength() < QApplication.startDragDistance():
                    return
                self._press_at = None
                handle = self.windowHandle()
                if handle is not None and handle.startSystemMove():
                    self._drag_from = None  # the window manager moves it (X11, Wayland, Windows)
                    return
            self.move(at - self._drag_from)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        self._drag_from = self._press_at = None
        super().mouseReleaseEvent(event)

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        self.geometry_keeper.changed()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.grip.move(self.width() - self.grip.width() - 2, self.height() - self.grip.height() - 2)
        if not self.collapsed:
            if self.card.prompt is None:
                self.geometry_keeper.expanded_height = self.height()
            self._arrange()
        self.geometry_keeper.changed()

    def closeEvent(self, event) -> None:
        self.geometry_keeper.flush()
        super().closeEvent(event)


# The title bar for each call state: (kind, text or (live text, demo text), start/stop
# button shows a call under way: True/False, None: unchanged).
_STATE_SHOWN: dict[CallState, tuple[str, str | tuple[str, str], bool | None]] = {
    CallState.NOT_STARTED: ("error", "Not started", False),
    CallState.STARTING: ("starting", "Starting…", True),
    CallState.LIVE: ("live", ("On call", "Demo call"), None),
    CallState.FINISHING: ("starting", "Finishing…", None),
    CallState.ENDED: ("ended", ("Call ended", "Demo ended"), False),
    CallState.FAILED: ("error", "Stopped", False),
}
