"""A PNG of a session report for docs/ and the README, rendered by headless Chromium.

    .venv/bin/python tools/report_screenshot.py [REPORT.html] [--out docs/report.png]

Without REPORT.html it makes one: the bundled demo call through the real pipeline and
model into a temporary session store, with an agent pressing some prompts' buttons
(tests/report_demo.py) and a QA note, then `callcoach.report` on the stored session. Needs Chromium
(`apt-get install chromium`); the page is cut below its last line with Qt's QImage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH = 1040  # the report's column (1000 px) and its margins
TALL = 8000  # taller than any demo report; the white below the page is cut off


def demo_report(folder: Path) -> Path:
    """The demo call's report, made the way QA gets one: from the session store."""
    os.environ["CALLCOACH_CONFIG_DIR"] = str(folder)  # never the developer's own settings
    os.environ["CALLCOACH_POLICY_FILE"] = str(folder / "policy.toml")
    from callcoach.report import write_report
    from callcoach.store import SessionStore
    from tests.report_demo import demo_session

    _, session_id = demo_session(folder / "sessions.db")
    with SessionStore(folder / "sessions.db") as store:
        store.set_qa(session_id, "Good apology and a clean handoff. Offer the billing review before "
                     "quoting the policy.", 4)
        session = store.get(session_id)
    return write_report(session, folder / "report.html")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("report_screenshot: Chromium is not installed (apt-get install chromium)")


def screenshot(page: Path, png: Path, profile: Path) -> None:
    command = [chromium(), "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", f"--window-size={WIDTH},{TALL}",
               f"--screenshot={png}", page.resolve().as_uri()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to start its sandbox as root
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not png.exists():
        sys.exit(f"report_screenshot: Chromium failed: {done.stderr.strip()[-500:]}")


def trim(png: Path, out: Path, margin: int = 24) -> tuple[int, int]:
    """Cut the white below the page's last line; returns the PNG's size."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtGui import QImage

    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    used = np.nonzero((pixels[:, : image.width() * 4] < 250).any(axis=1))[0]
    bottom = min(image.height(), int(used[-1]) + margin) if used.size else image.height()
    cropped = image.copy(0, 0, image.width(), bottom)
    if not cropped.save(str(out)):
        sys.exit(f"report_screenshot: cannot write {out}")
    return cropped.width(), cropped.height()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", help="a report HTML file (default: the demo call's report)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "report.png"), help="the PNG to write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callcoach-report-") as tmp:
        folder = Path(tmp)
        page = Path(args.report) if args.report else demo_report(folder)
        raw = folder / "page.png"
        screenshot(page, raw, folder / "chromium")
        width, height = trim(raw, Path(args.out))
    print(f"{args.out}: {width}x{height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
