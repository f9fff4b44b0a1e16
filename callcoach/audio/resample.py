"""Streaming sample-rate conversion to the engine's 16 kHz, in plain numpy.

Windowed-sinc (Kaiser) interpolation. Output sample n sits at input position
n * in_rate / out_rate; we keep that position as an exact integer fraction so long calls
never drift. The ratio is reduced to L/M, so there are only L distinct fractional
positions ("phases") and their filters are computed once up front.

The filter is centred on the output position (it looks K input samples ahead), so there
is no group delay: output i corresponds to time i / out_rate. The first outputs use zeros
as history, and `flush()` pads zeros to produce the last ones.
"""

from math import ceil, gcd

import numpy as np

from .block import SAMPLE_RATE

# Filter design. The cutoff sits a bit below the lower Nyquist so the Kaiser transition
# band ends near Nyquist (little aliasing); beta 8.6 gives roughly 80 dB stopband.
CUTOFF_FRACTION = 0.9
KAISER_BETA = 8.6
TAPS_PER_SIDE = 24  # counted at the lower of the two rates
# Outputs computed per vectorized step: bounds the temporary (outputs x taps) arrays.
MAX_OUTPUTS_PER_STEP = 4096


def downmix(x: np.ndarray) -> np.ndarray:
    """Average a (frames, channels) array to mono float32; 1-D input is returned as is."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        return x
    if x.shape[1] == 1:
        return x[:, 0]
    return x.mean(axis=1, dtype=np.float32)


def _phase_filters(up: int, down: int, half_width: int, cutoff: float) -> np.ndarray:
    """Table of shape (up, 2 * half_width): row p interpolates at fraction p / up.

    Column j weights input sample i0 + j - half_width + 1, where i0 = floor(position).
    `cutoff` is in cycles per input sample.
    """
    frac = np.arange(up)[:, None] / up
    offsets = np.arange(-half_width + 1, half_width + 1)[None, :]
    t = offsets - frac  # distance from the output position, in input samples
    window = np.i0(KAISER_BETA * np.sqrt(np.clip(1.0 - (t / half_width) ** 2, 0.0, None)))
    taps = 2 * cutoff * np.sinc(2 * cutoff * t) * window / np.i0(KAISER_BETA)
    # Exact unity gain at DC for every phase (removes a tiny phase-dependent ripple).
    taps /= taps.sum(axis=1, keepdims=True)
    return taps.astype(np.float32)


class StreamingResampler:
    """Converts a mono float32 stream from `in_rate` to `out_rate`, block by block.

    Feeding a signal in any block sizes gives the same output as feeding it at once.
    Call `flush()` at the end of the stream for the last samples; it also resets the
    resampler so it can start a new stream.
    """

    def __init__(self, in_rate: int, out_rate: int = SAMPLE_RATE):
        if int(in_rate) != in_rate or int(out_rate) != out_rate or in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive integers, got {in_rate}, {out_rate}")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self.passthrough = self.in_rate == self.out_rate
        g = gcd(self.in_rate, self.out_rate)
        self._up = self.out_rate // g  # L: output step is M / L input samples
        self._down = self.in_rate // g  # M
        # Decimating needs a longer filter (in input samples) for the same sharpness.
        self.half_width = ceil(TAPS_PER_SIDE * max(1.0, self.in_rate / self.out_rate))
        cutoff_hz = CUTOFF_FRACTION * min(self.in_rate, self.out_rate) / 2
        if not self.passthrough:
            self._filters = _phase_filters(
                self._up, self._down, self.half_width, cutoff_hz / self.in_rate
            )
        self._reset()

    def _reset(self) -> None:
        # _buf holds input samples from absolute index _buf_start on; zeros stand in for
        # the history before the stream started.
        self._buf = np.zeros(self.half_width - 1, dtype=np.float32)
        self._buf_start = -(self.half_width - 1)
        self._n_out = 0  # index of the next output sample
        self._n_in = 0  # real input samples received

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feed the next input samples; returns every output that is now computable."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"expected a 1-D mono block, got shape {x.shape}")
        if self.passthrough:
            return x
        self._n_in += len(x)
        self._buf = np.concatenate([self._buf, x])
        return self._emit()

    def flush(self) -> np.ndarray:
        """Finish the stream: returns the remaining outputs (zeros as future input)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        # Outputs exist for every position before the end of the input; K zeros of
        # lookahead let all of them be computed.
        self._buf = np.concatenate([self._buf, np.zeros(self.half_width, dtype=np.float32)])
        out = self._emit(limit=ceil(self._n_in * self._up / self._down))
        self._reset()
        return out

    def _emit(self, limit: int | None = None) -> np.ndarray:
        # Output n needs input up to floor(n * M / L) + K; find how many we can make.
        last_base = self._buf_start + len(self._buf) - 1 - self.half_width
        n_end = ((last_base + 1) * self._up + self._down - 1) // self._down
        if limit is not None:
            n_end = min(n_end, limit)
        pieces = []
        for n0 in range(self._n_out, n_end, MAX_OUTPUTS_PER_STEP):
            pieces.append(self._compute(n0, min(n0 + MAX_OUTPUTS_PER_STEP, n_end)))
        self._n_out = max(self._n_out, n_end)
        self._trim()
        if not pieces:
            return np.zeros(0, dtype=np.float32)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def _compute(self, n0: int, n1: int) -> np.ndarray:
        # Exact positions: n * M = base * L + phase, all in integers.
        pos = np.arange(n0, n1, dtype=np.int64) * self._down
        base, phase = np.divmod(pos, self._up)
        first = base - (self.half_width - 1) - self._buf_start  # first tap, buffer index
        windows = np.lib.stride_tricks.sliding_window_view(self._buf, 2 * self.half_width)
        return np.einsum("ij,ij->i", windows[first], self._filters[phase])

    def _trim(self) -> None:
        # Drop input that no future output can reach.
        next_base = self._n_out * self._down // self._up
        keep_from = next_base - (self.half_width - 1) - self._buf_start
        if keep_from > 0:
            self._buf = self._buf[keep_from:].copy()
            self._buf_start += keep_from
