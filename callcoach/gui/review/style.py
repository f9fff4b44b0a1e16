"""The review window's style sheet: the widget's dark palette (callcoach.gui.theme) on a
desktop window with a table, tabs and form controls."""

from __future__ import annotations

from callcoach.gui.theme import (BACKGROUND, BODY_PT, BORDER, DIALOG_STYLE, MUTED, PANEL, SECONDARY, SEVERITY,
                                 SMALL_PT, TEXT, TRACK)

SELECTION = "#34476a"

STYLE = DIALOG_STYLE + f"""
QWidget#ReviewWindow {{ background: {BACKGROUND}; }}
QLabel[role="secondary"] {{ color: {SECONDARY}; font-size: {SMALL_PT}pt; }}
QLabel#DetailTitle {{ font-size: 11pt; font-weight: 600; }}
QLabel#StatusLine {{ color: {SECONDARY}; }}
QTableView {{ background: {PANEL}; alternate-background-color: #2a2e36; gridline-color: {BORDER};
              border: 1px solid {BORDER}; border-radius: 4px; selection-background-color: {SELECTION};
              selection-color: {TEXT}; }}
QTreeView {{ background: {PANEL}; alternate-background-color: #2a2e36; border: 1px solid {BORDER};
             border-radius: 4px; selection-background-color: {SELECTION}; selection-color: {TEXT}; }}
QHeaderView {{ font-size: {SMALL_PT}pt; }}
QHeaderView::section {{ background: {TRACK}; color: {SECONDARY}; border: none;
                        border-right: 1px solid {BORDER}; padding: 3px 4px; }}
QTableCornerButton::section {{ background: {TRACK}; border: none; }}
QTextBrowser {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; }}
QPlainTextEdit {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: transparent; color: {SECONDARY}; padding: 4px 12px; border: none;
                border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {SEVERITY['info']}; }}
QSplitter::handle {{ background: {BACKGROUND}; }}
QScrollBar:vertical {{ background: {PANEL}; width: 10px; margin: 0; }}
QScrollBar::handle:vertical {{ background: {TRACK}; border-radius: 4px; min-height: 24px; }}
QScrollBar:horizontal {{ background: {PANEL}; height: 10px; margin: 0; }}
QScrollBar::handle:horizontal {{ background: {TRACK}; border-radius: 4px; min-width: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QCheckBox {{ spacing: 5px; }}
QFrame#MessageBar {{ background: {PANEL}; border-radius: 6px; }}
QToolTip {{ background: {PANEL}; color: {TEXT}; border: 1px solid {BORDER}; font-size: {BODY_PT}pt; }}
QPushButton:default {{ border-color: {SEVERITY['info']}; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QToolButton[role="source"] {{ background: {PANEL}; color: {SECONDARY}; border: 1px solid {BORDER};
                              padding: 3px 12px; }}
QToolButton[role="source"]:checked {{ background: {SELECTION}; color: {TEXT}; border-color: {SEVERITY['info']}; }}
QToolButton[role="source"]:disabled {{ color: {MUTED}; }}
QProgressBar#SourceBusy {{ background: {TRACK}; border: none; border-radius: 3px; }}
QProgressBar#SourceBusy::chunk {{ background: {SEVERITY['info']}; border-radius: 3px; }}
"""
