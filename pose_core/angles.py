"""Joint angles, defined once as a table of specs and computed by one function.

Conventions (also shown in the UI and written into every JSON export):
- A joint angle is the angle at the middle point ``b`` between the segments to ``a`` and
  ``c``, in degrees, 0..180. 180 means the three points are in a straight line (limb
  fully extended); smaller means more bent.
- Trunk inclination is the angle between the hip-centre -> shoulder-centre line and
  "up", 0..180: 0 is upright, 90 is lying horizontal. "Up" is the image's vertical
  (2D) or the camera's vertical axis (3D), not gravity: a tilted camera tilts it.
- 2D angles use pixel coordinates in the image plane; 3D angles use the world landmarks
  in metres. A missing landmark (NaN) or a zero-length segment gives NaN, never a guess.
- Confidence is the lowest visibility among the landmarks involved.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from pose_core.schema import index_of

if TYPE_CHECKING:
    from pose_core.types import PoseResult

Point = tuple[str, ...]  # one landmark name, or several whose mean is the point


class AngleKind(str, Enum):
    JOINT = "joint"  # angle at b between b->a and b->c
    INCLINATION = "inclination"  # angle between b->a and "up"


@dataclass(frozen=True)
class AngleSpec:
    name: str
    label: str
    kind: AngleKind
    a: Point
    b: Point
    c: Point | None
    definition: str

    @property
    def landmark_indices(self) -> tuple[int, ...]:
        points = (self.a, self.b) + ((self.c,) if self.c else ())
        return tuple(dict.fromkeys(index_of(n) for p in points for n in p))


def _joint(name: str, label: str, a: str, b: str, c: str, meaning: str) -> AngleSpec:
    definition = f"Angle at {b} between {b}->{a} and {b}->{c}. 180° = straight line; {meaning}"
    return AngleSpec(name, label, AngleKind.JOINT, (a,), (b,), (c,), definition.replace("_", " "))


SHOULDERS: Point = ("left_shoulder", "right_shoulder")
HIPS: Point = ("left_hip", "right_hip")
EARS: Point = ("left_ear", "right_ear")

ANGLE_SPECS: tuple[AngleSpec, ...] = tuple(
    spec
    for side in ("left", "right")
    for spec in (
        _joint(
            f"{side}_elbow",
            f"{side.title()} elbow",
            f"{side}_shoulder",
            f"{side}_elbow",
            f"{side}_wrist",
            "90° = forearm at right angle to upper arm.",
        ),
        _joint(
            f"{side}_shoulder",
            f"{side.title()} shoulder",
            f"{side}_hip",
            f"{side}_shoulder",
            f"{side}_elbow",
            "0° = arm down along the trunk, 90° = arm out level with the shoulder, 180° = arm overhead.",
        ),
        _joint(
            f"{side}_hip",
            f"{side.title()} hip",
            f"{side}_shoulder",
            f"{side}_hip",
            f"{side}_knee",
            "180° = standing straight, 90° = thigh at right angle to trunk (seated).",
        ),
        _joint(
            f"{side}_knee",
            f"{side.title()} knee",
            f"{side}_hip",
            f"{side}_knee",
            f"{side}_ankle",
            "180° = leg straight, 90° = deep bend.",
        ),
        _joint(
            f"{side}_ankle",
            f"{side.title()} ankle",
            f"{side}_knee",
            f"{side}_ankle",
            f"{side}_foot_index",
            "about 90°-110° standing; larger = toes pointed (plantar flexion).",
        ),
    )
) + (
    AngleSpec(
        "trunk_inclination",
        "Trunk inclination",
        AngleKind.INCLINATION,
        SHOULDERS,
        HIPS,
        None,
        "Angle between the hip-centre -> shoulder-centre line and vertical (image up in 2D, camera up in 3D). "
        "0° = upright, 90° = horizontal.",
    ),
    AngleSpec(
        "neck",
        "Neck",
        AngleKind.JOINT,
        HIPS,
        SHOULDERS,
        EARS,
        "Angle at the shoulder centre between the hip centre and the ear centre. "
        "180° = head in line with the trunk; smaller = head bent forward, back or sideways.",
    ),
)
SPEC_BY_NAME: dict[str, AngleSpec] = {s.name: s for s in ANGLE_SPECS}
# The angles shown first wherever there is room for only a few: the batch summary, the
# overlay's arcs on the command line, the video chart's default selection.
HEADLINE_ANGLES: tuple[str, ...] = ("left_elbow", "right_elbow", "left_knee", "right_knee")
_UP_2D = np.array([0.0, -1.0])  # image y grows downwards
_UP_3D = np.array([0.0, -1.0, 0.0])  # MediaPipe world y grows downwards too


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle in degrees (0..180) at ``b`` between ``b->a`` and ``b->c``; 2D or 3D points.

    NaN when any point is NaN or a segment has zero length.
    """
    a, b, c = (np.asarray(p, dtype=np.float64)[None] for p in (a, b, c))
    return float(_angles_between(a - b, c - b)[0])


def inclination(top: np.ndarray, bottom: np.ndarray) -> float:
    """Angle in degrees (0..180) between ``bottom->top`` and up (negative y)."""
    top, bottom = np.asarray(top, dtype=np.float64)[None], np.asarray(bottom, dtype=np.float64)[None]
    up = _UP_2D if top.shape[-1] == 2 else _UP_3D
    return float(_angles_between(top - bottom, up[None])[0])


@dataclass(frozen=True)
class AngleReading:
    name: str
    degrees_2d: float  # NaN when not computable
    degrees_3d: float  # NaN when not computable
    confidence: float  # lowest visibility of the landmarks involved, 0..1 (NaN if unknown)

    @property
    def difference(self) -> float:
        """|2D - 3D| in degrees: large values mean the limb points towards the camera."""
        return abs(self.degrees_2d - self.degrees_3d)


def _angles_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees between (..., D) vectors, over the last axis; NaN where one has no length."""
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("...d,...d->...", u, v) / (nu * nv)
    degrees = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return np.where((nu > 1e-9) & (nv > 1e-9), degrees, np.nan)


@dataclass(frozen=True, eq=False)
class _SpecTable:
    """Landmark indices of a tuple of specs, so all their angles are measured in a few
    whole-array steps (the live view measures them on every frame). Each point is one
    landmark or the mean of two (every AngleSpec's are); a single landmark is taken
    twice, and the mean of a value with itself is that value exactly."""

    points: np.ndarray  # (S, 3, 2) intp: landmarks of the points a, b, c; an inclination has no c (b stands in)
    inclination: np.ndarray  # (S, 1) bool
    involved: np.ndarray  # (S, K) intp: landmarks whose lowest visibility is the confidence, padded with a repeat


@functools.lru_cache(maxsize=32)
def _spec_table(specs: tuple[AngleSpec, ...]) -> _SpecTable:
    def pair(point: Point) -> list[int]:
        if not 1 <= len(point) <= 2:
            raise ValueError(f"an angle's point is one landmark or the mean of two, not {point}")
        return [index_of(n) for n in point] * (2 // len(point))

    involved = [s.landmark_indices for s in specs]
    width = max(map(len, involved), default=1)
    return _SpecTable(
        points=np.array([[pair(s.a), pair(s.b), pair(s.c or s.b)] for s in specs], np.intp).reshape(-1, 3, 2),
        inclination=np.array([s.kind is AngleKind.INCLINATION for s in specs], bool).reshape(-1, 1),
        involved=np.array([[*i, *(i[:1] * (width - len(i)))] for i in involved], np.intp).reshape(-1, width),
    )


def _measure(table: _SpecTable, coords: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(N, S) degrees from (N, 33, D) float64 coordinates."""
    points = coords[:, table.points].mean(axis=3)  # (N, S, 3, D)
    a, b, c = points[:, :, 0], points[:, :, 1], points[:, :, 2]
    return _angles_between(a - b, np.where(table.inclination, up, c - b))


def angle_arrays(
    landmarks_px: np.ndarray,
    world_landmarks: np.ndarray,
    visibility: np.ndarray,
    specs: tuple[AngleSpec, ...] = ANGLE_SPECS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every spec's angle for N poses at once (a video's frames): ``landmarks_px``
    (N, 33, 2), ``world_landmarks`` (N, 33, 3), ``visibility`` (N, 33). Returns
    degrees_2d, degrees_3d and confidence, each (N, len(specs)); NaN where undefined."""
    table = _spec_table(tuple(specs))
    px = np.asarray(landmarks_px, dtype=np.float64)
    world = np.asarray(world_landmarks, dtype=np.float64)
    vis = np.asarray(visibility, dtype=np.float64)
    return _measure(table, px, _UP_2D), _measure(table, world, _UP_3D), vis[:, table.involved].min(axis=2)


def compute_angles(
    landmarks_px: np.ndarray,
    world_landmarks: np.ndarray,
    visibility: np.ndarray,
    specs: tuple[AngleSpec, ...] = ANGLE_SPECS,
) -> tuple[AngleReading, ...]:
    """Every spec's angle for one pose: ``landmarks_px`` (33, 2), ``world_landmarks``
    (33, 3), ``visibility`` (33,). NaN rows mark missing landmarks."""
    deg2d, deg3d, confidence = angle_arrays(landmarks_px[None], world_landmarks[None], visibility[None], specs)
    return tuple(
        AngleReading(spec.name, float(deg2d[0, i]), float(deg3d[0, i]), float(confidence[0, i]))
        for i, spec in enumerate(specs)
    )


def pose_angles(pose: PoseResult) -> tuple[AngleReading, ...]:
    """Angles of one detected pose."""
    return compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility)


def definitions() -> list[dict[str, object]]:
    """The angle definitions as plain data, for manifests and the README."""
    return [
        {
            "name": s.name,
            "label": s.label,
            "kind": s.kind.value,
            "a": list(s.a),
            "vertex": list(s.b),
            "c": list(s.c) if s.c else None,
            "definition": s.definition,
            "range_degrees": [0, 180],
        }
        for s in ANGLE_SPECS
    ]
