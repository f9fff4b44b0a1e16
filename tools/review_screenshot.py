"""Screenshot of the QA review window for docs/ and the README, taken from the screen of
an X server (Xvfb, started here when there is no DISPLAY) with the xcb platform plugin.

    .venv/bin/python tools/review_screenshot.py [--out docs]

The store is made for the picture in a temporary data folder: the bundled demo call run
through the real pipeline and model (escalated, with a QA note), kept by the real
`StoreWriter`, among two weeks of synthetic calls (one cut short, one damaged). The window
shows the list with the demo call open. Takes about half a minute.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.screenshots import Shooter, private_desktop, save_window  # noqa: E402 (after the path is set)

AGENTS = ["jordan", "sam", "maria", "alex", "priya", "lee"]


def demo_session(store) -> str:
    """The bundled demo call, analysed and stored as a live call would be; its id."""
    from callcoach.audio.files import FileSource, read_call
    from callcoach.engine.engine import EngineSettings
    from callcoach.gui.app import demo_call_path
    from callcoach.pipeline import CallPipeline
    from callcoach.store import StoreWriter

    pipeline = CallPipeline(EngineSettings(partials=False), source_name="demo_call.flac")
    writer = StoreWriter.attach(pipeline, store, agent="jordan")
    pipeline.load()
    pipeline.run(FileSource(read_call(demo_call_path()), realtime=False))
    writer.close()
    store.set_qa(writer.id, "Good apology and hold updates. Offer the supervisor at the first ask, "
                 "not after quoting policy.", 72)
    return writer.id


def other_calls(store, count: int = 60) -> None:
    """Two weeks of synthetic calls around the demo call: one cut short, one damaged."""
    from benchmarks.store_bench import synthetic_summary

    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    for i in range(count):
        started = (now - timedelta(hours=5 + i * 5.5 + rng.uniform(0, 2))).isoformat(timespec="seconds")
        sid = store.begin({"started_at": started, "agent": rng.choice(AGENTS), "source": "live"})
        if i == 3:
            store.abandon(sid)  # the PC stopped mid-call
            continue
        store.finish(sid, synthetic_summary(rng, sid, started, rng.randint(12, 40)))
        if i == 6:
            store._db.execute("UPDATE summaries SET summary_json = '{\"utter' WHERE session_id = ?", (sid,))
            store.get(sid)  # a reader found it unreadable: listed as damaged
        elif rng.random() < 0.3:
            store.set_qa(sid, "Reviewed" if rng.random() < 0.5 else None, rng.randint(55, 98))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with private_desktop("callcoach-review-shot-"):
        from callcoach.settings import Settings
        from callcoach.store import SessionStore, default_store_path

        with SessionStore(default_store_path(Settings())) as store:
            other_calls(store)
            demo_id = demo_session(store)
        shoot(out, demo_id)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 can crash garbage-collecting at exit


def shoot(out: Path, session_id: str) -> None:
    from callcoach.gui.review.window import ReviewWindow
    from callcoach.settings import Settings

    shooter = Shooter(out)
    window = ReviewWindow(None, Settings())
    window.move(0, 0)
    window.resize(1280, 800)
    window.show()
    shooter.wait(lambda: window.isVisible() and window.model.rowCount() > 0, 10)
    window.table.selectRow(window.model.row_of(session_id))
    shooter.wait(lambda: (window.detail.session or {}).get("id") == session_id, 10)
    shooter.pause(0.5)
    save_window(window, out / "review.png")
    window.close()


if __name__ == "__main__":
    sys.exit(main())
