"""Calls from audio files: decoding to 16 kHz per role, and replaying them as blocks."""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import CallCoachError, one_line
from ..roles import ROLES
from .block import SAMPLE_RATE, AudioBlock
from .resample import StreamingResampler, downmix

log = logging.getLogger(__name__)

# Frames decoded per read: keeps memory flat for long recordings.
READ_CHUNK_FRAMES = 1 << 16
SMALL_READ_FRAMES = 1 << 12  # after a read failed: how close to the damage we still read
AGENT_CHANNELS = {"left": 0, "right": 1}

# Picks the role streams out of one decoded (frames, channels) chunk.
Picker = Callable[[np.ndarray], dict[str, np.ndarray]]


def read_call(path, agent_channel: str = "left") -> dict[str, np.ndarray]:
    """Read a two-channel call recording as {"agent": ..., "customer": ...} at 16 kHz.

    `agent_channel` ("left" or "right") says which channel is the agent; the other one is
    the customer. Files with more than two channels use channels 0 and 1 only.
    """
    if agent_channel not in AGENT_CHANNELS:
        raise CallCoachError(
            f"agent channel must be 'left' or 'right', not {agent_channel!r} (for {path})"
        )
    agent = AGENT_CHANNELS[agent_channel]
    customer = 1 - agent

    def pick(chunk: np.ndarray) -> dict[str, np.ndarray]:
        return {"agent": chunk[:, agent], "customer": chunk[:, customer]}

    with _open(path) as f:
        if f.channels < 2:
            raise CallCoachError(
                f"{path} is mono; a call needs two channels (agent and customer)"
                " — or pass --agent A.wav --customer C.wav"
            )
        return _decode(f, path, pick)


def read_pair(agent_path, customer_path) -> dict[str, np.ndarray]:
    """Read one file per side at 16 kHz; a multi-channel file is downmixed to mono."""
    return {"agent": read_mono(agent_path), "customer": read_mono(customer_path)}


def read_mono(path) -> np.ndarray:
    """Read any audio file as mono 16 kHz float32 (channels averaged)."""
    with _open(path) as f:
        return _decode(f, path, lambda chunk: {"mono": downmix(chunk)})["mono"]


def _open(path) -> sf.SoundFile:
    """Open for reading, turning every failure into a one-line CallCoachError."""
    p = Path(path)
    if not p.exists():
        raise CallCoachError(f"{path}: no such file")
    if not p.is_file():
        raise CallCoachError(f"{path}: not a file")
    try:
        f = sf.SoundFile(str(p))
    except Exception as e:  # libsndfile reports bad formats as LibsndfileError/RuntimeError
        raise CallCoachError(f"{path}: not a readable audio file ({one_line(e, limit=None)})") from None
    if f.frames == 0:
        f.close()
        raise CallCoachError(f"{path}: the file contains no audio (0 frames)")
    return f


def _decode(f: sf.SoundFile, path, pick: Picker) -> dict[str, np.ndarray]:
    """Read `f` chunk by chunk through one resampler per picked stream."""
    resamplers: dict[str, StreamingResampler] = {}
    out: dict[str, list[np.ndarray]] = {}
    try:
        for chunk in _chunks(f, path):
            for name, samples in pick(chunk).items():
                rs = resamplers.setdefault(name, StreamingResampler(f.samplerate))
                out.setdefault(name, []).append(rs.process(np.ascontiguousarray(samples)))
    except Exception as e:  # a corrupt file fails mid-read
        raise CallCoachError(f"{path}: could not decode audio ({one_line(e, limit=None)})") from None
    if not out:
        raise CallCoachError(f"{path}: the file contains no audio (0 frames)")
    for name, rs in resamplers.items():
        out[name].append(rs.flush())
    return {name: np.concatenate(parts) for name, parts in out.items()}


def _chunks(f: sf.SoundFile, path) -> Iterator[np.ndarray]:
    """The file's audio, chunk by chunk. A file that stops decoding part way (a recording
    cut short, e.g. a FLAC whose writer died) ends there with a warning, after the chunk
    that failed has been read again in small pieces up to the damage."""
    frames, size, error = 0, READ_CHUNK_FRAMES, None
    while True:
        try:
            chunk = f.read(size, dtype="float32", always_2d=True)
        except Exception as e:
            error = error or e
            if size == SMALL_READ_FRAMES:
                break
            try:
                f.seek(frames)
            except Exception:
                break
            size = SMALL_READ_FRAMES
            continue
        if len(chunk) == 0:
            break
        frames += len(chunk)
        yield chunk
    if error is not None:
        if frames == 0:
            raise error
        log.warning("%s: the audio cannot be decoded after %.1f s (%s); analyzing the part before",
                    path, frames / f.samplerate, one_line(error, limit=None))


class FileSource:
    """Replays decoded channels as AudioBlocks, optionally at real-time speed.

    Blocks come in time order, the roles of one span together (agent, then customer).
    A shorter channel is padded with silence to the length of the longer one.
    """

    def __init__(self, channels: dict[str, np.ndarray], realtime: bool, block_seconds=0.1):
        unknown = set(channels) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; expected some of {ROLES}")
        self.realtime = realtime
        self.block_size = max(1, round(block_seconds * SAMPLE_RATE))
        self._length = max((len(x) for x in channels.values()), default=0)
        self._channels = {
            role: _pad(np.asarray(channels[role], dtype=np.float32), self._length)
            for role in ROLES
            if role in channels
        }
        self.duration = self._length / SAMPLE_RATE
        self.progress = 0.0  # fraction delivered; a float write is atomic for readers
        self._stop = threading.Event()

    def stop(self) -> None:
        """End `blocks()` early (safe from any thread; wakes a paced wait at once)."""
        self._stop.set()

    def blocks(self) -> Iterator[AudioBlock]:
        t0 = time.monotonic()
        for start in range(0, self._length, self.block_size):
            end = min(start + self.block_size, self._length)
            # A live device hands over a block once it has been spoken: at its end time.
            if self.realtime and self._wait_until(t0 + end / SAMPLE_RATE):
                return
            if self._stop.is_set():
                return
            self.progress = end / self._length
            for role, samples in self._channels.items():
                yield AudioBlock(role, start, samples[start:end])

    def _wait_until(self, due: float) -> bool:
        """Sleep until `due` (monotonic); True if stop() was called meanwhile."""
        delay = due - time.monotonic()
        return self._stop.wait(delay) if delay > 0 else self._stop.is_set()


def _pad(x: np.ndarray, length: int) -> np.ndarray:
    if len(x) >= length:
        return x
    return np.concatenate([x, np.zeros(length - len(x), dtype=np.float32)])
