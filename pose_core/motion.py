"""Movement over time: joint angles along a video's pose series, and their range of motion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pose_core.angles import ANGLE_SPECS, angle_arrays
from pose_core.series import PoseSeries

# A hidden joint's angle is the model's guess and jumps about; readings below this
# confidence (the lowest visibility of the joint's landmarks) do not count.
ROM_MIN_CONFIDENCE = 0.5


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


def range_of_motion(angles: pd.DataFrame, min_confidence: float = ROM_MIN_CONFIDENCE) -> pd.DataFrame:
    """Per person and angle: min, max and range in 2D and 3D, over the readings whose
    confidence is at least ``min_confidence``. Angles in ANGLE_SPECS order."""
    order = {spec.name: i for i, spec in enumerate(ANGLE_SPECS)}
    angles = angles[angles["confidence"] >= min_confidence]
    grouped = angles.groupby(["person", "angle"])[["degrees_2d", "degrees_3d"]].agg(["min", "max"])
    grouped.columns = [f"{stat}_{col.split('_')[1]}" for col, stat in grouped.columns]
    for dim in ("2d", "3d"):
        grouped[f"range_{dim}"] = grouped[f"max_{dim}"] - grouped[f"min_{dim}"]
    result = grouped.reset_index()
    result = result.sort_values(["person", "angle"], key=lambda c: c.map(order) if c.name == "angle" else c)
    return result[list(ROM_COLUMNS)].reset_index(drop=True)


ROM_COLUMNS: tuple[str, ...] = ("person", "angle", "min_2d", "max_2d", "range_2d", "min_3d", "max_3d", "range_3d")
