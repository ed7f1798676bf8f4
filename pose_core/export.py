"""Tables and files for analysts: a tidy DataFrame, CSV, and JSON with a manifest.

The JSON schema (documented in the README) is shared by the command line and the app.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

import pandas as pd

from pose_core import __version__
from pose_core.angles import AngleReading, definitions, pose_angles
from pose_core.images import LoadedImage
from pose_core.inference import ImageAnalysis, PoseResult, PoseSettings
from pose_core.models import ResolvedModel
from pose_core.schema import LANDMARKS

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
    image: LoadedImage | None = None

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


def pose_dict(pose: PoseResult) -> dict[str, object]:
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
        "angles": [angle_dict(r) for r in pose_angles(pose)],
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
