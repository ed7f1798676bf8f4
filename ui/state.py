"""What the app keeps between reruns: cached models, cached results, widget keys.

One module, so a reader can see every cache and every session-state key in one place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np
import streamlit as st

from pose_core.images import ImageLoadError
from pose_core.inference import ImageAnalysis, PoseEstimator, PoseSettings
from pose_core.models import ResolvedModel

# Widget keys (tests find widgets by these).
SOURCE = "source"
UPLOADER = "uploader"
SAMPLE = "sample"
CAMERA = "camera"
OPEN_IMAGE = "open_image"
MODEL = "model"
MAX_POSES = "max_poses"
SEGMENTATION = "segmentation"
VISIBILITY_THRESHOLD = "visibility_threshold"
JOINT_COLOR = "joint_color"
BONE_COLOR = "bone_color"
LINE_WIDTH = "line_width"
ANGLE_ARCS = "angle_arcs"

DISPLAY_MAX_SIDE = 1600  # on-screen copies; landmarks and exports keep full resolution


@st.cache_resource(max_entries=6, show_spinner="Loading the pose model...")
def get_estimator(settings: PoseSettings) -> PoseEstimator:
    """One IMAGE-mode landmarker per settings, shared by every session of this server.

    NOTE: safe to share: MediaPipe serialises calls into one Tasks landmarker, and
    IMAGE mode keeps no state between images (VIDEO mode would, and must not be shared).
    """
    return PoseEstimator(settings)


@dataclass(frozen=True, eq=False)
class Outcome:
    """One image's result, shared read-only between reruns and sessions."""

    digest: str  # sha256 of the file's bytes
    analysis: ImageAnalysis | None  # None when the file could not be read
    display_rgb: np.ndarray | None  # (h, w, 3) uint8, long side <= DISPLAY_MAX_SIDE
    error: str | None
    model: ResolvedModel
    settings: PoseSettings


def _display_copy(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = DISPLAY_MAX_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


# NOTE: cache_resource, not cache_data: results are immutable (frozen dataclasses whose
# arrays nobody writes to), and cache_data would pickle a copy of every image per rerun.
@st.cache_resource(max_entries=48, show_spinner=False)
def analyze_bytes(data: bytes, settings: PoseSettings) -> Outcome:
    """Decode and detect once per (image bytes, inference settings)."""
    estimator = get_estimator(settings)
    digest = hashlib.sha256(data).hexdigest()
    try:
        image, analysis = estimator.analyze(data)
    except ImageLoadError as exc:
        return Outcome(digest, None, None, f"{exc}.", estimator.model, settings)
    return Outcome(digest, analysis, _display_copy(image.rgb), None, estimator.model, settings)
