"""Colors and the style sheet: dark and neutral, one accent per severity."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor

ICONS = (Path(__file__).parent / "icons").as_posix()  # spin box and combo box arrows

BACKGROUND = "#1c1f24"
PANEL = "#262a31"
TRACK = "#343942"
BORDER = "#3a3f48"
TEXT = "#e8eaed"
SECONDARY = "#a2aab4"
MUTED = "#737b86"

SEVERITY = {"info": "#4c8dff", "warning": "#f0a830", "critical": "#e5484d"}
MOOD = {"calm": "#3fb07f", "frustrated": "#f0a830", "angry": "#e5484d"}
OK = "#3fb07f"

TITLE_PT = 12.5  # the prompt title: the one thing read at a glance
STATE_PT = 11.0  # the mood word
BODY_PT = 9.5
SMALL_PT = 8.0


def color(name: str) -> QColor:
    return QColor(name)


STYLE = f"""
QWidget#CoachWindow {{ background: {BACKGROUND}; border: 1px solid {BORDER}; border-radius: 8px; }}
QWidget {{ color: {TEXT}; font-size: {BODY_PT}pt; }}
QLabel[role="secondary"] {{ color: {SECONDARY}; font-size: {SMALL_PT}pt; }}
QLabel[role="muted"] {{ color: {MUTED}; font-size: {SMALL_PT}pt; }}
QLabel[role="scale"] {{ color: {MUTED}; font-size: 7pt; }}
QLabel[role="state"] {{ font-weight: 600; }}
QLabel[role="timer"] {{ color: {SECONDARY}; font-family: "DejaVu Sans Mono", monospace; }}
QToolButton {{ background: transparent; border: none; border-radius: 4px; padding: 1px 4px;
               color: {SECONDARY}; font-size: 10.5pt; }}
QToolButton:hover {{ background: {TRACK}; color: {TEXT}; }}
QToolButton#CallButton {{ color: {OK}; font-size: 11pt; }}
QToolButton#CallButton[active="true"] {{ color: {SEVERITY['critical']}; }}
QPushButton {{ background: {TRACK}; border: 1px solid {BORDER}; border-radius: 4px;
               padding: 2px 8px; font-size: {SMALL_PT}pt; color: {TEXT}; }}
QPushButton:hover {{ background: #414752; }}
QPushButton:disabled {{ color: {MUTED}; }}
QFrame#PromptCard {{ background: {PANEL}; border-radius: 6px; }}
QFrame#MessageBar {{ background: {PANEL}; border-radius: 6px; }}
QTextEdit#Transcript {{ background: transparent; border: none; color: {SECONDARY};
                        font-size: {SMALL_PT}pt; }}
QSizeGrip {{ width: 10px; height: 10px; }}
"""

DIALOG_STYLE = f"""
QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; font-size: {BODY_PT}pt; }}
QLabel[role="error"] {{ color: {SEVERITY['critical']}; font-size: {SMALL_PT}pt; }}
QLabel[role="locked"] {{ color: {SEVERITY['warning']}; font-size: {SMALL_PT}pt; }}
QLabel[role="secondary"] {{ color: {SECONDARY}; font-size: {SMALL_PT}pt; }}
QGroupBox {{ border: 1px solid {BORDER}; border-radius: 6px; margin-top: 10px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; color: {SECONDARY}; }}
QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit {{ background: {PANEL}; border: 1px solid {BORDER};
    border-radius: 4px; padding: 2px 4px; }}
QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled, QLineEdit:disabled,
QCheckBox:disabled {{ color: {MUTED}; }}
QComboBox QAbstractItemView {{ background: {PANEL}; selection-background-color: {TRACK}; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ width: 16px; border: none; background: transparent; }}
QAbstractSpinBox::up-arrow {{ image: url({ICONS}/arrow-up.svg); width: 8px; height: 5px; }}
QAbstractSpinBox::down-arrow {{ image: url({ICONS}/arrow-down.svg); width: 8px; height: 5px; }}
QComboBox::drop-down {{ border: none; width: 16px; }}
QComboBox::down-arrow {{ image: url({ICONS}/arrow-down.svg); width: 8px; height: 5px; }}
QPushButton {{ background: {TRACK}; border: 1px solid {BORDER}; border-radius: 4px; padding: 3px 10px; }}
QPushButton:hover {{ background: #414752; }}
QPushButton:disabled {{ color: {MUTED}; }}
"""
