"""The one prompt on screen, colored by severity.

Title (large), the phrase to say, the tactic and a small "why". "Done" and "Not helpful"
go to the coach, which records them for QA. An escalation adds "Copy handoff note"; the
end-of-call follow-up shows its checklist. The coach clears prompts (expiry, replaced,
acted on); the card just follows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from callcoach.gui import theme
from callcoach.gui.elided import ElidedLabel


def _label(role: str | None = None, name: str = "") -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    if role:
        label.setProperty("role", role)
    if name:
        label.setObjectName(name)
    return label


CHECKLIST_LINES = 5


class PromptCard(QFrame):
    feedback = Signal(int, str)  # prompt id, "done" | "not_helpful"
    handoff_copied = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("PromptCard")
        self.prompt = None
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 8, 5)
        outer.setSpacing(8)
        self.stripe = QFrame()
        self.stripe.setFixedWidth(4)
        outer.addWidget(self.stripe)
        body = QVBoxLayout()
        body.setContentsMargins(0, 4, 0, 0)
        body.setSpacing(1)
        outer.addLayout(body, 1)

        self.title = _label(name="PromptTitle")
        self.title.setStyleSheet(f"font-size: {theme.TITLE_PT}pt; font-weight: 600;")
        self.phrase = _label(name="PromptPhrase")
        self.phrase.setStyleSheet("font-style: italic;")
        self.tactic = ElidedLabel()  # one line each; the full text is the tooltip
        self.tactic.setObjectName("PromptTactic")
        self.tactic.setProperty("role", "secondary")
        self.why = ElidedLabel()
        self.why.setObjectName("PromptWhy")
        self.why.setProperty("role", "muted")
        for w in (self.title, self.phrase, self.tactic, self.why):
            body.addWidget(w)
        self.checklist = QWidget()
        self.checklist.setObjectName("PromptChecklist")
        self.checklist_lines = [ElidedLabel() for _ in range(CHECKLIST_LINES)]
        checklist = QVBoxLayout(self.checklist)
        checklist.setContentsMargins(0, 0, 0, 2)
        checklist.setSpacing(1)
        for line in self.checklist_lines:
            checklist.addWidget(line)
        body.addWidget(self.checklist)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.copy_button = QPushButton("Copy handoff note")
        self.done_button = QPushButton("Done")
        self.unhelpful_button = QPushButton("Not helpful")
        self.copy_button.clicked.connect(self.copy_handoff)
        self.done_button.clicked.connect(lambda: self._feedback("done"))
        self.unhelpful_button.clicked.connect(lambda: self._feedback("not_helpful"))
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.done_button)
        buttons.addWidget(self.unhelpful_button)
        for b in (self.copy_button, self.done_button, self.unhelpful_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
        body.addLayout(buttons)
        self.hide()

    # -- showing -------------------------------------------------------------------------

    def show_prompt(self, prompt) -> None:
        self.prompt = prompt
        accent = theme.SEVERITY.get(prompt.severity, theme.SEVERITY["info"])
        self.stripe.setStyleSheet(f"background: {accent}; border-top-left-radius: 6px;"
                                  " border-bottom-left-radius: 6px;")
        self.title.setText(prompt.title)
        self.title.setStyleSheet(f"font-size: {theme.TITLE_PT}pt; font-weight: 600; color: {accent};"
                                 if prompt.severity == "critical" else
                                 f"font-size: {theme.TITLE_PT}pt; font-weight: 600;")
        # A phrase to say is quoted and italic; without one, the advice itself is plain text.
        self.phrase.setText(f"“{prompt.phrase}”" if prompt.phrase else prompt.message)
        self.phrase.setStyleSheet("font-style: italic;" if prompt.phrase else "")
        self.phrase.setToolTip(prompt.message)
        self.tactic.set_full_text(f"Tactic: {prompt.tactic}" if prompt.tactic else "")
        self.tactic.setVisible(bool(prompt.tactic))
        self.why.set_full_text(f"Why: {prompt.because}" if prompt.because else "")
        self.why.setVisible(bool(prompt.because))
        items = tuple(prompt.checklist)
        self._show_checklist(items)
        if items:  # the follow-up: the checklist is the message
            self.phrase.setVisible(False)
        else:
            self.phrase.setVisible(True)
        self.copy_button.setVisible(bool(prompt.handoff))
        self.copy_button.setText("Copy handoff note")
        self.done_button.setEnabled(True)
        self.unhelpful_button.setEnabled(True)
        self.show()

    def _show_checklist(self, items: tuple[str, ...]) -> None:
        shown = list(items)
        if len(shown) > CHECKLIST_LINES:  # the last line stands for the rest
            rest = shown[CHECKLIST_LINES - 1:]
            shown = shown[:CHECKLIST_LINES - 1] + [f"+{len(rest)} more: " + "; ".join(rest)]
        for i, line in enumerate(self.checklist_lines):
            line.set_full_text(f"☐  {shown[i]}" if i < len(shown) else "")
            line.setVisible(i < len(shown))
        self.checklist.setToolTip("\n".join(items))
        self.checklist.setVisible(bool(items))

    def checklist_items(self) -> list[str]:
        """The follow-up items on screen (full text)."""
        return [line.full_text for line in self.checklist_lines if line.isVisibleTo(self) and line.full_text]

    def clear(self, prompt_id: int | None = None) -> None:
        """Hide the card (only if it still shows `prompt_id`, when given)."""
        if prompt_id is not None and (self.prompt is None or self.prompt.id != prompt_id):
            return
        self.prompt = None
        self.hide()

    def set_handoff(self, note: str | None) -> None:
        """A newer note for the prompt on screen (the coach rewrites it at call end)."""
        if note and self.prompt is not None and self.prompt.handoff:
            from dataclasses import replace

            self.prompt = replace(self.prompt, handoff=note)

    # -- actions -------------------------------------------------------------------------

    def copy_handoff(self) -> None:
        if self.prompt is None or not self.prompt.handoff:
            return
        QGuiApplication.clipboard().setText(self.prompt.handoff)
        self.copy_button.setText("Copied ✓")
        self.handoff_copied.emit(self.prompt.handoff)

    def _feedback(self, action: str) -> None:
        if self.prompt is None:
            return
        self.done_button.setEnabled(False)
        self.unhelpful_button.setEnabled(False)
        self.feedback.emit(self.prompt.id, action)
