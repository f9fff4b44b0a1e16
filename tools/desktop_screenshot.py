"""docs/widget-desktop.png: the widget on a real X desktop (Xvfb + IceWM with its tray and a
compositor, see tests/desktop.py), above a stand-in CRM the agent is typing in, while the
bundled demo call shows its first prompt.

    .venv/bin/python tools/desktop_screenshot.py [--out docs/widget-desktop.png]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.desktop import Desktop, missing_tools, wait_until  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "widget-desktop.png"))
    args = parser.parse_args()
    if missing_tools():
        sys.exit(f"desktop_screenshot: install {' '.join(missing_tools())} (tools/setup.sh --test)")
    home = Path(tempfile.mkdtemp(prefix="callcoach-desktop-"))
    for var, name in (("CALLCOACH_CONFIG_DIR", "config"), ("CALLCOACH_DATA_DIR", "data"),
                      ("CALLCOACH_LOG_DIR", "logs")):
        os.environ[var] = str(home / name)  # never the developer's own settings or sessions
    os.environ["CALLCOACH_POLICY_FILE"] = str(home / "config" / "policy.toml")
    log = home / "logs" / "callcoach.log"
    with Desktop() as desktop:
        crm = subprocess.Popen([sys.executable, str(ROOT / "tests" / "desktop_apps" / "crm.py")],
                               env=desktop.env(QT_QPA_PLATFORM="xcb"), stdout=subprocess.DEVNULL)
        coach = None
        try:
            [crm_window] = wait_until(lambda: desktop.windows("CRM"), 20)
            desktop.x("xdotool", "windowactivate", "--sync", crm_window)
            desktop.x("xdotool", "type", "--delay", "30", "Customer reports a double charge on the March bill")
            coach = subprocess.Popen([sys.executable, "-m", "callcoach", "demo"],
                                     env=desktop.env(QT_QPA_PLATFORM="xcb"), stderr=subprocess.DEVNULL)
            if not wait_until(lambda: log.exists() and "prompt raised" in log.read_text(), 120):
                sys.exit("desktop_screenshot: no prompt within two minutes")
            wait_until(lambda: False, 1.0)  # let the card finish drawing
            desktop.screenshot(args.out)
        finally:
            if coach is not None:
                coach.kill()
            crm.terminate()
    print(f"desktop_screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
