"""The top line: call state and timer, start/stop, collapse, settings, close.

Collapsed, it is the whole window: it then also shows the mood and the prompt's title.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from callcoach.gui import theme
from callcoach.gui.elided import ElidedLabel

STATE_COLORS = {"idle": theme.MUTED, "starting": theme.SEVERITY["info"], "live": theme.OK,
                "ended": theme.MUTED, "error": theme.SEVERITY["critical"]}


SHARED_TIP = ("This call's live status is shared with your supervisor: call time, the customer's mood, your "
              "pace and talk share, the prompt on screen. No audio and no words.")


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _button(text: str, tip: str, name: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setObjectName(name)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    b.setAutoRaise(True)
    b.setFixedSize(26, 22)
    return b


class TitleBar(QWidget):
    call_clicked = Signal()
    collapse_clicked = Signal()
    settings_clicked = Signal()
    close_clicked = Signal()

    def __init__(self, shortcut: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(24)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.dot = QLabel("●")
        self.state = QLabel("Ready")
        self.state.setObjectName("CallState")
        self.state.setProperty("role", "state")
        self.timer = QLabel("00:00")
        self.timer.setObjectName("CallTimer")
        self.timer.setProperty("role", "timer")
        # While the call's live status goes to the supervisors' board: agents must always
        # see when they are shared, or the coach feels like surveillance.
        self.shared = QLabel("Shared")
        self.shared.setObjectName("SharedBadge")
        self.shared.setToolTip(SHARED_TIP)
        self.shared.setStyleSheet(f"color: {theme.SEVERITY['info']}; font-weight: 600; font-size: 8pt;")
        self.shared.hide()
        self.mood = QLabel()  # collapsed only
        self.mood.setObjectName("CollapsedMood")
        self.prompt = ElidedLabel()  # collapsed only
        self.prompt.setObjectName("CollapsedPrompt")
        self.call_button = _button("▶", f"Start call ({shortcut})", "CallButton")
        self.collapse_button = _button("▁", "Collapse to a bar", "CollapseButton")
        self.settings_button = _button("⚙", "Settings", "SettingsButton")
        self.close_button = _button("✕", "Quit CallCoach", "CloseButton")
        for w in (self.dot, self.state, self.timer, self.shared, self.mood):
            layout.addWidget(w)
        layout.addWidget(self.prompt, 1)
        for b in (self.call_button, self.collapse_button, self.settings_button, self.close_button):
            layout.addWidget(b)
        self.call_button.clicked.connect(self.call_clicked)
        self.collapse_button.clicked.connect(self.collapse_clicked)
        self.settings_button.clicked.connect(self.settings_clicked)
        self.close_button.clicked.connect(self.close_clicked)
        self._shortcut = shortcut
        self._active = False
        self._seconds = -1
        self.set_collapsed(False)
        self.set_state("idle", "Ready")

    def set_state(self, kind: str, text: str) -> None:
        self.dot.setStyleSheet(f"color: {STATE_COLORS.get(kind, theme.MUTED)}; font-size: 9pt;")
        self.state.setText(text)

    def set_call_active(self, active: bool) -> None:
        self.call_button.setText("■" if active else "▶")
        self._active = active
        self.call_button.setToolTip(f"{'Stop' if active else 'Start'} call ({self._shortcut})")
        self.call_button.setProperty("active", "true" if active else "false")
        self.call_button.style().unpolish(self.call_button)
        self.call_button.style().polish(self.call_button)

    def set_shared(self, shared: bool, problem: str | None = None) -> None:
        self.shared.setVisible(shared)
        self.shared.setText("Shared" if not problem else "Shared ⚠")
        self.shared.setToolTip(SHARED_TIP if not problem else f"{SHARED_TIP}\nNot reaching the board now: {problem}")

    def set_shortcut(self, text: str) -> None:
        self._shortcut = text
        self.call_button.setToolTip(f"{'Stop' if self._active else 'Start'} call ({text})")

    def set_time(self, seconds: float) -> None:
        if int(seconds) != self._seconds:
            self._seconds = int(seconds)
            self.timer.setText(clock(seconds))

    def set_collapsed(self, collapsed: bool) -> None:
        # Collapsed: the dot says the state; the room goes to the mood and the prompt.
        self.state.setVisible(not collapsed)
        self.settings_button.setVisible(not collapsed)  # both stay one click away: expand
        self.close_button.setVisible(not collapsed)
        self.mood.setVisible(collapsed)
        if not collapsed:  # stays in the layout, empty: it is the spring that right-aligns the buttons
            self.prompt.set_full_text("")
            self.timer.setVisible(True)
        self.collapse_button.setText("▢" if collapsed else "▁")
        self.collapse_button.setToolTip("Expand" if collapsed else "Collapse to a bar")

    def set_summary(self, mood_text: str, mood_color: str, prompt_title: str, prompt_color: str) -> None:
        """What the collapsed bar shows besides the state."""
        # With a prompt, the title needs the room: the timer goes and the mood becomes its
        # color and arrow (the word is in the tooltip).
        short = bool(prompt_title) and bool(mood_text)
        self.mood.setText(f"● {mood_text.split()[-1]}" if short and " " in mood_text else mood_text)
        self.mood.setToolTip(f"Customer: {mood_text}" if mood_text else "")
        self.mood.setStyleSheet(f"color: {mood_color}; font-weight: 600;")
        self.prompt.set_full_text(prompt_title)
        self.timer.setVisible(not (self.mood.isVisibleTo(self) and prompt_title))
        self.prompt.setStyleSheet(f"color: {prompt_color}; font-weight: 600;")
