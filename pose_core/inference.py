"""Run MediaPipe's Pose Landmarker and convert its output into PoseLab's own types
(:mod:`pose_core.types`).

This is the only module that imports MediaPipe: the one adapter from its result objects
to ours.
"""

from __future__ import annotations

import atexit
import importlib
import threading
import time
import weakref
from pathlib import Path
from typing import TypeVar

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

from pose_core.errors import ModelError, SettingsError
from pose_core.images import LoadedImage, load_image
from pose_core.models import ResolvedModel, resolve_model
from pose_core.schema import NUM_LANDMARKS
from pose_core.types import ImageAnalysis, PoseResult, PoseSettings, left_to_right


def _pose_from_mediapipe(
    landmarks: list, world_landmarks: list, mask: mp.Image | None, size: tuple[int, int]
) -> PoseResult:
    """One MediaPipe pose (33 NormalizedLandmark, 33 Landmark, optional mask) as a PoseResult."""
    norm = np.array([(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in landmarks], np.float32)
    world = np.array([(p.x, p.y, p.z) for p in world_landmarks], np.float32)
    if norm.shape != (NUM_LANDMARKS, 5) or world.shape != (NUM_LANDMARKS, 3):
        raise ModelError(f"the model returned {len(landmarks)} landmarks, expected {NUM_LANDMARKS}")
    mask_u8 = None
    if mask is not None:
        mask_u8 = np.clip(mask.numpy_view() * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(size[1], size[0])
    return PoseResult(
        landmarks=norm[:, :3].copy(),  # copies: each array owns its memory, so it can be made read-only
        visibility=norm[:, 3].copy(),
        presence=norm[:, 4].copy(),
        world_landmarks=world,
        image_size=size,
        segmentation_mask=mask_u8,
    )


_L = TypeVar("_L", bound="_Landmarker")


class _Landmarker:
    """Creation, conversion and closing shared by the IMAGE and VIDEO estimators."""

    _running_mode = vision.RunningMode.IMAGE

    def __init__(self, settings: PoseSettings | None = None, model: ResolvedModel | None = None) -> None:
        self.settings = settings or PoseSettings()
        self.model = model or resolve_model(self.settings.model)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model.path)),
            running_mode=self._running_mode,
            num_poses=self.settings.max_poses,
            min_pose_detection_confidence=self.settings.min_detection_confidence,
            min_pose_presence_confidence=self.settings.min_presence_confidence,
            min_tracking_confidence=self.settings.min_tracking_confidence,
            output_segmentation_masks=self.settings.segmentation_masks,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"model file {self.model.path} could not be loaded: {exc}") from exc
        _LIVE_ESTIMATORS.add(self)

    @staticmethod
    def _mp_image(rgb: np.ndarray) -> mp.Image:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise SettingsError(f"expected an (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}")
        # NOTE: MediaPipe misreads strided arrays (e.g. PyAV's frames 854 px wide, whose rows
        # are padded) and silently finds nobody; a contiguous copy costs ~0.1 ms.
        return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))

    def _poses(self, result: vision.PoseLandmarkerResult, rgb: np.ndarray) -> tuple[PoseResult, ...]:
        size = (int(rgb.shape[1]), int(rgb.shape[0]))
        masks = result.segmentation_masks or [None] * len(result.pose_landmarks)
        return tuple(
            _pose_from_mediapipe(lms, world, mask, size)
            for lms, world, mask in zip(result.pose_landmarks, result.pose_world_landmarks, masks, strict=True)
        )

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None  # type: ignore[assignment]

    def __enter__(self: _L) -> _L:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoPoseEstimator(_Landmarker):
    """A Pose Landmarker in VIDEO mode: it tracks people from frame to frame.

    NOTE: it keeps tracking state, so use one per video job and never share it between
    users or videos (the app creates one per job; it is not cached).
    """

    _running_mode = vision.RunningMode.VIDEO

    def __init__(self, settings: PoseSettings | None = None, model: ResolvedModel | None = None) -> None:
        super().__init__(settings, model)
        self._last_timestamp_ms = -1

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> tuple[PoseResult, ...]:
        """Poses in one frame. Timestamps must increase strictly; equal ones are nudged up
        by 1 ms (MediaPipe refuses them), earlier ones are an error."""
        if timestamp_ms < self._last_timestamp_ms:
            raise SettingsError(
                f"timestamp {timestamp_ms} ms is before the previous frame's {self._last_timestamp_ms} ms"
            )
        timestamp_ms = max(int(timestamp_ms), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp_ms
        return self._poses(self._landmarker.detect_for_video(self._mp_image(rgb), timestamp_ms), rgb)


class PoseEstimator(_Landmarker):
    """A Pose Landmarker in IMAGE mode for one :class:`PoseSettings`; reuse it.

    NOTE: MediaPipe serialises calls into one Tasks landmarker, and IMAGE mode keeps no
    state between images, so one instance may be shared across threads and users.
    """

    def detect(self, rgb: np.ndarray) -> tuple[PoseResult, ...]:
        """Poses in an (H, W, 3) uint8 RGB image, left to right (see
        :func:`pose_core.types.left_to_right`); an empty tuple when nobody is found."""
        return left_to_right(self._poses(self._landmarker.detect(self._mp_image(rgb)), rgb))

    def analyze(
        self, source: bytes | str | Path | LoadedImage, *, max_decode_pixels: int | None = None
    ) -> tuple[LoadedImage, ImageAnalysis]:
        """Decode (unless already decoded) and detect, timing each stage.

        ``max_decode_pixels`` lets a large photo be decoded smaller (see
        :func:`pose_core.images.load_image`); the analysis still describes the photo at
        its full size (landmarks are fractions of width and height, so they carry over).
        Raises :class:`pose_core.errors.ImageLoadError` for unreadable input.
        """
        start = time.perf_counter()
        image = source if isinstance(source, LoadedImage) else load_image(source, max_decode_pixels=max_decode_pixels)
        decoded = time.perf_counter()
        width, height = image.original_size
        poses = tuple(p.resized(width, height) for p in self.detect(image.rgb))
        done = time.perf_counter()
        timings = {"decode": (decoded - start) * 1000.0, "inference": (done - decoded) * 1000.0}
        return image, ImageAnalysis(width=width, height=height, poses=poses, timings_ms=timings)


# NOTE: a landmarker still open at interpreter shutdown prints a traceback: MediaPipe
# calls its C library through a concurrent.futures executor, which is shut down in
# threading's exit hooks, before atexit runs. Long-lived estimators (the app's cached
# ones) are closed in a threading exit hook registered after that executor's, so it runs
# first (they run last-registered first). atexit is the fallback should that hook go.
_LIVE_ESTIMATORS: weakref.WeakSet[_Landmarker] = weakref.WeakSet()


def _close_live_estimators() -> None:
    for estimator in list(_LIVE_ESTIMATORS):
        estimator.close()


importlib.import_module("concurrent.futures.thread")  # registers its exit hook now, before ours
getattr(threading, "_register_atexit", atexit.register)(_close_live_estimators)
