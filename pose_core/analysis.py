"""One photo in, its people out: the entry point the command line and the app share,
plain (one landmarker call) or "find everyone" (the multi-scale search)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from pose_core.crowd import CrowdSearch
from pose_core.images import LoadedImage, load_image
from pose_core.inference import PoseEstimator
from pose_core.types import ImageAnalysis, PoseSettings

EstimatorFor = Callable[[PoseSettings], PoseEstimator]


class EstimatorPool:
    """One IMAGE-mode landmarker per landmarker settings, created on first use and kept
    (the command line's counterpart of the app's process-wide cache); close it after.
    Safe to share between threads (the HTTP API's workers do): each is created once."""

    def __init__(self) -> None:
        self._estimators: dict[PoseSettings, PoseEstimator] = {}
        self._lock = threading.Lock()

    def __call__(self, settings: PoseSettings) -> PoseEstimator:
        key = settings.landmarker
        with self._lock:
            if key not in self._estimators:
                self._estimators[key] = PoseEstimator(key)
            return self._estimators[key]

    def close(self) -> None:
        with self._lock:
            for estimator in self._estimators.values():
                estimator.close()
            self._estimators.clear()

    def __enter__(self) -> EstimatorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def analyze_image(
    source: bytes | str | Path | LoadedImage,
    settings: PoseSettings,
    estimator_for: EstimatorFor,
    *,
    max_decode_pixels: int | None = None,
) -> tuple[LoadedImage, ImageAnalysis]:
    """Decode ``source`` and find its people as ``settings`` say: one landmarker call, or
    with ``settings.crowd`` the multi-scale search. People come left to right; timings
    per stage. Raises :class:`pose_core.errors.ImageLoadError` for unreadable input."""
    if not settings.crowd:
        return estimator_for(settings).analyze(source, max_decode_pixels=max_decode_pixels)
    start = time.perf_counter()
    image = source if isinstance(source, LoadedImage) else load_image(source, max_decode_pixels=max_decode_pixels)
    decoded = time.perf_counter()
    found = CrowdSearch(estimator_for, settings.landmarker).find(image.rgb)
    width, height = image.original_size
    poses = tuple(person.pose.resized(width, height) for person in found)
    done = time.perf_counter()
    timings = {"decode": (decoded - start) * 1000.0, "search": (done - decoded) * 1000.0}
    return image, ImageAnalysis(width=width, height=height, poses=poses, timings_ms=timings)
