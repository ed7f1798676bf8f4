"""One photo in, its people out: the entry point the command line and the app share,
plain (one landmarker call) or "find everyone" (the multi-scale search)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Protocol

from pose_core.crowd import CrowdSearch
from pose_core.images import LoadedImage, load_image
from pose_core.inference import PoseEstimator
from pose_core.types import ImageAnalysis, PoseSettings


class EstimatorFor(Protocol):
    """The landmarker for ``settings`` on ``lane`` (see ``pose_core.crowd.EstimatorFor``)."""

    def __call__(self, settings: PoseSettings, lane: int = 0) -> PoseEstimator: ...


class EstimatorPool:
    """One IMAGE-mode landmarker per landmarker settings and lane, created on first use
    and kept (the command line's counterpart of the app's process-wide cache); close it
    after. Safe to share between threads (the HTTP API's workers do): each is created once."""

    def __init__(self) -> None:
        self._estimators: dict[tuple[PoseSettings, int], PoseEstimator] = {}
        self._lock = threading.Lock()

    def __call__(self, settings: PoseSettings, lane: int = 0) -> PoseEstimator:
        key = (settings.landmarker, lane)
        with self._lock:
            if key not in self._estimators:
                self._estimators[key] = PoseEstimator(key[0])
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


# Lanes (landmarkers searching at once) for one crowd search or video. A 1080p photo's
# tiles are 17 calls, so a few lanes keep busy; each lane holds one more landmarker (~77
# MB full, ~140 MB heavy), which the confirmation crops share. Measured on 2 cores only
# (bench_people): two lanes took a 1080p photo from 11.3x to 7.8x plain mode's time
# (12.0x to 7.9x and 11.9x to 8.3x in earlier runs) and a 480x360 clip from 15.5x to
# 9.7x, with the same people found; 4 is a guess at where more lanes stop paying.
MAX_SEARCH_LANES = 4


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask, or a container's CPU
    quota (cgroup v2 ``cpu.max``) when that is lower."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with open("/sys/fs/cgroup/cpu.max") as limit:
            quota, period = limit.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota here: the affinity mask is the limit
    return max(1, cores)


def search_lanes(workers: int = 1) -> int:
    """Lanes for each crowd search when ``workers`` processes search at once: the cores
    they leave each, 1 to MAX_SEARCH_LANES (lanes beyond the cores only cost memory)."""
    return max(1, min(MAX_SEARCH_LANES, usable_cores() // max(1, workers)))


def analyze_image(
    source: bytes | str | Path | LoadedImage,
    settings: PoseSettings,
    estimator_for: EstimatorFor,
    *,
    max_decode_pixels: int | None = None,
    lanes: int = 1,
) -> tuple[LoadedImage, ImageAnalysis]:
    """Decode ``source`` and find its people as ``settings`` say: one landmarker call, or
    with ``settings.crowd`` the multi-scale search, its tiles on ``lanes`` landmarkers at
    once. People come left to right; timings per stage. Raises
    :class:`pose_core.errors.ImageLoadError` for unreadable input."""
    if not settings.crowd:
        return estimator_for(settings).analyze(source, max_decode_pixels=max_decode_pixels)
    start = time.perf_counter()
    image = source if isinstance(source, LoadedImage) else load_image(source, max_decode_pixels=max_decode_pixels)
    decoded = time.perf_counter()
    found = CrowdSearch(estimator_for, settings.landmarker, lanes=lanes).find(image.rgb)
    width, height = image.original_size
    poses = tuple(person.pose.resized(width, height) for person in found)
    done = time.perf_counter()
    timings = {"decode": (decoded - start) * 1000.0, "search": (done - decoded) * 1000.0}
    return image, ImageAnalysis(width=width, height=height, poses=poses, timings_ms=timings)
