"""The Qt binding itself: what the widget, the review window and the board rely on for hours."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_qt_calls_that_return_nothing_keep_nones_references(qapp):
    """PySide6 6.12.0 dropped a reference to None on each such call; Python before 3.12
    aborts when None's count reaches zero, which a 50-tile board hit within a minute."""
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(50_000):
        label.setText("x")
        label.setVisible(False)
    assert sys.getrefcount(None) >= before - 100
