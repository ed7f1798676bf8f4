"""Movement over time: joint angles along a video's pose series, cleaned so that they can
be trusted, and their range of motion.

The pipeline behind every chart, range and repetition count (:func:`clean_angles`):

1. Angles from the *raw* landmarks of each analysed frame (:func:`angle_series`).
2. A confidence gate: a reading whose joint the model could not see (the lowest
   visibility of its landmarks under ``min_confidence``) is the model's guess and is
   dropped (NaN), never drawn as data.
3. A Hampel filter (:func:`hampel`) replaces single-frame glitches with the median of
   their neighbours, *before* smoothing: a smoother spreads a one-frame jump of 150°
   over several frames instead of removing it (a low-pass filter cannot tell a glitch
   from a fast move; a median can, because a glitch is one value against six).
4. The video's smoothing (One-Euro or Butterworth) on what is left.

Range of motion (:func:`range_of_motion`) is then the 5th to 95th percentile of the
readings that are confident for at least ``MIN_SUSTAINED_S`` in a row: one odd frame, or
a joint glimpsed for a moment, cannot set it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pose_core.angles import ANGLE_SPECS, SPEC_BY_NAME, angle_arrays
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing, smooth

# A hidden joint's angle is the model's guess and jumps about; readings below this
# confidence (the lowest visibility of the joint's landmarks) do not count.
ROM_MIN_CONFIDENCE = 0.5
ROM_PERCENTILES: tuple[float, float] = (5.0, 95.0)
# A reading counts for the range only inside a run of confident readings this long.
MIN_SUSTAINED_S = 0.2
DIMENSIONS: tuple[str, ...] = ("2d", "3d")


def angle_series(series: PoseSeries) -> pd.DataFrame:
    """Angles of every present (frame, person): one row per frame, person and angle with
    frame, time_s, person (1-based), angle, degrees_2d, degrees_3d, confidence."""
    t_idx, p_idx = np.nonzero(series.present)
    px = series.landmarks_px[t_idx, p_idx]
    deg2d, deg3d, confidence = angle_arrays(px, series.world_landmarks[t_idx, p_idx], series.visibility[t_idx, p_idx])
    n, k = deg2d.shape
    return pd.DataFrame(
        {
            "frame": np.repeat(series.frame_index[t_idx], k),
            "time_s": np.repeat(series.time_s[t_idx], k),
            "person": np.repeat(p_idx + 1, k),
            "angle": np.tile(np.array([s.name for s in ANGLE_SPECS]), n),
            "degrees_2d": deg2d.ravel(),
            "degrees_3d": deg3d.ravel(),
            "confidence": confidence.ravel(),
        }
    )


# ---------------------------------------------------------------- outliers


@dataclass(frozen=True)
class OutlierFilter:
    """A Hampel filter: a reading further than ``n_sigmas`` robust standard deviations
    (1.4826 x the median absolute deviation) from the median of the ``2 * half_window + 1``
    readings around it is replaced by that median. ``min_deviation`` (degrees) keeps the
    filter off a joint that hardly moves, whose deviation is ~0 and would make every
    flicker an outlier."""

    half_window: int = 3  # frames each side: a glitch of up to 3 frames is outvoted
    n_sigmas: float = 3.0
    min_deviation: float = 10.0

    def __post_init__(self) -> None:
        if self.half_window < 1 or self.n_sigmas <= 0 or self.min_deviation < 0:
            raise ValueError("half_window >= 1, n_sigmas > 0 and min_deviation >= 0")


def hampel(values: np.ndarray, spec: OutlierFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (T, ...) filtered along the first axis: returns the cleaned copy and a
    (T, ...) bool array of the readings that were replaced. NaN (missing) readings stay
    NaN and are left out of every window; a window with fewer than ``half_window + 1``
    readings has too little context to judge, and its reading is kept."""
    spec = spec or OutlierFilter()
    x = np.asarray(values, dtype=np.float64)
    k = spec.half_window
    if x.shape[0] == 0:
        return x.copy(), np.zeros(x.shape, bool)
    pad = np.full((k, *x.shape[1:]), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, x, pad]), 2 * k + 1, axis=0)
    # Where a window is complete (nearly always) its median is the middle of its sorted
    # 2k + 1 values: several times faster than nanmedian, which the rest get.
    complete = ~np.isnan(windows).any(axis=-1)
    median = np.full(x.shape, np.nan)
    sigma = np.full(x.shape, np.nan)
    full = windows[complete]
    median[complete] = np.sort(full, axis=-1)[:, k]
    sigma[complete] = 1.4826 * np.sort(np.abs(full - median[complete][:, None]), axis=-1)[:, k]
    partial = windows[~complete]
    with warnings.catch_warnings():  # all-NaN windows (a hidden joint) give NaN, as they should
        warnings.simplefilter("ignore", RuntimeWarning)
        median[~complete] = np.nanmedian(partial, axis=-1)
        sigma[~complete] = 1.4826 * np.nanmedian(np.abs(partial - median[~complete][:, None]), axis=-1)
    enough = (~np.isnan(windows)).sum(axis=-1) >= k + 1
    with np.errstate(invalid="ignore"):
        replaced = enough & (np.abs(x - median) > np.maximum(spec.n_sigmas * sigma, spec.min_deviation))
    return np.where(replaced, median, x), replaced


# ---------------------------------------------------------------- cleaned angles


@dataclass(frozen=True, eq=False)
class AngleSeries:
    """Every angle of every person over a clip, as arrays (T frames, P people, K angles
    in ``names`` order), for one dimension each ("2d", "3d")."""

    frame_index: np.ndarray  # (T,) int64
    time_s: np.ndarray  # (T,) float64
    names: tuple[str, ...]  # (K,) angle names, ANGLE_SPECS order
    raw: dict[str, np.ndarray]  # dimension -> (T, P, K) degrees as measured (NaN: not computable)
    degrees: dict[str, np.ndarray]  # dimension -> (T, P, K) gated, de-glitched, smoothed; NaN where not confident
    replaced: dict[str, np.ndarray]  # dimension -> (T, P, K) bool: the outlier filter replaced this reading
    confidence: np.ndarray  # (T, P, K)
    min_confidence: float
    smoothing: Smoothing

    @property
    def people(self) -> int:
        return int(self.confidence.shape[1])

    @property
    def confident(self) -> np.ndarray:
        """(T, P, K) bool: the reading's confidence passes ``min_confidence``."""
        return np.nan_to_num(self.confidence, nan=-1.0) >= self.min_confidence

    def replaced_count(self, dimension: str = "3d", person: int | None = None) -> int:
        """How many readings the outlier filter replaced (for ``person``, 1-based, or all)."""
        replaced = self.replaced[dimension]
        return int((replaced if person is None else replaced[:, person - 1]).sum())

    def track(self, name: str, person: int = 1, dimension: str = "3d") -> np.ndarray:
        """(T,) cleaned degrees of one angle of one person (1-based); NaN where not confident."""
        return self.degrees[dimension][:, person - 1, self.names.index(name)]

    @property
    def fps(self) -> float:
        if len(self.time_s) < 2:
            return 30.0
        return float((len(self.time_s) - 1) / max(self.time_s[-1] - self.time_s[0], 1e-9))

    def table(self) -> pd.DataFrame:
        """Long form, one row per frame, person and angle (person present): frame, time_s,
        person, angle, degrees_2d, degrees_3d (cleaned; NaN where not confident),
        raw_2d, raw_3d, confidence, replaced_2d, replaced_3d."""
        t, p, k = self.confidence.shape
        present = ~np.isnan(self.raw["2d"]).all(axis=2) | ~np.isnan(self.raw["3d"]).all(axis=2)
        t_idx, p_idx = np.nonzero(present)
        n = len(t_idx)
        columns: dict[str, np.ndarray] = {
            "frame": np.repeat(self.frame_index[t_idx], k),
            "time_s": np.repeat(self.time_s[t_idx], k),
            "person": np.repeat(p_idx + 1, k),
            "angle": np.tile(np.array(self.names), n),
        }
        for dim in DIMENSIONS:
            columns[f"degrees_{dim}"] = self.degrees[dim][t_idx, p_idx].ravel()
        for dim in DIMENSIONS:
            columns[f"raw_{dim}"] = self.raw[dim][t_idx, p_idx].ravel()
        columns["confidence"] = self.confidence[t_idx, p_idx].ravel()
        for dim in DIMENSIONS:
            columns[f"replaced_{dim}"] = self.replaced[dim][t_idx, p_idx].ravel()
        return pd.DataFrame(columns)


def clean_angles(
    series: PoseSeries,
    smoothing: Smoothing | None = None,
    *,
    min_confidence: float = ROM_MIN_CONFIDENCE,
    outliers: OutlierFilter | None = None,
) -> AngleSeries:
    """The angles of ``series`` (raw, unsmoothed landmarks) gated by confidence, with
    single-frame glitches replaced (:func:`hampel`), then smoothed by ``smoothing``. A
    minute of one person takes a few milliseconds with Butterworth, ~40 ms with One-Euro."""
    smoothing = smoothing or Smoothing()
    t, p = len(series), series.people
    flat_px = series.landmarks_px.reshape(t * p, -1, 2)
    flat_world = series.world_landmarks.reshape(t * p, -1, 3)
    flat_vis = series.visibility.reshape(t * p, -1)
    deg2d, deg3d, confidence = angle_arrays(flat_px, flat_world, flat_vis)
    k = deg2d.shape[1]
    raw = {"2d": deg2d.reshape(t, p, k), "3d": deg3d.reshape(t, p, k)}
    confidence = confidence.reshape(t, p, k)
    confident = np.nan_to_num(confidence, nan=-1.0) >= min_confidence
    # Both dimensions as one (T, P, K, 2) array: one pass of each filter, not two.
    both = np.where(confident[..., None], np.stack([raw["2d"], raw["3d"]], axis=-1), np.nan)
    cleaned, replaced_both = hampel(both, outliers)
    # Smoothing fills short gaps; a gap where the joint was not seen stays a gap.
    smoothed = np.where(confident[..., None], smooth(cleaned, series.time_s, smoothing), np.nan) if t else cleaned
    degrees = {dim: smoothed[..., i] for i, dim in enumerate(DIMENSIONS)}
    replaced = {dim: replaced_both[..., i] for i, dim in enumerate(DIMENSIONS)}
    return AngleSeries(
        frame_index=np.asarray(series.frame_index),
        time_s=np.asarray(series.time_s, np.float64),
        names=tuple(s.name for s in ANGLE_SPECS),
        raw=raw,
        degrees=degrees,
        replaced=replaced,
        confidence=confidence,
        min_confidence=min_confidence,
        smoothing=smoothing,
    )


def sustained(valid: np.ndarray, min_frames: int) -> np.ndarray:
    """``valid`` (T, ...) bool, keeping only runs of at least ``min_frames`` True values
    along the first axis."""
    valid = np.asarray(valid, bool)
    if min_frames <= 1 or valid.shape[0] == 0:
        return valid.copy()
    flat = valid.reshape(valid.shape[0], -1)
    out = np.zeros_like(flat)
    for c in range(flat.shape[1]):
        edges = np.flatnonzero(np.diff(np.r_[0, flat[:, c].astype(np.int8), 0]))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= min_frames:
                out[start:stop, c] = True
    return out.reshape(valid.shape)


def min_sustained_frames(fps: float, seconds: float = MIN_SUSTAINED_S) -> int:
    return max(1, math.ceil(seconds * fps - 1e-9))


def robust_range(values: np.ndarray, percentiles: tuple[float, float] = ROM_PERCENTILES) -> tuple[float, float]:
    """(low, high) percentiles of the finite values; NaN, NaN when there are none."""
    finite = np.asarray(values, np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return math.nan, math.nan
    low, high = np.percentile(finite, percentiles)
    return float(low), float(high)


ROM_COLUMNS: tuple[str, ...] = (
    "person",
    "angle",
    "low_2d",
    "high_2d",
    "range_2d",
    "low_3d",
    "high_3d",
    "range_3d",
    "readings",
)
# What each column means, for tables people read (the app's headers, the README).
ROM_HEADERS: dict[str, str] = {
    "person": "Person",
    "angle": "Angle",
    "low_2d": "Low 2D",
    "high_2d": "High 2D",
    "range_2d": "Range 2D",
    "low_3d": "Low 3D",
    "high_3d": "High 3D",
    "range_3d": "Range 3D",
    "readings": "Readings",
}


def range_of_motion(
    angles: AngleSeries,
    *,
    percentiles: tuple[float, float] = ROM_PERCENTILES,
    min_sustained_s: float = MIN_SUSTAINED_S,
) -> pd.DataFrame:
    """Per person and angle: the ``percentiles`` (low, high) and their difference of the
    cleaned readings, 2D and 3D, counting only readings inside a confident run of at
    least ``min_sustained_s``; ``readings`` says how many counted (3D). People present
    at all, angles in ANGLE_SPECS order; NaN where nothing counted."""
    frames = min_sustained_frames(angles.fps, min_sustained_s)
    rows = []
    for person in range(1, angles.people + 1):
        if np.isnan(angles.raw["3d"][:, person - 1]).all() and np.isnan(angles.raw["2d"][:, person - 1]).all():
            continue
        row_sets = {}
        for dim in DIMENSIONS:
            values = angles.degrees[dim][:, person - 1]
            counted = sustained(~np.isnan(values), frames)
            row_sets[dim] = (values, counted)
        for k, name in enumerate(angles.names):
            row: dict[str, object] = {"person": person, "angle": name}
            for dim, (values, counted) in row_sets.items():
                low, high = robust_range(values[counted[:, k], k], percentiles)
                row |= {f"low_{dim}": low, f"high_{dim}": high, f"range_{dim}": high - low}
            row["readings"] = int(row_sets["3d"][1][:, k].sum())
            rows.append(row)
    return pd.DataFrame(rows, columns=list(ROM_COLUMNS))


def angle_label(name: str) -> str:
    return SPEC_BY_NAME[name].label
