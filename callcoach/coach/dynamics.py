"""Conversation dynamics from voice activity and levels: talk share, talk-over, dead air,
raised voice. Fed in audio order (see the engine's Watermark)."""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

from callcoach.roles import ROLES


@dataclass(frozen=True)
class TalkOver:
    t: float  # when the interrupter started
    interrupter: str
    interrupted: str


class Dynamics:
    def __init__(self, backchannel_s: float = 1.0, dead_air_min_s: float = 3.0,
                 level_baseline_s: float = 8.0):
        self.backchannel_s = backchannel_s  # shorter overlaps are "uh-huh", not talk-over
        self.dead_air_min_s = dead_air_min_s  # shorter silences are normal turn-taking
        self._baseline_samples = int(level_baseline_s * 10)  # Level events come at 10 Hz
        self._since: dict[str, float | None] = {r: None for r in ROLES}  # speaking since
        self._talk = {r: 0.0 for r in ROLES}
        self._last_end: float | None = None  # latest end of anyone's speech
        self._candidates: dict[str, TalkOver] = {}  # overlaps not yet long enough to count
        self.talkovers: deque[TalkOver] = deque(maxlen=200)  # the latest (a minute holds far fewer)
        self._talkover_counts = {r: 0 for r in ROLES}  # all call, by interrupter
        self._dead_air_total = 0.0
        self._levels = {r: [] for r in ROLES}  # speaking levels, for the baseline
        self._recent = {r: deque(maxlen=20) for r in ROLES}  # last 2 s of speaking levels
        self._last_turn_db: dict[str, float | None] = {r: None for r in ROLES}
        self.now = 0.0

    # -- input ---------------------------------------------------------------------------

    def activity(self, role: str, t: float, speaking: bool) -> None:
        self.now = max(self.now, t)
        other = ROLES[1 - ROLES.index(role)]
        if speaking:
            if self._since[other] is None and self._since[role] is None and self._last_end is not None:
                gap = t - self._last_end
                if gap >= self.dead_air_min_s:
                    self._dead_air_total += gap
            self._since[role] = t
            if self._since[other] is not None and self._since[other] < t:
                self._candidates[role] = TalkOver(t, role, other)
        else:
            if self._since[role] is not None:
                self._talk[role] += t - self._since[role]
            self._since[role] = None
            self._last_end = t if self._since[other] is None else self._last_end
            self._candidates.pop(role, None)
            if len(self._recent[role]) >= 5:
                self._last_turn_db[role] = statistics.median(self._recent[role])
            self._recent[role].clear()

    def level(self, role: str, t: float, db: float) -> None:
        self.now = max(self.now, t)
        if self._since[role] is not None:
            if len(self._levels[role]) < self._baseline_samples:
                self._levels[role].append(db)
            self._recent[role].append(db)
        self._promote_talkovers(t)

    def _promote_talkovers(self, t: float) -> None:
        for role, cand in list(self._candidates.items()):
            if t - cand.t >= self.backchannel_s:
                self.talkovers.append(cand)
                self._talkover_counts[cand.interrupter] += 1
                del self._candidates[role]

    # -- signals -------------------------------------------------------------------------

    def speaking(self, role: str) -> bool:
        return self._since[role] is not None

    def talk_time(self, role: str) -> float:
        ongoing = self.now - self._since[role] if self._since[role] is not None else 0.0
        return self._talk[role] + ongoing

    def talk_share(self, role: str = "agent") -> float | None:
        total = sum(self.talk_time(r) for r in ROLES)
        return round(self.talk_time(role) / total, 3) if total > 1.0 else None

    def dead_air(self) -> float:
        """Seconds nobody has spoken, now (0 while someone talks or before anyone has)."""
        if any(self._since.values()) or self._last_end is None:
            return 0.0
        return round(self.now - self._last_end, 2)

    def dead_air_total(self) -> float:
        current = self.dead_air()
        return round(self._dead_air_total + (current if current >= self.dead_air_min_s else 0.0), 2)

    def talkover_count(self, role: str | None = None) -> int:
        """Talk-overs this call, all or by one interrupter."""
        return self._talkover_counts[role] if role else sum(self._talkover_counts.values())

    def talkovers_by(self, role: str, within_s: float) -> list[TalkOver]:
        return [o for o in self.talkovers if o.interrupter == role and o.t >= self.now - within_s]

    def raised_voice(self, role: str) -> float | None:
        """dB by which the speaker's current (or last) ~2 s of speech exceed their usual level.
        Medians, as the baseline is: the levels of a pause inside the turn (-80 dB) would pull
        a mean down and hide a raised voice for a second or more."""
        base, recent = self._levels[role], self._recent[role]
        current = statistics.median(recent) if len(recent) >= 10 else self._last_turn_db[role]
        if len(base) < self._baseline_samples // 2 or current is None:
            return None
        return round(current - statistics.median(base), 1)
