"""Smoothing landmark time series: short-gap interpolation, One-Euro, Butterworth.

MediaPipe's Tasks API dropped the legacy solution's built-in smoothing, so raw landmarks
jitter from frame to frame. All functions here take an array ``x`` of shape (T, ...)
over T frames (any trailing shape, e.g. (T, 33, 3)), where NaN marks a missing value,
and return a new array of the same shape. Each trailing channel is filtered on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["none", "one-euro", "butterworth"]
METHODS: tuple[Method, ...] = ("none", "one-euro", "butterworth")


@dataclass(frozen=True)
class Smoothing:
    """Which filter, and its parameters. Defaults suit normalised coordinates and metres."""

    method: Method = "one-euro"
    max_gap_frames: int = 5  # dropouts up to this many frames are interpolated first
    # One-Euro (Casiez et al. 2012): causal; follows fast moves, calms slow jitter.
    min_cutoff_hz: float = 1.5
    beta: float = 2.0  # cutoff grows by beta * speed (units per second)
    derivative_cutoff_hz: float = 1.0
    # Butterworth, run forwards and backwards (zero phase, needs the whole clip).
    cutoff_hz: float = 6.0
    order: int = 2

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown smoothing {self.method!r}; choose one of: {', '.join(METHODS)}")
        if self.max_gap_frames < 0 or self.cutoff_hz <= 0 or self.min_cutoff_hz <= 0 or self.order < 1:
            raise ValueError("smoothing parameters must be positive")


def interpolate_gaps(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill interior NaN runs of at most ``max_gap`` frames linearly; leave longer ones,
    and those at either end, missing (a guess over a long dropout is not data)."""
    out = np.array(x, dtype=np.float64, copy=True)
    if max_gap <= 0 or out.shape[0] < 3:
        return out
    flat = out.reshape(out.shape[0], -1)
    frames = np.arange(flat.shape[0])
    for column in flat.T:  # views into ``out``
        missing = np.isnan(column)
        if not missing.any() or missing.all():
            continue
        starts = np.flatnonzero(missing & ~np.r_[False, missing[:-1]])
        ends = np.flatnonzero(missing & ~np.r_[missing[1:], False])
        for start, end in zip(starts, ends, strict=True):
            if start == 0 or end == len(column) - 1 or end - start + 1 > max_gap:
                continue
            column[start : end + 1] = np.interp(
                frames[start : end + 1], [start - 1, end + 1], [column[start - 1], column[end + 1]]
            )
    return out


def _alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Causal One-Euro filter fed one frame (an array of any shape) at a time.

    A NaN input gives a NaN output and restarts the filter for that channel.
    """

    def __init__(self, min_cutoff_hz: float = 1.5, beta: float = 2.0, derivative_cutoff_hz: float = 1.0) -> None:
        self.min_cutoff_hz, self.beta, self.derivative_cutoff_hz = min_cutoff_hz, beta, derivative_cutoff_hz
        self._previous: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def __call__(self, x: np.ndarray, time_s: float) -> np.ndarray:
        row = np.asarray(x, dtype=np.float64)
        dt = time_s - self._time if self._time is not None else 0.0
        if self._previous is None or self._speed is None or dt <= 0:
            filtered, self._speed = row.copy(), np.zeros_like(row)
        else:
            fresh = np.isnan(self._previous) | np.isnan(row)
            raw_speed = np.where(fresh, 0.0, (row - self._previous) / dt)
            a_d = _alpha(self.derivative_cutoff_hz, dt)
            self._speed = np.where(fresh, 0.0, a_d * raw_speed + (1 - a_d) * self._speed)
            a = _alpha(self.min_cutoff_hz + self.beta * np.abs(self._speed), dt)
            filtered = np.where(fresh, row, a * row + (1 - a) * self._previous)
        self._previous, self._time = filtered, time_s
        return filtered


def one_euro(
    x: np.ndarray, time_s: np.ndarray, min_cutoff_hz: float = 1.5, beta: float = 2.0, derivative_cutoff_hz: float = 1.0
) -> np.ndarray:
    """Causal One-Euro filter over a whole series: each output depends only on this and
    earlier frames. A NaN input gives a NaN output and restarts that channel."""
    values = np.asarray(x, dtype=np.float64)
    step = OneEuroFilter(min_cutoff_hz, beta, derivative_cutoff_hz)
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = step(values[i], float(time_s[i]))
    return out


def butterworth(x: np.ndarray, fs_hz: float, cutoff_hz: float = 6.0, order: int = 2) -> np.ndarray:
    """Zero-phase low-pass Butterworth (scipy's ``filtfilt``) over each unbroken run of
    values; NaN stays NaN, and runs too short to filter are returned as they are."""
    from scipy import signal  # noqa: PLC0415 - only Butterworth needs scipy; it is slow to import

    values = np.asarray(x, dtype=np.float64)
    out = values.copy()
    nyquist = fs_hz / 2.0
    if cutoff_hz >= nyquist:
        return out  # nothing above the cut-off can be represented at this frame rate
    b, a = signal.butter(order, cutoff_hz / nyquist)
    min_length = 3 * max(len(a), len(b)) + 1  # filtfilt's default padding needs this much
    flat = out.reshape(out.shape[0], -1)
    for column in flat.T:
        valid = ~np.isnan(column)
        edges = np.flatnonzero(np.diff(np.r_[0, valid.astype(np.int8), 0]))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= min_length:
                column[start:stop] = signal.filtfilt(b, a, column[start:stop])
    return out


def smooth(x: np.ndarray, time_s: np.ndarray, spec: Smoothing) -> np.ndarray:
    """Interpolate short gaps, then filter as ``spec`` says ("none": the raw values).
    ``time_s`` is (T,) seconds."""
    if spec.method == "none":
        return np.array(x, dtype=np.float64, copy=True)
    filled = interpolate_gaps(x, spec.max_gap_frames)
    if spec.method == "one-euro":
        return one_euro(filled, time_s, spec.min_cutoff_hz, spec.beta, spec.derivative_cutoff_hz)
    # butterworth
    fs = (len(time_s) - 1) / float(time_s[-1] - time_s[0]) if len(time_s) > 1 else 1.0
    return butterworth(filled, fs, spec.cutoff_hz, spec.order)


class StreamingSmoother:
    """:func:`smooth` for causal methods ("none", "one-euro"), one frame at a time.

    Short-gap interpolation must see up to ``max_gap_frames`` frames ahead, so frame
    ``t`` comes out once frame ``t + delay`` is in; :meth:`finish` flushes the rest.
    Outputs equal :func:`smooth` on the whole series (channels in ``filtered`` are
    filtered; the others, e.g. visibility scores, only have short gaps filled).
    """

    def __init__(self, spec: Smoothing, filtered: np.ndarray | None = None) -> None:
        if spec.method == "butterworth":
            raise ValueError("Butterworth is zero-phase: it needs the whole clip, not a stream")
        self.spec = spec
        self.delay = 0 if spec.method == "none" else spec.max_gap_frames
        self._filtered = filtered  # bool mask over the last axis; None = every channel
        self._raw: list[np.ndarray] = []
        self._times: list[float] = []
        self._done = 0
        self._filter = OneEuroFilter(spec.min_cutoff_hz, spec.beta, spec.derivative_cutoff_hz)

    def push(self, frame: np.ndarray, time_s: float) -> list[tuple[int, np.ndarray]]:
        """Add one frame; return the (index, smoothed frame) pairs now final."""
        self._raw.append(np.asarray(frame, dtype=np.float64))
        self._times.append(float(time_s))
        return self._release(len(self._raw) - 1 - self.delay)

    def finish(self) -> list[tuple[int, np.ndarray]]:
        return self._release(len(self._raw) - 1)

    def _release(self, last: int) -> list[tuple[int, np.ndarray]]:
        out = []
        while self._done <= last:
            t = self._done
            row = self._raw[t] if self.spec.method == "none" else self._filled(t)
            if self.spec.method == "one-euro":
                smoothed = self._filter(row, self._times[t])
                row = smoothed if self._filtered is None else np.where(self._filtered, smoothed, row)
            out.append((t, row))
            self._done += 1
        return out

    def _filled(self, t: int) -> np.ndarray:
        """Frame ``t`` with short interior gaps interpolated, as interpolate_gaps does."""
        row = self._raw[t].copy()
        missing = np.isnan(row)
        if not missing.any():
            return row
        gap = self.spec.max_gap_frames
        lo, hi = max(0, t - gap - 1), min(len(self._raw), t + gap + 2)
        window = np.stack(self._raw[lo:hi])  # frames lo..hi-1; frame t at t - lo
        valid = ~np.isnan(window)
        at = t - lo
        before, after = valid[:at][::-1], valid[at + 1 :]
        has_before, has_after = before.any(axis=0), after.any(axis=0)
        prev = at - 1 - np.argmax(before, axis=0) if at else np.zeros(row.shape, int)
        nxt = at + 1 + np.argmax(after, axis=0) if len(after) else np.zeros(row.shape, int)
        # A gap of at most ``gap`` frames with values on both sides (and not at an edge).
        fill = missing & has_before & has_after & (nxt - prev - 1 <= gap)
        if fill.any():
            v0 = np.take_along_axis(window, prev[None], axis=0)[0]
            v1 = np.take_along_axis(window, nxt[None], axis=0)[0]
            w = (at - prev) / np.maximum(nxt - prev, 1)
            row[fill] = (v0 + (v1 - v0) * w)[fill]
        return row
