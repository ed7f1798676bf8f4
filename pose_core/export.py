"""Tables and files for analysts: a tidy DataFrame, CSV, and JSON with a manifest.

The JSON schema (documented in the README) is shared by the command line and the app.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pose_core import __version__
from pose_core.angles import AngleReading, definitions, pose_angles
from pose_core.crowd import pose_bbox_px, support_score
from pose_core.models import ResolvedModel
from pose_core.motion import MIN_SUSTAINED_S, ROM_MIN_CONFIDENCE, ROM_PERCENTILES, clean_angles, range_of_motion
from pose_core.postures import PostureClassifier, posture_for
from pose_core.schema import LANDMARKS, NAMES, NUM_LANDMARKS
from pose_core.series import PoseSeries
from pose_core.types import ImageAnalysis, PoseResult, PoseSettings, to_pixels

if TYPE_CHECKING:  # video types only: photo exports should not load PyAV
    from pose_core.smoothing import Smoothing
    from pose_core.video import VideoAnalysis

LANDMARK_COLUMNS: tuple[str, ...] = (
    "source",  # the image's or video's name
    "frame",  # video frame index; blank for a photo
    "time_s",  # video time; blank for a photo
    "person",  # 1-based, as numbered in every view
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
    overlay: str | None = None  # where its overlay image was written, if it was

    @property
    def poses(self) -> tuple[PoseResult, ...]:
        return self.analysis.poses if self.analysis else ()


def safe_stem(name: str, default: str = "image") -> str:
    """A user-supplied file name reduced to a stem that is safe as a file or ZIP entry
    name: no folders (either slash), no control characters, no leading dots."""
    base = re.split(r"[\\/]", name)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = re.sub(r"[\x00-\x1f\x7f]", "", stem).strip().lstrip(".")
    return stem or default


def unique_names(names: Sequence[str], suffix: str, default: str = "image") -> list[str]:
    """One output file name per input name: its safe stem plus ``suffix``; a repeat gets
    -2, -3, ... so that a/pose.jpg, a/pose.png and b/pose.jpg never overwrite each other."""
    used: set[str] = set()
    out = []
    for name in names:
        stem = safe_stem(name, default)
        candidate, n = f"{stem}{suffix}", 2
        while candidate.lower() in used:  # case-insensitive: macOS and Windows folders are
            candidate, n = f"{stem}-{n}{suffix}", n + 1
        used.add(candidate.lower())
        out.append(candidate)
    return out


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): =HYPERLINK(...), +SUM(...), -2+3, @cmd, and tab or carriage return.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made plain text by a
    leading apostrophe (as OWASP recommends); anything else as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _num(value: float, digits: int = 6) -> float | None:
    """JSON has no NaN: missing numbers become null."""
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def landmark_table(
    landmarks: np.ndarray,
    world_landmarks: np.ndarray,
    visibility: np.ndarray,
    presence: np.ndarray,
    image_size: tuple[int, int],
    *,
    source: str,
    person: np.ndarray,
    frame: np.ndarray | None = None,
    time_s: np.ndarray | None = None,
) -> pd.DataFrame:
    """The landmark table, one row per pose and landmark, in :data:`LANDMARK_COLUMNS`
    order, for N poses: ``landmarks`` (N, 33, 3) normalised, ``world_landmarks``
    (N, 33, 3) metres, ``visibility`` and ``presence`` (N, 33); ``person``, ``frame`` and
    ``time_s`` (N,) say whose pose and when (frame and time are blank for photos)."""
    n = len(landmarks)
    px = to_pixels(landmarks, image_size)

    def per_pose(values: np.ndarray | None, dtype: str) -> pd.api.extensions.ExtensionArray:
        if values is None:
            return pd.array([None] * n * NUM_LANDMARKS, dtype=dtype)
        return pd.array(np.repeat(values, NUM_LANDMARKS), dtype=dtype)

    columns = {
        "source": np.full(n * NUM_LANDMARKS, source, dtype=object),
        "frame": per_pose(frame, "Int64"),
        "time_s": per_pose(time_s, "Float64"),
        "person": np.repeat(np.asarray(person, np.int64), NUM_LANDMARKS),
        "index": np.tile(np.arange(NUM_LANDMARKS), n),
        "name": np.tile(np.array(NAMES, dtype=object), n),
        "region": np.tile(np.array([lm.region.value for lm in LANDMARKS], dtype=object), n),
        "side": np.tile(np.array([lm.side.value for lm in LANDMARKS], dtype=object), n),
        "x_px": px[..., 0].ravel(),
        "y_px": px[..., 1].ravel(),
        **{axis: np.asarray(landmarks)[..., i].ravel() for i, axis in enumerate("xyz")},
        **{f"world_{axis}_m": np.asarray(world_landmarks)[..., i].ravel() for i, axis in enumerate("xyz")},
        "visibility": np.asarray(visibility).ravel(),
        "presence": np.asarray(presence).ravel(),
    }
    return pd.DataFrame(columns, columns=list(LANDMARK_COLUMNS))


def poses_table(poses: Sequence[PoseResult], source: str = "") -> pd.DataFrame:
    """The landmark table of one photo's poses (person k = the k-th pose)."""
    if not poses:
        return pd.DataFrame(columns=list(LANDMARK_COLUMNS))
    return landmark_table(
        np.stack([p.landmarks for p in poses]),
        np.stack([p.world_landmarks for p in poses]),
        np.stack([p.visibility for p in poses]),
        np.stack([p.presence for p in poses]),
        poses[0].image_size,
        source=source,
        person=np.arange(1, len(poses) + 1),
    )


def series_table(series: PoseSeries, source: str = "") -> pd.DataFrame:
    """The landmark table of a video: one row per analysed frame, person present, landmark."""
    t_idx, p_idx = np.nonzero(series.present)
    return landmark_table(
        series.landmarks[t_idx, p_idx],
        series.world_landmarks[t_idx, p_idx],
        series.visibility[t_idx, p_idx],
        series.presence[t_idx, p_idx],
        series.image_size,
        source=source,
        person=p_idx + 1,
        frame=series.frame_index[t_idx],
        time_s=series.time_s[t_idx],
    )


def records_table(records: Sequence[ImageRecord]) -> pd.DataFrame:
    frames = [poses_table(r.poses, r.source) for r in records if r.poses]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(LANDMARK_COLUMNS))


def table_csv(table: pd.DataFrame) -> str:
    """A table as CSV text (six decimals; blank where a value does not apply). Text
    cells that a spreadsheet would run as formulas (a file named "=HYPERLINK(...).jpg")
    are neutralised, and line breaks inside text become spaces (pandas does not quote a
    bare carriage return, which would split the row in a spreadsheet)."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_csv_text)
    return safe.to_csv(index=False, float_format="%.6f")


def _csv_text(value: object) -> object:
    value = neutralise_formula(value)
    return value.replace("\r", " ").replace("\n", " ") if isinstance(value, str) else value


def to_csv(records: Sequence[ImageRecord]) -> str:
    return table_csv(records_table(records))


def manifest(settings: PoseSettings, model: ResolvedModel) -> dict[str, object]:
    return {
        "pose_core_version": __version__,
        "mediapipe_version": metadata.version("mediapipe"),
        "model": {
            "variant": model.variant,
            "file": model.path.name,
            "sha256": model.sha256,
            "sha256_pinned": model.pinned,  # false: a download whose digest could only be recorded
        },
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


def pose_dict(
    pose: PoseResult,
    person: int,
    angles: Sequence[AngleReading] | None = None,
    classifier: PostureClassifier | None = None,
) -> dict[str, object]:
    """One pose as JSON data: ``person`` is its number in every view (1 = leftmost in a
    photo; a tracked identity in a video); ``angles`` if already computed; the posture
    from ``classifier`` if given, else from the rules."""
    return {
        "person": person,
        "bbox": [_num(v, 1) for v in pose_bbox_px(pose)],
        "confidence": _num(support_score(pose), 4),
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
        "posture": posture_for(pose, classifier).as_dict(),
    }


def image_dict(record: ImageRecord, classifier: PostureClassifier | None = None) -> dict[str, object]:
    analysis = record.analysis
    return {
        "source": record.source,
        "width": analysis.width if analysis else None,
        "height": analysis.height if analysis else None,
        "error": record.error,
        "overlay": record.overlay,
        "poses": [pose_dict(p, k, classifier=classifier) for k, p in enumerate(record.poses, start=1)],
    }


def to_json_dict(
    records: Sequence[ImageRecord],
    settings: PoseSettings,
    model: ResolvedModel,
    classifier: PostureClassifier | None = None,
) -> dict[str, object]:
    return {**manifest(settings, model), "images": [image_dict(r, classifier) for r in records]}


def to_json(
    records: Sequence[ImageRecord],
    settings: PoseSettings,
    model: ResolvedModel,
    classifier: PostureClassifier | None = None,
) -> str:
    return json.dumps(to_json_dict(records, settings, model, classifier), indent=1, allow_nan=False)


# ---------------------------------------------------------------- video


def video_json_dict(
    analysis: VideoAnalysis,
    series: PoseSeries,
    smoothing: Smoothing,
    source: str,
    classifier: PostureClassifier | None = None,
) -> dict[str, object]:
    from pose_core.repetitions import count_repetitions  # noqa: PLC0415 - video only

    info = analysis.info
    # Range of motion and repetitions from the raw landmarks' angles, gated, de-glitched
    # and smoothed (pose_core.motion), as the app's charts show them.
    angles = clean_angles(analysis.raw, smoothing)
    rom = range_of_motion(angles)
    return {
        **manifest(analysis.settings, analysis.model),
        "smoothing": asdict(smoothing),
        "stride": analysis.stride,
        "video": {
            "source": source,
            "fps": info.fps,
            "frames": info.frame_count,  # decoded, which is what was analysed
            "width": info.width,
            "height": info.height,
            "duration_s": info.duration_s,
            "codec": info.codec,
            "header_frames": analysis.header.frame_count,  # what the file claimed
            "header_duration_s": analysis.header.duration_s,
            "complete": analysis.complete,
            "problem": analysis.problem,
        },
        "frames": [
            {
                "index": int(series.frame_index[t]),
                "time_s": round(float(series.time_s[t]), 6),
                "poses": [
                    pose_dict(pose, k + 1, classifier=classifier)
                    for k in range(series.people)
                    if (pose := series.pose(t, k)) is not None
                ],
            }
            for t in range(len(series))
        ],
        "range_of_motion_min_confidence": ROM_MIN_CONFIDENCE,
        "range_of_motion_percentiles": list(ROM_PERCENTILES),
        "range_of_motion_min_sustained_s": MIN_SUSTAINED_S,
        "outliers_replaced": angles.replaced_count("3d"),
        "range_of_motion": [
            {k: (_num(v, 2) if isinstance(v, float) else v) for k, v in row.items()}
            for row in rom.to_dict(orient="records")
        ],
        "repetitions": {"person": 1, "dimension": "3d", **count_repetitions(angles).as_dict()},
    }


def video_json(
    analysis: VideoAnalysis,
    series: PoseSeries,
    smoothing: Smoothing,
    source: str,
    classifier: PostureClassifier | None = None,
) -> str:
    # Compact: a minute of video is tens of thousands of landmarks.
    doc = video_json_dict(analysis, series, smoothing, source, classifier)
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)
