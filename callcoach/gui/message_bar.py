"""A problem the agent can fix, said plainly, with what to do and a button that does it.

Never a traceback: the text comes from `CallCoachError` messages (one line each) plus a
hint for the cases we know (no devices, PortAudio missing, a model that won't load).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from callcoach.gui import theme


def advice(message: str) -> tuple[str, str | None]:
    """(what to do, the action button's label or None) for a problem message."""
    low = message.lower()
    if "portaudio" in low:
        return ("Live devices need PortAudio: install libportaudio2 (sudo apt-get install "
                "libportaudio2) and start CallCoach again. The demo still works.", None)
    if "no input device" in low or "ambiguous" in low or "cannot open input device" in low \
            or "choose your devices" in low:
        return "Open Settings and pick your headset and the call audio by name.", "Settings…"
    if "model" in low:
        return "Open Settings and choose the bundled model (tiny.en) or a model folder.", "Settings…"
    if "demo call" in low:
        return "Reinstall CallCoach to get the bundled demo call back.", None
    return "", None


class MessageBar(QFrame):
    action = Signal(str)  # the button's label, e.g. "Settings…"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MessageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 4, 4)
        layout.setSpacing(8)
        self.stripe = QFrame()
        self.stripe.setFixedWidth(4)
        layout.addWidget(self.stripe)
        text = QVBoxLayout()
        text.setSpacing(1)
        self.text = QLabel()
        self.text.setObjectName("MessageText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.hint = QLabel()
        self.hint.setObjectName("MessageHint")
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "secondary")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        text.addWidget(self.text)
        text.addWidget(self.hint)
        layout.addLayout(text, 1)
        self.button = QPushButton()
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(lambda: self.action.emit(self.button.text()))
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.level = ""
        self.hide()

    def show_message(self, level: str, message: str, timeout_s: float | None = None) -> None:
        """Show `message` ("error" | "warning" | "info"); an error replaces nothing less."""
        if self.isVisible() and self.level == "error" and level != "error":
            return
        todo, button = advice(message) if level == "error" else ("", None)
        self.level = level
        color = {"error": theme.SEVERITY["critical"], "warning": theme.SEVERITY["warning"]}.get(
            level, theme.SEVERITY["info"])
        self.stripe.setStyleSheet(f"background: {color}; border-top-left-radius: 6px;"
                                  " border-bottom-left-radius: 6px;")
        self.text.setText(_sentence(message))
        self.hint.setText(todo)
        self.hint.setVisible(bool(todo))
        self.button.setText(button or "")
        self.button.setVisible(bool(button))
        self._timer.stop()
        if timeout_s:
            self._timer.start(int(timeout_s * 1000))
        self.show()

    def dismiss(self) -> None:
        self._timer.stop()
        self.level = ""
        self.hide()


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] if message else message
