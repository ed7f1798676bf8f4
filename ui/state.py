"""What the app keeps between reruns: cached models, cached results, widget keys.

One module, so a reader can see every cache and every session-state key in one place.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd
import streamlit as st

from pose_core.drawing import DrawStyle
from pose_core.export import angle_series
from pose_core.images import ImageLoadError
from pose_core.inference import ImageAnalysis, PoseEstimator, PoseSettings
from pose_core.models import ResolvedModel
from pose_core.smoothing import Smoothing
from pose_core.video import (
    PoseSeries,
    ProgressCallback,
    VideoAnalysis,
    VideoLimits,
    analyze_video,
    preview_jpeg,
    render_video,
)

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


@dataclass(frozen=True, eq=False)
class VideoJob:
    digest: str
    analysis: VideoAnalysis
    previews: tuple[bytes, ...]  # one small JPEG per analysed frame
    raw_angles: pd.DataFrame  # angle_series(analysis.raw)


@dataclass(frozen=True, eq=False)
class VideoRender:
    """What one smoothing and style give: kept, so moving the frame slider recomputes
    nothing (Butterworth over a minute of landmarks takes ~0.5 s)."""

    smoothed: PoseSeries
    smoothed_angles: pd.DataFrame
    mp4: bytes


def upload_digest(file_id: str, data: bytes) -> str:
    """sha256 of an upload, hashed once per upload rather than on every rerun."""
    digests = st.session_state.setdefault(UPLOAD_DIGESTS, {})
    if file_id not in digests:
        digests[file_id] = hashlib.sha256(data).hexdigest()
    return str(digests[file_id])


class _LruStore:
    """A small thread-safe LRU map shared by every session of this server."""

    def __init__(self, max_items: int) -> None:
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_items

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@st.cache_resource
def video_analyses() -> _LruStore:
    """(video sha256, settings, stride) -> VideoJob: the model's work, kept."""
    return _LruStore(max_items=4)


@st.cache_resource
def video_renders() -> _LruStore:
    """(analysis key, smoothing, style) -> VideoRender: cheap to redo, no model."""
    return _LruStore(max_items=8)


def video_job(
    digest: str,
    data: bytes,
    settings: PoseSettings,
    stride: int,
    smoothing: Smoothing,
    style: DrawStyle,
    progress: ProgressCallback,
) -> tuple[VideoJob, VideoRender]:
    """The analysis and its rendering, from the caches when possible.

    A new video runs the model once (a fresh VIDEO-mode landmarker, never shared) and
    renders in the same pass; a new smoothing or style only re-renders.
    Raises VideoLoadError for a bad or too large video.
    """
    key = (digest, settings, stride)
    render_key = (key, smoothing, style)
    job = video_analyses().get(key)
    fresh_mp4: bytes | None = None
    if not isinstance(job, VideoJob):
        mp4, previews = io.BytesIO(), []
        analysis = analyze_video(
            data,
            settings,
            stride=stride,
            limits=APP_VIDEO_LIMITS,
            smoothing=smoothing,
            output=mp4,
            style=style,
            progress=progress,
            on_frame=lambda frame: previews.append(preview_jpeg(frame.rgb, PREVIEW_SIDE)),
        )
        job = VideoJob(digest, analysis, tuple(previews), angle_series(analysis.raw))
        video_analyses().put(key, job)
        fresh_mp4 = mp4.getvalue()
    rendered = video_renders().get(render_key)
    if not isinstance(rendered, VideoRender):
        smoothed = job.analysis.raw.smoothed(smoothing)
        if fresh_mp4 is None:
            mp4 = io.BytesIO()
            render_video(data, smoothed, mp4, style, fps=job.analysis.info.fps, stride=stride, progress=progress)
            fresh_mp4 = mp4.getvalue()
        rendered = VideoRender(smoothed, angle_series(smoothed), fresh_mp4)
        video_renders().put(render_key, rendered)
    return job, rendered
