"""What the app keeps between reruns: cached models, cached results, widget keys.

One module, so a reader can see every cache and every session-state key in one place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pose_core.errors import ImageLoadError
from pose_core.images import fit_within
from pose_core.inference import PoseEstimator
from pose_core.models import ResolvedModel
from pose_core.types import ImageAnalysis, PoseSettings
from pose_core.video import VideoJob
from pose_core.video_io import VideoLimits

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


# NOTE: cache_resource, not cache_data: results are immutable (frozen dataclasses with
# read-only arrays), and cache_data would pickle a copy of every image per rerun.
@st.cache_resource(max_entries=48, show_spinner=False)
def analyze_bytes(data: bytes, settings: PoseSettings) -> Outcome:
    """Decode and detect once per (image bytes, inference settings)."""
    estimator = get_estimator(settings)
    digest = hashlib.sha256(data).hexdigest()
    try:
        image, analysis = estimator.analyze(data)
    except ImageLoadError as exc:
        return Outcome(digest, None, None, f"{exc}.", estimator.model, settings)
    return Outcome(digest, analysis, fit_within(image.rgb, DISPLAY_MAX_SIDE), None, estimator.model, settings)


# ---------------------------------------------------------------- video

VIDEO_UPLOADER = "video_uploader"
VIDEO_FRAME = "video_frame"
VIDEO_PERSON = "video_person"
STRIDE = "stride"
SMOOTHING = "smoothing"
CHART_ANGLES = "chart_angles"
CHART_DIMENSION = "chart_dimension"
UPLOAD_DIGESTS = "upload_digests"  # session state: uploaded file id -> sha256 of its bytes

# What one shared server accepts (the command line has no limits). The upload cap in
# .streamlit/config.toml (server.maxUploadSize) matches max_bytes.
APP_VIDEO_LIMITS = VideoLimits(max_bytes=100 * 1024 * 1024, max_duration_s=60.0, max_side_px=1920)
PREVIEW_SIDE = 384  # px; a minute at 30 fps keeps ~25 MB of previews for the frame slider


def upload_digest(file_id: str, data: bytes) -> str:
    """sha256 of an upload, hashed once per upload rather than on every rerun."""
    digests = st.session_state.setdefault(UPLOAD_DIGESTS, {})
    if file_id not in digests:
        digests[file_id] = hashlib.sha256(data).hexdigest()
    return str(digests[file_id])


@st.cache_resource(max_entries=4, show_spinner=False)
def video_job(digest: str, settings: PoseSettings, stride: int) -> VideoJob:
    """One :class:`VideoJob` per (video sha256, settings, stride), shared by every
    session of this server: the model runs once per video, and each smoothing and style
    is drawn once. The job holds no landmarker (each analysis makes its own, VIDEO mode
    keeps tracking state) and not the video itself."""
    return VideoJob(settings, stride=stride, limits=APP_VIDEO_LIMITS, preview_side=PREVIEW_SIDE)
