"""The installer pieces that cannot be built on Linux (the Windows script, the macOS
Info.plist) and the bundle's stand-ins for the libraries it leaves out."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from pathlib import Path

import build_installer

ROOT = Path(__file__).resolve().parents[1]


def test_inno_script_installs_per_user_or_per_machine_silently():
    iss = build_installer.inno_script("1.2.3")
    setup = dict(line.split("=", 1) for line in iss.split("[Setup]")[1].split("[Files]")[0].splitlines()
                 if "=" in line)
    assert setup["PrivilegesRequired"] == "lowest"  # per-user unless /ALLUSERS (or the dialog) asks otherwise
    assert setup["PrivilegesRequiredOverridesAllowed"] == "dialog commandline"
    assert setup["DefaultDirName"] == r"{autopf}\CallCoach"  # Program Files, or the user's programs folder
    assert setup["AppVersion"] == "1.2.3" and setup["OutputBaseFilename"] == "CallCoach-1.2.3-setup"
    app_id = setup["AppId"]  # {{GUID}: Inno's escaped brace
    assert app_id.startswith("{{") and app_id.endswith("}") and len(app_id) == 2 + 36 + 1
    assert 'Source: "callcoach\\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs' in iss
    assert "skipifsilent" in iss, "a silent install does not start the app"
    assert r'Filename: "{app}\callcoachw.exe"' in iss, "the Start menu runs the program without a console"
    assert "/VERYSILENT /SUPPRESSMSGBOXES /ALLUSERS" in iss and "/CURRENTUSER" in iss


def test_macos_app_asks_for_the_microphone():
    with open(ROOT / "packaging" / "macos-Info.plist", "rb") as fh:
        plist = plistlib.load(fh)
    assert "on this Mac" in plist["NSMicrophoneUsageDescription"]


def test_the_engine_runs_without_pyav_and_the_hub():
    """With PyAV and huggingface_hub not installed at all, the bundle's runtime hook lets
    faster-whisper import and the engine find the Silero model."""
    code = f"""
import sys
class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("av", "huggingface_hub"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NotInstalled())
exec(open({str(ROOT / "packaging" / "left_out.py")!r}).read())
from callcoach.engine.vad import silero_model_path
from callcoach.engine.transcriber import WhisperTranscriber
print(silero_model_path())
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(".onnx")
