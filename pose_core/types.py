"""PoseLab's own data types: plain frozen dataclasses over numpy arrays.

Nothing here imports MediaPipe (``pose_core.inference`` is the one adapter from its
output to these types), so drawing, plots, exports and the app can use poses without
loading the model runtime. Every array a result holds is read-only: the app shares
results between sessions through its caches, and a read-only array makes that safe by
construction rather than by promise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from pose_core.errors import SettingsError
from pose_core.models import DEFAULT_VARIANT, get_variant
from pose_core.schema import INDEX, NUM_LANDMARKS

MAX_POSES_LIMIT = 10  # the landmarker's num_poses is meant for a handful of people


def read_only(array: np.ndarray, dtype: type | None = np.float32) -> np.ndarray:
    """``array`` as a read-only array of ``dtype``. A writable view is copied first, so
    no other holder of its base can change what we hand out."""
    out = np.asarray(array, dtype=dtype)
    if out.flags.writeable and out.base is not None:
        out = out.copy()
    out.flags.writeable = False
    return out


def to_pixels(xy: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Normalised (..., 2) x, y (0..1 of width and height) as float32 pixels."""
    width, height = image_size
    return np.asarray(xy, np.float32)[..., :2] * np.array([width, height], np.float32)


def is_present(landmarks: np.ndarray) -> np.ndarray:
    """Which poses of a (..., 33, 3) array are there at all: a pose that is absent (in
    a frame where its person was not seen) is NaN throughout; one with some points
    missing is still there. Returns a bool (...) array."""
    return ~np.isnan(np.asarray(landmarks)[..., 0]).all(axis=-1)


@dataclass(frozen=True)
class PoseSettings:
    """Everything that changes what the model returns (and so keys the caches).

    The defaults here are the defaults everywhere: the command line's options and the
    app's widgets read them from ``PoseSettings()``.
    """

    model: str = DEFAULT_VARIANT
    max_poses: int = 1
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    segmentation_masks: bool = False
    crowd: bool = False  # "find everyone": the multi-scale search of pose_core.crowd

    def __post_init__(self) -> None:
        get_variant(self.model)  # raises ModelError listing the valid names
        if not 1 <= self.max_poses <= MAX_POSES_LIMIT:
            raise SettingsError(f"max_poses must be 1..{MAX_POSES_LIMIT}, got {self.max_poses}")
        for name in CONFIDENCE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SettingsError(f"{name} must be between 0 and 1, got {value}")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def landmarker(self) -> PoseSettings:
        """The settings a landmarker is built from: crowd mode is a search over the
        same landmarkers, so with and without it they share one."""
        return replace(self, crowd=False) if self.crowd else self


CONFIDENCE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PoseSettings) if f.name.startswith("min_"))


@dataclass(frozen=True, eq=False)
class PoseResult:
    """One person's pose in one image. Arrays are read-only."""

    landmarks: np.ndarray  # (33, 3) float32: x, y in [0, 1] of width/height; z on x's scale, hips ~0
    visibility: np.ndarray  # (33,) float32 in [0, 1]: likely visible (not occluded) in the image
    presence: np.ndarray  # (33,) float32 in [0, 1]: likely inside the image frame
    world_landmarks: np.ndarray  # (33, 3) float32 metres; origin between the hips, y down
    image_size: tuple[int, int]  # (width, height) in pixels
    segmentation_mask: np.ndarray | None = None  # (height, width) uint8, 255 = this person

    def __post_init__(self) -> None:
        for name, shape in (("landmarks", (NUM_LANDMARKS, 3)), ("world_landmarks", (NUM_LANDMARKS, 3))):
            self._set(name, read_only(getattr(self, name)), shape)
        for name in ("visibility", "presence"):
            self._set(name, read_only(getattr(self, name)), (NUM_LANDMARKS,))
        if self.segmentation_mask is not None:
            width, height = self.image_size
            self._set("segmentation_mask", read_only(self.segmentation_mask, np.uint8), (height, width))

    def _set(self, name: str, value: np.ndarray, shape: tuple[int, ...]) -> None:
        if value.shape != shape:
            raise SettingsError(f"PoseResult.{name} must have shape {shape}, got {value.shape}")
        object.__setattr__(self, name, value)

    @property
    def landmarks_px(self) -> np.ndarray:
        """(33, 2) float32 pixel coordinates (x right, y down)."""
        return to_pixels(self.landmarks, self.image_size)

    def resized(self, width: int, height: int) -> PoseResult:
        """The same pose on a scaled copy of its image (for drawing on a preview)."""
        if (width, height) == self.image_size:
            return self
        mask = self.segmentation_mask
        if mask is not None:  # nearest neighbour: a tint needs no smoother edge
            rows = np.minimum((np.arange(height) + 0.5) * mask.shape[0] / height, mask.shape[0] - 1).astype(int)
            cols = np.minimum((np.arange(width) + 0.5) * mask.shape[1] / width, mask.shape[1] - 1).astype(int)
            mask = mask[np.ix_(rows, cols)]
        return replace(self, image_size=(width, height), segmentation_mask=mask)


_TORSO = [INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]


def left_to_right(poses: Sequence[PoseResult]) -> tuple[PoseResult, ...]:
    """People in reading order: by the x of their torso centre (shoulders and hips), the
    person furthest left in the picture first. This is what "Person 1, 2, ..." means in
    every view and export."""

    def torso_x(pose: PoseResult) -> float:
        x = pose.landmarks[_TORSO, 0]
        x = x[~np.isnan(x)] if not np.isnan(x).all() else pose.landmarks[:, 0][~np.isnan(pose.landmarks[:, 0])]
        return float(x.mean()) if x.size else float("inf")

    return tuple(sorted(poses, key=torso_x))


@dataclass(frozen=True, eq=False)
class ImageAnalysis:
    """The poses found in one image, left to right; empty ``poses`` means nobody was found."""

    width: int
    height: int
    poses: tuple[PoseResult, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
