"""Private sound servers for tests: a real PulseAudio daemon, or real PipeWire with
pipewire-pulse, WirePlumber and its own D-Bus session bus.

Each server lives in a folder of its own: fresh HOME and XDG_RUNTIME_DIR, log files,
and a PulseAudio-protocol socket that clients reach through `server.env`
(PULSE_SERVER=unix:...), so nothing depends on the user's HOME, a ~/.asoundrc, a cookie,
systemd or a desktop session. Every process is started here with Popen, so `stop()` ends
exactly those processes, by pid.

    server = start_pulseaudio(tmp_path)     # or start_pipewire(tmp_path)
    headset = server.add_headset()          # a null sink "test_headset" ("Test Headset")
    server.play(wav, "test_headset")        # record it from "test_headset.monitor"
    server.stop()
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["pulseaudio", "pipewire"]
KINDS: tuple[Kind, ...] = ("pulseaudio", "pipewire")

# What each kind needs on PATH (pactl/paplay/parec are the clients the tests use).
CLIENT_TOOLS = ("pactl", "paplay", "parec")
SERVER_TOOLS: dict[Kind, tuple[str, ...]] = {
    "pulseaudio": ("pulseaudio",),
    "pipewire": ("pipewire", "pipewire-pulse", "wireplumber", "dbus-daemon"),
}

# The devices every fixture server has (see SoundServer.add_test_devices).
TEST_HEADSET = "test_headset"  # a sink; its monitor "test_headset.monitor" hears what is played
TEST_MICROPHONE = "test_mic"  # a real source (not a monitor)
TEST_MIC_FEED = "mic_feed"  # the sink whose sound comes out of TEST_MICROPHONE

START_TIMEOUT = 20.0  # seconds; a start takes ~0.05 s (PulseAudio) or ~0.15 s (PipeWire) on 2 cores
POLL = 0.02
# Variables that would point a server (or its clients) at someone else's server, bus or
# config instead of the private ones.
_FOREIGN_VARS = ("PULSE_SERVER", "PULSE_COOKIE", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH", "PULSE_CLIENTCONFIG",
                 "PIPEWIRE_REMOTE", "PIPEWIRE_RUNTIME_DIR", "PIPEWIRE_CONFIG_DIR", "WIREPLUMBER_CONFIG_DIR",
                 "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                 "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "HOME")

# A session bus that activates no services: whatever runs on it, we started.
_DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SoundServerError(RuntimeError):
    """The server did not come up, or a pactl command failed."""


def missing_tools(kind: Kind) -> list[str]:
    """The programs `kind` needs that are not installed (empty when it can run)."""
    return [tool for tool in (*SERVER_TOOLS[kind], *CLIENT_TOOLS) if not shutil.which(tool)]


@dataclass
class SoundServer:
    kind: Kind
    folder: Path
    env: dict[str, str]  # what a client needs: PULSE_SERVER, XDG_RUNTIME_DIR, HOME
    start_seconds: float = 0.0  # from the first Popen to `pactl info` answering
    processes: list[subprocess.Popen] = field(default_factory=list)  # in start order
    feeds: dict[int, int] = field(default_factory=dict)  # microphone module -> its feed sink's module
    players: list[subprocess.Popen] = field(default_factory=list)  # paplay/parec started here
    headset_module: int | None = None  # set by add_test_devices
    microphone_module: int | None = None
    test_devices: list[tuple[int, str]] = field(default_factory=list)  # devices() after add_test_devices

    # ------------------------------------------------------------------ clients

    def client_env(self) -> dict[str, str]:
        """os.environ pointed at this server (for subprocesses)."""
        base = {k: v for k, v in os.environ.items() if k not in _FOREIGN_VARS}
        return {**base, **self.env}

    def pactl(self, *args: str, timeout: float = 15) -> str:
        done = subprocess.run(["pactl", *args], env=self.client_env(), capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise SoundServerError(f"pactl {' '.join(args)} on {self.kind}: {(done.stderr or done.stdout).strip()}")
        return done.stdout

    def names(self, what: Literal["sinks", "sources"]) -> list[str]:
        """Sink or source names, from `pactl list short`."""
        return [line.split("\t")[1] for line in self.pactl("list", "short", what).splitlines() if line.strip()]

    def devices(self) -> list[tuple[int, str]]:
        """(index, name) of every sink, then every source, in the server's order. A device
        loaded again has a new index (a module may get its old one back on PipeWire)."""
        return [(int(line.split("\t")[0]), line.split("\t")[1]) for what in ("sinks", "sources")
                for line in self.pactl("list", "short", what).splitlines() if line.strip()]

    def module_ids(self) -> set[int]:
        # A line per module, but PipeWire's own modules have arguments spanning lines.
        return {int(m) for m in re.findall(r"^(\d+)\t", self.pactl("list", "short", "modules"), re.MULTILINE)}

    # ------------------------------------------------------------------ devices

    def add_headset(self, name: str = "test_headset", description: str = "Test Headset") -> int:
        """A null sink: what is played into `name` can be recorded from `name`.monitor."""
        return self._load("module-null-sink", f"sink_name={name}", _properties("sink", description))

    def add_microphone(self, name: str = "test_mic", description: str = "Test Microphone",
                       feed: str = "mic_feed") -> int:
        """A real input `name` (not a monitor): a null sink `feed` and a remap source on its
        monitor. Play into `feed` to speak into the microphone. Returns the remap module."""
        feed_module = self._load("module-null-sink", f"sink_name={feed}",
                                 _properties("sink", f"{description} feed"))
        try:
            module = self._load("module-remap-source", f"master={feed}.monitor", f"source_name={name}",
                                _properties("source", description))
        except SoundServerError:
            self.unload(feed_module)
            raise
        self.feeds[module] = feed_module
        return module

    def unload(self, module_id: int) -> None:
        """Unload a module (a microphone's feed sink with it)."""
        self.pactl("unload-module", str(module_id))
        feed = self.feeds.pop(module_id, None)
        if feed is not None:
            self.pactl("unload-module", str(feed))

    def set_default_sink(self, name: str) -> None:
        self.pactl("set-default-sink", name)

    def set_default_source(self, name: str) -> None:
        self.pactl("set-default-source", name)

    def play(self, path: Path | str, sink: str) -> subprocess.Popen:
        """paplay `path` into `sink`; the caller waits for it (stop() ends it if not)."""
        player = subprocess.Popen(["paplay", f"--device={sink}", str(path)], env=self.client_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.players.append(player)
        return player

    def record(self, source: str, rate: int = 16000, channels: int = 1) -> subprocess.Popen:
        """parec from `source`: raw s16le on the Popen's stdout until it is terminated.

        Asks for 20 ms fragments: with the default (about 2 s on both servers) audio
        arrives in 2-second bursts."""
        recorder = subprocess.Popen(["parec", f"--device={source}", "--raw", "--format=s16le", f"--rate={rate}",
                                     f"--channels={channels}", "--latency-msec=20"], env=self.client_env(),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.players.append(recorder)
        return recorder

    def add_test_devices(self) -> None:
        """The Test Headset and the Test Microphone, made the default sink and source."""
        self.headset_module = self.add_headset(TEST_HEADSET, "Test Headset")
        self.microphone_module = self.add_microphone(TEST_MICROPHONE, "Test Microphone", TEST_MIC_FEED)
        self.set_default_sink(TEST_HEADSET)
        self.set_default_source(TEST_MICROPHONE)
        self.test_devices = self.devices()

    def reset_test_devices(self, before: set[int]) -> None:
        """Undo what a test did to a shared server: end its players, unload the modules it
        loaded (`before`: module_ids() when it began) and make the test devices the defaults
        again. If the devices are not as add_test_devices left them (a test device unloaded,
        or loaded again), start afresh instead: loading them again is not enough, PipeWire
        may then list them in another order."""
        _end(self.players)
        self.players.clear()
        for module in sorted(self.module_ids() - before, reverse=True):
            if module in self.module_ids():  # unloading a microphone takes its feed with it
                self.unload(module)
        if self.devices() != self.test_devices:
            self.restart()
            self.add_test_devices()
            return
        self.set_default_sink(TEST_HEADSET)
        self.set_default_source(TEST_MICROPHONE)

    def restart(self) -> None:
        """Stop, then start the same kind afresh in the same folder: same socket, so `env`
        still holds. The old folder stays beside it (FOLDER.1, .2, ...) for its logs."""
        self.stop()
        self.folder.rename(_unused_sibling(self.folder))
        fresh = STARTERS[self.kind](self.folder)
        self.__dict__.update(fresh.__dict__)

    def _load(self, module: str, *args: str) -> int:
        return int(self.pactl("load-module", module, *args).strip())

    # ------------------------------------------------------------------ lifetime

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def leftovers(self) -> list[int]:
        """Pids of live processes whose environment carries this server's XDG_RUNTIME_DIR:
        every process started here, and anything they started in turn."""
        marker = f"XDG_RUNTIME_DIR={self.env['XDG_RUNTIME_DIR']}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():  # were HOME &c. copied into ours
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to read (a zombie's environ reads empty)
                continue
        return found

    def stop(self) -> None:
        """End players and server processes (newest first, so clients go before their
        server and the bus goes last), then anything they left behind."""
        _end([*self.players, *reversed(self.processes)])
        self.players.clear()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.leftovers():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            _poll(lambda: not self.leftovers(), 5.0, "leftover processes to end", fail=False)
        if self.leftovers():
            raise SoundServerError(f"{self.kind} left processes behind: {self.leftovers()}")


def _properties(kind: Literal["sink", "source"], description: str) -> str:
    """`sink_properties=...` with a description that may contain spaces: one quoting level
    for the module argument, one for the property list inside it."""
    if any(c in description for c in "'\"\\"):
        raise ValueError(f"quotes and backslashes are not supported in a description: {description!r}")
    return f"{kind}_properties='device.description=\"{description}\"'"


def _unused_sibling(folder: Path) -> Path:
    """FOLDER.1, or .2, ... whichever does not exist yet."""
    n = 1
    while folder.with_name(f"{folder.name}.{n}").exists():
        n += 1
    return folder.with_name(f"{folder.name}.{n}")


def _end(processes: Iterable[subprocess.Popen], grace: float = 5.0) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(grace)


def _poll(ready: Callable[[], bool], timeout: float, what: str, fail: bool = True,
          alive: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Wait until ready() (short poll intervals, bounded); stop early if `alive` died."""
    deadline = time.monotonic() + timeout
    while not ready():
        dead = alive is not None and alive.poll() is not None
        if dead or time.monotonic() > deadline:
            if not fail:
                return
            reason = f"exited with {alive.returncode}" if dead else f"not ready after {timeout:.0f} s"
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log and log.exists() else []
            raise SoundServerError(f"waiting for {what}: {reason}" + "".join(f"\n  {line}" for line in tail))
        time.sleep(POLL)


# ---------------------------------------------------------------------- starters


def _private_dirs(folder: Path) -> tuple[Path, Path]:
    home, runtime = folder / "home", folder / "runtime"
    longest = runtime / "pulse" / "native"
    if len(os.fsencode(longest)) > 100:  # a unix socket path holds 107 bytes at most
        raise SoundServerError(f"{folder} is too deep for the server's sockets; use a shorter --basetemp")
    home.mkdir(parents=True)
    runtime.mkdir(mode=0o700)  # pipewire and pulseaudio refuse a runtime dir others can read
    return home, runtime


def _server_env(home: Path, runtime: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in _FOREIGN_VARS}
    return {**base, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), **extra}


def _spawn(server: SoundServer, command: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
    log = open(server.folder / log_name, "wb")  # noqa: SIM115 - the child keeps writing to it
    try:
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()
    server.processes.append(proc)
    return proc


def _answers(server: SoundServer) -> bool:
    try:
        return subprocess.run(["pactl", "info"], env=server.client_env(), capture_output=True,
                              timeout=5, check=False).returncode == 0
    except subprocess.TimeoutExpired:  # accepted the connection but not serving yet
        return False


def start_pulseaudio(folder: Path) -> SoundServer:
    """A private PulseAudio daemon in `folder` (created; must not exist yet)."""
    folder.mkdir(parents=True)
    home, runtime = _private_dirs(folder)
    socket = runtime / "pulse" / "native"
    server = SoundServer("pulseaudio", folder, {"PULSE_SERVER": f"unix:{socket}", "XDG_RUNTIME_DIR": str(runtime),
                                                "HOME": str(home)})
    started = time.monotonic()
    # -n: no default.pa (no hardware, no X11, no suspend-on-idle). auth-anonymous: no cookie
    # needed, whatever the client's HOME (a client of the same uid is let in by its socket
    # credentials anyway; another uid would also need the 0700 runtime dir opened).
    daemon = _spawn(server, ["pulseaudio", "--daemonize=no", "--system=no", "--exit-idle-time=-1", "-n",
                             "--load=module-native-protocol-unix auth-anonymous=1", "--log-target=stderr"],
                    _server_env(home, runtime), "pulseaudio.log")
    try:
        _poll(lambda: _answers(server), START_TIMEOUT, "pulseaudio", alive=daemon, log=folder / "pulseaudio.log")
    except BaseException:
        server.stop()
        raise
    server.start_seconds = time.monotonic() - started
    return server


def start_pipewire(folder: Path) -> SoundServer:
    """Private PipeWire in `folder` (created; must not exist yet): a D-Bus session bus,
    pipewire, pipewire-pulse (the PulseAudio protocol) and WirePlumber (links streams to
    devices; it exits at once without a session bus)."""
    folder.mkdir(parents=True)
    home, runtime = _private_dirs(folder)
    socket = runtime / "pulse" / "native"
    server = SoundServer("pipewire", folder, {"PULSE_SERVER": f"unix:{socket}", "XDG_RUNTIME_DIR": str(runtime),
                                              "HOME": str(home)})
    bus = runtime / "bus"
    env = _server_env(home, runtime, DBUS_SESSION_BUS_ADDRESS=f"unix:path={bus}")
    started = time.monotonic()
    try:
        (folder / "dbus.conf").write_text(_DBUS_CONFIG.format(socket=bus))
        dbus = _spawn(server, ["dbus-daemon", "--nofork", "--nopidfile", f"--config-file={folder / 'dbus.conf'}"],
                      env, "dbus.log")
        _poll(bus.exists, START_TIMEOUT, "dbus-daemon", alive=dbus, log=folder / "dbus.log")
        core = _spawn(server, ["pipewire"], env, "pipewire.log")
        _poll((runtime / "pipewire-0").exists, START_TIMEOUT, "pipewire", alive=core, log=folder / "pipewire.log")
        pulse = _spawn(server, ["pipewire-pulse"], env, "pipewire-pulse.log")
        session = _spawn(server, ["wireplumber"], env, "wireplumber.log")
        _poll(lambda: _answers(server), START_TIMEOUT, "pipewire-pulse", alive=pulse,
              log=folder / "pipewire-pulse.log")
        _poll(lambda: _wireplumber_ready(server), START_TIMEOUT, "wireplumber", alive=session,
              log=folder / "wireplumber.log")
    except BaseException:
        server.stop()
        raise
    server.start_seconds = time.monotonic() - started
    return server


def _wireplumber_ready(server: SoundServer) -> bool:
    """WirePlumber has connected and picked a default sink (pipewire-pulse's fallback
    sink, auto_null, until a real one exists): streams will get linked from now on."""
    return "Default Sink: @DEFAULT_SINK@" not in server.pactl("info")


STARTERS: dict[Kind, Callable[[Path], SoundServer]] = {"pulseaudio": start_pulseaudio, "pipewire": start_pipewire}
