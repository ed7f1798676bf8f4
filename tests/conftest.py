"""Shared fixtures: real photos that packages ship, images and clips the tests make, and
one real landmarker per model for the whole session (creating one takes ~0.1 s, but
hundreds add up). Plain factories live in ``tests/helpers.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from skimage import data

from pose_core.analysis import EstimatorPool
from pose_core.inference import PoseEstimator
from pose_core.types import PoseSettings
from tests.helpers import FRAMES, REPO, encode, encode_clip, stage

__all__ = ["REPO", "encode"]  # still importable from here by older test files


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    """scikit-image's astronaut portrait (NASA, public domain): (512, 512, 3) uint8."""
    return data.astronaut()


@pytest.fixture(scope="session")
def astronaut_png(astronaut_rgb: np.ndarray) -> bytes:
    return encode(astronaut_rgb, "PNG")


@pytest.fixture(scope="session")
def hopper_jpeg() -> bytes:
    """matplotlib's Grace Hopper portrait (US Navy, public domain), 512x600 JPEG."""
    return Path(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg").read_bytes()


@pytest.fixture(scope="session")
def no_person_rgb() -> np.ndarray:
    """A smooth landscape-like gradient with no person in it: (360, 480, 3) uint8."""
    y, x = np.mgrid[0:360, 0:480]
    rgb = np.stack([x * 255 // 479, y * 255 // 359, np.full_like(x, 120)], axis=2)
    return rgb.astype(np.uint8)


@pytest.fixture(scope="session")
def slide_clip(astronaut_rgb: np.ndarray) -> bytes:
    """The astronaut sliding right across a grey stage (``tests.helpers.stage``): FRAMES
    frames of 480x360 at FPS, H.264 MP4 with its index at the end, as PyAV writes it."""
    return encode_clip([stage(astronaut_rgb, t) for t in range(FRAMES)])


@pytest.fixture(scope="session")
def slide_analysis(slide_clip: bytes):
    """``analyze_video`` of the slide clip with default settings (the full model)."""
    from pose_core.video import analyze_video

    return analyze_video(slide_clip)


@pytest.fixture(scope="session")
def estimator() -> Iterator[PoseEstimator]:
    with PoseEstimator(PoseSettings(model="full")) as est:
        yield est


@pytest.fixture(scope="session")
def estimators() -> Iterator[EstimatorPool]:
    """Real IMAGE-mode landmarkers, one per landmarker settings, as the app keeps them
    (the crowd search and the crowd tracker ask for several)."""
    with EstimatorPool() as pool:
        yield pool


@pytest.fixture(scope="session")
def lite_estimator() -> Iterator[PoseEstimator]:
    with PoseEstimator(PoseSettings(model="lite")) as est:
        yield est


@pytest.fixture(autouse=True)
def _isolated_model_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may see or fill the user's real model cache."""
    monkeypatch.setenv("POSELAB_MODEL_DIR", str(tmp_path_factory.mktemp("model-cache")))


os.environ.setdefault("MPLBACKEND", "Agg")
