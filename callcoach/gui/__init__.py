"""The agent's widget (PySide6). Nothing outside this package imports Qt.

bridge.py           engine events -> one Qt signal; background threads (calls, level probes)
window.py           the always-on-top, never-focused window and its layout
title_bar.py        call state, timer, buttons; dragging
meters.py           input level meters
mood_gauge.py       customer mood bar with trend arrow
bars.py             agent pace against the band, talk share
prompt_card.py      the one prompt (and escalation, follow-up checklist)
transcript.py       live transcript with partial text
message_bar.py      problems the agent can fix (devices, model, PortAudio)
settings_dialog.py  devices, model, pace band, budget, privacy; locked keys
tray.py             tray icon and menu
app.py              wiring: settings, calls, demo, tray
"""
