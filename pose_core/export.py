"""Tables and files for analysts: a tidy DataFrame, CSV, and JSON with a manifest.

The JSON schema (documented in the README) is shared by the command line and the app.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pose_core import __version__
from pose_core.angles import ANGLE_SPECS, AngleReading, angle_arrays, definitions, pose_angles
from pose_core.inference import ImageAnalysis, PoseResult, PoseSettings
from pose_core.models import ResolvedModel
from pose_core.schema import LANDMARKS, NUM_LANDMARKS

if TYPE_CHECKING:  # video types only: photo exports should not load PyAV and scipy
    from pose_core.smoothing import Smoothing
    from pose_core.video import PoseSeries, VideoAnalysis

LANDMARK_COLUMNS: tuple[str, ...] = (
    "image",
    "person",
    "index",
    "name",
    "region",
    "side",
    "x_px",
    "y_px",
    "x",
    "y",
    "z",
    "world_x_m",
    "world_y_m",
    "world_z_m",
    "visibility",
    "presence",
)


@dataclass(frozen=True)
class ImageRecord:
    """One input's outcome: its analysis, or the reason it could not be read."""

    source: str
    analysis: ImageAnalysis | None
    error: str | None = None

    @property
    def poses(self) -> tuple[PoseResult, ...]:
        return self.analysis.poses if self.analysis else ()


def _num(value: float, digits: int = 6) -> float | None:
    """JSON has no NaN: missing numbers become null."""
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def landmarks_frame(poses: Sequence[PoseResult], image: str = "") -> pd.DataFrame:
    """One row per person and landmark, in :data:`LANDMARK_COLUMNS` order."""
    rows = []
    for person, pose in enumerate(poses, start=1):
        px = pose.landmarks_px
        for lm in LANDMARKS:
            i = lm.index
            rows.append(
                (
                    image,
                    person,
                    i,
                    lm.name,
                    lm.region.value,
                    lm.side.value,
                    float(px[i, 0]),
                    float(px[i, 1]),
                    *map(float, pose.landmarks[i]),
                    *map(float, pose.world_landmarks[i]),
                    float(pose.visibility[i]),
                    float(pose.presence[i]),
                )
            )
    return pd.DataFrame(rows, columns=list(LANDMARK_COLUMNS))


def records_frame(records: Sequence[ImageRecord]) -> pd.DataFrame:
    frames = [landmarks_frame(r.poses, r.source) for r in records if r.poses]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(LANDMARK_COLUMNS))


def angles_frame(poses: Sequence[PoseResult]) -> pd.DataFrame:
    rows = [
        {
            "person": person,
            "angle": r.name,
            "degrees_2d": r.degrees_2d,
            "degrees_3d": r.degrees_3d,
            "confidence": r.confidence,
        }
        for person, pose in enumerate(poses, start=1)
        for r in pose_angles(pose)
    ]
    return pd.DataFrame(rows, columns=["person", "angle", "degrees_2d", "degrees_3d", "confidence"])


def to_csv(records: Sequence[ImageRecord]) -> str:
    return records_frame(records).to_csv(index=False, float_format="%.6f")


def manifest(settings: PoseSettings, model: ResolvedModel) -> dict[str, object]:
    return {
        "pose_core_version": __version__,
        "mediapipe_version": metadata.version("mediapipe"),
        "model": {"variant": model.variant, "file": model.path.name, "sha256": model.sha256},
        "settings": settings.as_dict(),
        "coordinates": {
            "x, y": "normalised to the image after EXIF orientation: 0..1 of width and height",
            "z": "depth on roughly the scale of x, relative to the hip centre; smaller = nearer the camera",
            "world": "metres, origin at the hip centre, x to the image's right, y down, z away from the camera",
        },
        "angle_definitions": definitions(),
    }


def angle_dict(reading: AngleReading) -> dict[str, object]:
    return {
        "name": reading.name,
        "degrees_2d": _num(reading.degrees_2d, 2),
        "degrees_3d": _num(reading.degrees_3d, 2),
        "confidence": _num(reading.confidence, 4),
    }


def pose_dict(pose: PoseResult, angles: Sequence[AngleReading] | None = None) -> dict[str, object]:
    """One pose as JSON data; ``angles`` if already computed (else computed here)."""
    return {
        "landmarks": [
            {
                "index": lm.index,
                "name": lm.name,
                "x": _num(pose.landmarks[lm.index, 0]),
                "y": _num(pose.landmarks[lm.index, 1]),
                "z": _num(pose.landmarks[lm.index, 2]),
                "visibility": _num(pose.visibility[lm.index], 4),
                "presence": _num(pose.presence[lm.index], 4),
            }
            for lm in LANDMARKS
        ],
        "world_landmarks": [
            {
                "index": lm.index,
                "name": lm.name,
                **dict(zip("xyz", map(_num, pose.world_landmarks[lm.index]), strict=True)),
            }
            for lm in LANDMARKS
        ],
        "angles": [angle_dict(r) for r in (pose_angles(pose) if angles is None else angles)],
    }


def image_dict(record: ImageRecord) -> dict[str, object]:
    analysis = record.analysis
    return {
        "source": record.source,
        "width": analysis.width if analysis else None,
        "height": analysis.height if analysis else None,
        "error": record.error,
        "poses": [pose_dict(p) for p in record.poses],
    }


def to_json_dict(records: Sequence[ImageRecord], settings: PoseSettings, model: ResolvedModel) -> dict[str, object]:
    return {**manifest(settings, model), "images": [image_dict(r) for r in records]}


def to_json(records: Sequence[ImageRecord], settings: PoseSettings, model: ResolvedModel) -> str:
    return json.dumps(to_json_dict(records, settings, model), indent=1, allow_nan=False)


# ---------------------------------------------------------------- video


def series_frame(series: PoseSeries) -> pd.DataFrame:
    """Per-frame landmark table: one row per analysed frame, person present, and landmark."""
    width, height = series.image_size
    present = ~np.isnan(series.landmarks[:, :, 0, 0])  # (T, P)
    t_idx, p_idx = np.nonzero(present)
    n = len(t_idx)
    lm = series.landmarks[t_idx, p_idx]  # (n, 33, 3)
    world = series.world_landmarks[t_idx, p_idx]
    columns = {
        "frame": np.repeat(series.frame_index[t_idx], NUM_LANDMARKS),
        "time_s": np.repeat(series.time_s[t_idx], NUM_LANDMARKS),
        "person": np.repeat(p_idx + 1, NUM_LANDMARKS),
        "index": np.tile(np.arange(NUM_LANDMARKS), n),
        "name": np.tile(np.array([lm_.name for lm_ in LANDMARKS]), n),
        "x_px": (lm[:, :, 0] * width).ravel(),
        "y_px": (lm[:, :, 1] * height).ravel(),
        "x": lm[:, :, 0].ravel(),
        "y": lm[:, :, 1].ravel(),
        "z": lm[:, :, 2].ravel(),
        "world_x_m": world[:, :, 0].ravel(),
        "world_y_m": world[:, :, 1].ravel(),
        "world_z_m": world[:, :, 2].ravel(),
        "visibility": series.visibility[t_idx, p_idx].ravel(),
        "presence": series.presence[t_idx, p_idx].ravel(),
    }
    return pd.DataFrame(columns)


def _series_angles(series: PoseSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Angles of every present (frame, person) at once: (t, p) indices, then degrees_2d,
    degrees_3d and confidence, each (n, len(ANGLE_SPECS))."""
    t_idx, p_idx = np.nonzero(~np.isnan(series.landmarks[:, :, 0, 0]))
    px = series.landmarks[t_idx, p_idx, :, :2] * np.array(series.image_size, np.float64)
    deg2d, deg3d, confidence = angle_arrays(px, series.world_landmarks[t_idx, p_idx], series.visibility[t_idx, p_idx])
    return t_idx, p_idx, deg2d, deg3d, confidence


def angle_series(series: PoseSeries) -> pd.DataFrame:
    """Angles over time: frame, time_s, person, angle, degrees_2d, degrees_3d, confidence."""
    t_idx, p_idx, deg2d, deg3d, confidence = _series_angles(series)
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


def range_of_motion(angles: pd.DataFrame, min_confidence: float = 0.5) -> pd.DataFrame:
    """Per person and angle: min, max and range in 2D and 3D, over the readings whose
    confidence is at least ``min_confidence`` (a hidden joint's guesses jump about)."""
    order = {spec.name: i for i, spec in enumerate(ANGLE_SPECS)}
    angles = angles[angles["confidence"] >= min_confidence]
    grouped = angles.groupby(["person", "angle"])[["degrees_2d", "degrees_3d"]].agg(["min", "max"])
    grouped.columns = [f"{stat}_{col.split('_')[1]}" for col, stat in grouped.columns]
    for dim in ("2d", "3d"):
        grouped[f"range_{dim}"] = grouped[f"max_{dim}"] - grouped[f"min_{dim}"]
    result = grouped.reset_index()
    result = result.sort_values(["person", "angle"], key=lambda c: c.map(order) if c.name == "angle" else c)
    return result[["person", "angle", "min_2d", "max_2d", "range_2d", "min_3d", "max_3d", "range_3d"]].reset_index(
        drop=True
    )


def video_json_dict(
    analysis: VideoAnalysis, series: PoseSeries, smoothing: Smoothing, source: str
) -> dict[str, object]:
    info = analysis.info
    rom = range_of_motion(angle_series(series))
    return {
        **manifest(analysis.settings, analysis.model),
        "smoothing": asdict(smoothing),
        "stride": analysis.stride,
        "video": {
            "source": source,
            "fps": info.fps,
            "frames": info.frame_count,
            "width": info.width,
            "height": info.height,
            "duration_s": info.duration_s,
            "codec": info.codec,
        },
        "frames": [
            {
                "index": int(series.frame_index[t]),
                "time_s": round(float(series.time_s[t]), 6),
                "poses": [pose_dict(p) for p in series.poses_at(t)],
            }
            for t in range(len(series))
        ],
        "range_of_motion": [
            {k: (_num(v, 2) if isinstance(v, float) else v) for k, v in row.items()}
            for row in rom.to_dict(orient="records")
        ],
    }


def video_json(analysis: VideoAnalysis, series: PoseSeries, smoothing: Smoothing, source: str) -> str:
    # Compact: a minute of video is tens of thousands of landmarks.
    doc = video_json_dict(analysis, series, smoothing, source)
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)
