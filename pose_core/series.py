"""Poses over time: the series of a video's analysed frames, and who is who in it.

A video's landmarks live in one :class:`PoseSeries` of shape (T frames, P people, 33
points); :class:`IdentityTracker` decides which of a frame's poses is which person, so
"person 1" stays the same person while the landmarker reorders its output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pose_core.schema import INDEX, NUM_LANDMARKS
from pose_core.smoothing import Smoothing, interpolate_gaps, smooth
from pose_core.types import PoseResult, is_present, read_only, to_pixels


@dataclass(frozen=True, eq=False)
class PoseSeries:
    """Poses over T analysed frames for up to P people; NaN where a person is absent.
    Arrays are read-only."""

    frame_index: np.ndarray  # (T,) int64, index of each analysed frame in the file
    time_s: np.ndarray  # (T,) float64
    landmarks: np.ndarray  # (T, P, 33, 3) float32, normalised x, y, z as in PoseResult
    visibility: np.ndarray  # (T, P, 33) float32
    presence: np.ndarray  # (T, P, 33) float32
    world_landmarks: np.ndarray  # (T, P, 33, 3) float32, metres
    image_size: tuple[int, int]  # (width, height)

    def __post_init__(self) -> None:
        for name, dtype in (("frame_index", np.int64), ("time_s", np.float64)):
            object.__setattr__(self, name, read_only(getattr(self, name), dtype))
        for name in ("landmarks", "visibility", "presence", "world_landmarks"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    @property
    def people(self) -> int:
        return int(self.landmarks.shape[1])

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])

    @property
    def present(self) -> np.ndarray:
        """(T, P) bool: which person is in which analysed frame."""
        return is_present(self.landmarks)

    @property
    def frames_with_people(self) -> int:
        """How many analysed frames have at least one person."""
        return int(self.present.any(axis=1).sum())

    @property
    def landmarks_px(self) -> np.ndarray:
        """(T, P, 33, 2) float32 pixel coordinates."""
        return to_pixels(self.landmarks, self.image_size)

    def pose(self, t: int, person: int) -> PoseResult | None:
        """Person ``person`` (0-based) in the ``t``-th analysed frame, or None if absent then."""
        if not self.present[t, person]:
            return None
        return PoseResult(
            landmarks=self.landmarks[t, person],
            visibility=self.visibility[t, person],
            presence=self.presence[t, person],
            world_landmarks=self.world_landmarks[t, person],
            image_size=self.image_size,
        )

    def poses_at(self, t: int) -> tuple[PoseResult, ...]:
        return tuple(p for person in range(self.people) if (p := self.pose(t, person)) is not None)

    def smoothed(self, spec: Smoothing) -> PoseSeries:
        """Landmarks and world landmarks filtered by ``spec``; visibility and presence
        only have short gaps filled (they are scores, not positions)."""
        if spec.method == "none":
            return self
        fill = spec.max_gap_frames
        return replace(
            self,
            landmarks=smooth(self.landmarks, self.time_s, spec).astype(np.float32),
            world_landmarks=smooth(self.world_landmarks, self.time_s, spec).astype(np.float32),
            visibility=interpolate_gaps(self.visibility, fill).astype(np.float32),
            presence=interpolate_gaps(self.presence, fill).astype(np.float32),
        )

    @classmethod
    def from_rows(
        cls, indices: list[int], times: list[float], rows: list[list[PoseResult | None]], size: tuple[int, int]
    ) -> PoseSeries:
        """A series from per-frame person slots (None where a person is absent)."""
        t, p = len(rows), len(rows[0]) if rows else 0
        packed = np.stack([pack_row(row) for row in rows]) if rows else np.full((0, p, NUM_LANDMARKS, 8), np.nan)
        return cls(
            frame_index=np.asarray(indices, np.int64),
            time_s=np.asarray(times, np.float64),
            landmarks=packed[..., 0:3].astype(np.float32),
            world_landmarks=packed[..., 3:6].astype(np.float32),
            visibility=packed[..., 6].astype(np.float32).reshape(t, p, NUM_LANDMARKS),
            presence=packed[..., 7].astype(np.float32).reshape(t, p, NUM_LANDMARKS),
            image_size=size,
        )


# One frame's people as the smoother streams them: (P, 33, 8) float64 per person and
# landmark, x, y, z, world x, y, z (filtered), then visibility and presence (only short
# gaps filled); NaN where a person is absent.
PACKED_FILTERED = np.array([True] * 6 + [False] * 2)


def pack_row(row: list[PoseResult | None]) -> np.ndarray:
    packed = np.full((len(row), NUM_LANDMARKS, 8), np.nan)
    for s, pose in enumerate(row):
        if pose is not None:
            packed[s] = np.concatenate(
                [pose.landmarks, pose.world_landmarks, pose.visibility[:, None], pose.presence[:, None]], axis=1
            )
    return packed


def unpack_row(packed: np.ndarray, size: tuple[int, int]) -> tuple[PoseResult, ...]:
    """The people present in one packed frame, as poses on an image of ``size``."""
    people = packed.astype(np.float32)
    return tuple(
        PoseResult(
            landmarks=person[:, :3],
            world_landmarks=person[:, 3:6],
            visibility=person[:, 6],
            presence=person[:, 7],
            image_size=size,
        )
        for person in people
        if not np.isnan(person[:, :3]).all()
    )


_HIPS = [INDEX["left_hip"], INDEX["right_hip"]]
_SHOULDERS = [INDEX["left_shoulder"], INDEX["right_shoulder"]]


class IdentityTracker:
    """Keeps "person k" on the same person from frame to frame.

    Each frame's poses are assigned to person slots by hip-centre distance (an optimal
    assignment, not greedy), but only within a gate: a pose further than
    ``gate_torsos`` torso lengths from where a slot's person was last seen (the gate
    widens by ``growth_per_missed_frame`` torso lengths for each frame they were missed)
    cannot take that slot. Such a pose, a newcomer, gets a slot never used, or one whose
    person has been gone for more than ``reuse_after_frames`` frames; otherwise it is
    left out rather than allowed to steal someone's identity.
    """

    def __init__(
        self,
        slots: int,
        image_size: tuple[int, int],
        *,
        gate_torsos: float = 1.5,
        growth_per_missed_frame: float = 0.5,
        reuse_after_frames: int = 30,
    ) -> None:
        self.slots = slots
        self._scale = np.array(image_size, np.float64)
        self._gate, self._growth, self._reuse = gate_torsos, growth_per_missed_frame, reuse_after_frames
        self._centre = np.full((slots, 2), np.nan)  # last hip centre in pixels
        self._torso = np.full(slots, np.nan)  # last shoulder-to-hip length in pixels
        self._missed = np.zeros(slots, int)  # frames since last seen

    def assign(self, poses: tuple[PoseResult, ...]) -> list[PoseResult | None]:
        """This frame's poses in slot order (None for a slot whose person is not seen)."""
        from scipy.optimize import linear_sum_assignment  # noqa: PLC0415 - scipy is slow to import

        assigned: list[PoseResult | None] = [None] * self.slots
        centres = np.array([self._hip_centre(p) for p in poses]).reshape(-1, 2)
        seen = ~np.isnan(self._centre[:, 0])
        unplaced = list(range(len(poses)))
        if len(poses) and seen.any():
            distance = np.linalg.norm(centres[:, None, :] - self._centre[None, :, :], axis=2)  # (poses, slots)
            gate = self._torso * (self._gate + self._growth * np.minimum(self._missed, 10))
            allowed = seen[None, :] & (distance <= gate[None, :])
            cost = np.where(allowed, distance, 1e9)
            for i, s in zip(*linear_sum_assignment(cost), strict=True):
                if allowed[i, s]:
                    assigned[s] = poses[i]
                    unplaced.remove(i)
        for i in unplaced:  # newcomers: a fresh slot, else one whose person is long gone
            free = [s for s in range(self.slots) if assigned[s] is None and not seen[s]]
            free = free or [s for s in range(self.slots) if assigned[s] is None and self._missed[s] > self._reuse]
            if free:
                assigned[free[0]] = poses[i]
        for s, pose in enumerate(assigned):
            if pose is None:
                self._missed[s] += 1
            else:
                self._centre[s], self._torso[s], self._missed[s] = self._hip_centre(pose), self._torso_px(pose), 0
        return assigned

    def _hip_centre(self, pose: PoseResult) -> np.ndarray:
        return pose.landmarks[_HIPS, :2].mean(axis=0) * self._scale

    def _torso_px(self, pose: PoseResult) -> float:
        shoulders = pose.landmarks[_SHOULDERS, :2].mean(axis=0) * self._scale
        # A floor of 2 % of the image's long side keeps the gate open for a tiny or folded torso.
        return max(float(np.linalg.norm(shoulders - self._hip_centre(pose))), 0.02 * float(self._scale.max()))
