"""A problem the agent can fix, said plainly, with what to do and a button that does it.

Never a traceback: the text comes from `CallCoachError` messages (one line each) plus a
hint for the cases we know (a device not there, PortAudio missing, a model that won't load).
It must fit the window at its smallest usual size (360×220) above the meters: the text
takes at most three lines and the hint two; anything longer ends in "…" with the whole
text as the tooltip (and in the log).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QPushButton, QToolButton, QWidget

from callcoach.gui import theme
from callcoach.gui.elided import WrappedLabel

TEXT_LINES = 3
HINT_LINES = 2
SETTINGS = "Settings…"

# (words in a problem, what to do, the button's label or None); the first match wins.
ADVICE: tuple[tuple[tuple[str, ...], str, str | None], ...] = (
    (("portaudio",), "sudo apt-get install libportaudio2, then start CallCoach again.", None),
    (("is not connected",), "Plug it in, or choose another in Settings.", SETTINGS),
    (("cannot hear what plays on an output",), "In Settings, let an input carry the call.", SETTINGS),
    (("has no input", "has no output"), "Plug in your headset, then press ▶.", None),
    (("no input named", "no output named", "no input device", "is ambiguous", "cannot open", "carries the call"),
     "Choose your headset and the call audio in Settings.", SETTINGS),
    (("model",), "Choose tiny.en or a model folder in Settings.", SETTINGS),
    (("demo call",), "Reinstall CallCoach to get the demo call back.", None),
)


def advice(message: str) -> tuple[str, str | None]:
    """(what to do, the action button's label or None) for a problem message."""
    low = message.lower()
    for words, todo, button in ADVICE:
        if any(word in low for word in words):
            return todo, button
    return "", None


class MessageBar(QFrame):
    action = Signal(str)  # the button's label, e.g. "Settings…"
    changed = Signal()  # shown, replaced or dismissed: the window re-fits

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MessageBar")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 3, 4, 3)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(0)
        self.stripe = QFrame()
        self.stripe.setFixedWidth(4)
        self.text = WrappedLabel(TEXT_LINES)
        self.text.setObjectName("MessageText")
        self.hint = WrappedLabel(HINT_LINES)
        self.hint.setObjectName("MessageHint")
        self.hint.setProperty("role", "secondary")
        self.button = QPushButton()
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(lambda: self.action.emit(self.button.text()))
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.dismiss)
        # The text has the whole width but the ✕; the button sits beside the hint under it.
        todo = QHBoxLayout()
        todo.setSpacing(8)
        todo.addWidget(self.hint, 1)
        todo.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addWidget(self.stripe, 0, 0, 2, 1)
        layout.addWidget(self.text, 0, 1)
        layout.addWidget(self.close_button, 0, 2, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(todo, 1, 1, 1, 2)
        layout.setColumnStretch(1, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.level = ""
        self.hide()

    def show_message(self, level: str, message: str, timeout_s: float | None = None,
                     todo: tuple[str, str | None] | None = None) -> None:
        """Show `message` ("error" | "warning" | "info"); an error replaces nothing less.
        `todo` is (what to do, button label or None); errors we know get theirs from `advice`."""
        if self.isVisible() and self.level == "error" and level != "error":
            return
        if todo is None:
            todo = advice(message) if level == "error" else ("", None)
        hint, button = todo
        self.level = level
        color = {"error": theme.SEVERITY["critical"], "warning": theme.SEVERITY["warning"]}.get(
            level, theme.SEVERITY["info"])
        self.stripe.setStyleSheet(f"background: {color}; border-top-left-radius: 6px;"
                                  " border-bottom-left-radius: 6px;")
        self.text.setText(_sentence(message))
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.button.setText(button or "")
        self.button.setVisible(bool(button))
        self._timer.stop()
        if timeout_s:
            self._timer.start(int(timeout_s * 1000))
        self.show()
        self.changed.emit()

    def dismiss(self) -> None:
        self._timer.stop()
        self.level = ""
        self.hide()
        self.changed.emit()


def _sentence(message: str) -> str:
    message = message.strip()
    first = message.split(" ", 1)[0]
    if "." in first or "/" in first:  # a file's name stays as it is spelled
        return message
    return message[:1].upper() + message[1:]
