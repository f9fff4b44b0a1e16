"""Every message the window can show fits it at its opening size, 360×220: the message's
text and its hint lie inside the window, above the meters, and clear of the window's own
hint line; the window does not have to grow for it. Long texts that carry a path or an
exception's words may end in "…" (the whole text is the tooltip); ours never do."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget

from callcoach.gui.elided import WrappedLabel
from callcoach.gui.window import CoachWindow
from callcoach.settings import Settings
from tests.window_messages import HINTS, all_messages, set_state, show

SIZE = (360, 220)


@pytest.fixture(scope="module")
def messages(tmp_path_factory):
    return all_messages(tmp_path_factory.mktemp("messages"))


@pytest.fixture
def window(qtbot):
    w = CoachWindow(Settings())
    qtbot.addWidget(w)
    w.resize(*SIZE)
    w.show()
    qtbot.waitExposed(w)
    return w


def text_rect(label: WrappedLabel, window: QWidget) -> QRect:
    """Where the label's lines are drawn, in window coordinates (word-wrapped as painted)."""
    area = label.contentsRect()
    lines = label.lines(area.width())
    drawn = label.fontMetrics().boundingRect(QRect(0, 0, area.width(), 10_000), Qt.TextFlag.TextWordWrap,
                                             "\n".join(lines))
    return QRect(label.mapTo(window, area.topLeft() + QPoint(drawn.x(), 0)), drawn.size())


def geometry(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def test_the_messages_cover_every_kind(messages):
    names = {m.name for m in messages}
    assert {"picked", "mic-not-connected", "no-outputs-here", "agent-lost", "customer-back", "store-damaged",
            "settings-0", "playbook", "model-missing", "unexpected", "demo-missing"} <= names
    assert len(names) == len(messages)


@pytest.mark.parametrize("state", HINTS)
def test_every_message_fits_the_window_at_360_by_220(window, messages, state):
    set_state(window, state)
    bar = window.message
    misfits = []
    for message in messages:
        show(window, message)
        window.layout().activate()
        inside = window.rect().adjusted(1, 1, -1, -1)  # within the window's border
        hint = geometry(window.hint, window)
        meters = geometry(window.meters, window)
        rects = {"text": text_rect(bar.text, window)}
        if bar.hint.isVisible():
            rects["hint"] = text_rect(bar.hint, window)
        problems = []
        if (window.width(), window.height()) != SIZE:
            problems.append(f"the window grew to {window.width()}×{window.height()}")
        if not window.hint.isVisible():
            problems.append("the window's hint is hidden")
        for part, rect in rects.items():
            if not inside.contains(rect):
                problems.append(f"its {part} {rect} leaves the window {inside}")
            if rect.intersects(hint) or rect.intersects(meters):
                problems.append(f"its {part} {rect} overlaps the hint {hint} or the meters {meters}")
            if not geometry(bar, window).contains(rect):
                problems.append(f"its {part} {rect} spills out of the message bar {geometry(bar, window)}")
        if bar.button.isVisible() and geometry(bar.button, window).intersects(rects.get("hint", QRect())):
            problems.append("the button covers the hint")
        if not message.variable and (bar.text.elided() or bar.hint.elided()):
            problems.append("cut short with …")
        if problems:
            misfits.append(f"{message.name} ({message.text!r}): {'; '.join(problems)}")
        bar.dismiss()
    assert not misfits, "\n".join(misfits)


def test_a_long_message_ends_in_an_ellipsis_with_the_whole_text_as_tooltip(window, messages):
    unexpected = next(m for m in messages if m.name == "unexpected")
    show(window, unexpected)
    assert window.message.text.elided()
    assert window.message.text.toolTip() == window.message.text.text() == unexpected.text.capitalize()[:1] + unexpected.text[1:]
    assert window.message.text.lines(window.message.text.width())[-1].endswith("…")
