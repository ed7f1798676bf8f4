"""What the app keeps between reruns: cached models, cached results, widget keys.

One module, so a reader can see every cache and every session-state key in one place.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pose_core.analysis import analyze_image
from pose_core.errors import ImageLoadError
from pose_core.images import decode_preview, encode_jpeg, fit_within
from pose_core.inference import PoseEstimator
from pose_core.limits import SERVER_LIMITS
from pose_core.models import ResolvedModel
from pose_core.types import ImageAnalysis, PoseSettings
from pose_core.video import VideoJob
from ui.cache import BytesBoundedCache

# Widget keys (tests find widgets by these).
SOURCE = "source"
UPLOADER = "uploader"
SAMPLE = "sample"
CAMERA = "camera"
OPEN_IMAGE = "open_image"
MODEL = "model"
MAX_POSES = "max_poses"
CROWD = "crowd"  # the key ends in -on or -off: the toggle's default follows Max people
SEGMENTATION = "segmentation"
MIN_DETECTION = "min_detection"
MIN_PRESENCE = "min_presence"
MIN_TRACKING = "min_tracking"
VISIBILITY_THRESHOLD = "visibility_threshold"
JOINT_COLOR = "joint_color"
BONE_COLOR = "bone_color"
LINE_WIDTH = "line_width"
ANGLE_ARCS = "angle_arcs"

SESSION_RESULTS = "session_results"  # session state: (digest, settings) -> Outcome now shown

DISPLAY_MAX_SIDE = 1600  # on-screen copies; landmarks and exports keep full resolution
# What a download button's click does to the page: nothing. Streamlit's default reruns the
# whole page on every download, for nothing here (the image page redraws its pictures and
# 3D view), and that rerun can race a deferred download (data given as a function): a run
# starting clears the session's outgoing messages, and in Streamlit 1.67 that clear keeps
# lifecycle messages only, so the file's answer, if it is still waiting there, is lost and
# the button spins until its 3 minute timeout.
DOWNLOAD_CLICK = "ignore"


@st.cache_resource(max_entries=6, show_spinner="Loading the pose model...")
def _estimator(settings: PoseSettings, lane: int) -> PoseEstimator:
    """One IMAGE-mode landmarker per landmarker settings and lane (see
    ``pose_core.crowd.EstimatorFor``), shared by every session of this server.

    NOTE: safe to share: MediaPipe serialises calls into one Tasks landmarker, and
    IMAGE mode keeps no state between images (VIDEO mode would, and must not be shared).
    """
    return PoseEstimator(settings)


def get_estimator(settings: PoseSettings, lane: int = 0) -> PoseEstimator:
    """The shared landmarker for ``settings`` (with and without crowd mode: the same one).
    The app searches on lane 0 only (see analyze_bytes)."""
    return _estimator(settings.landmarker, lane)


@dataclass(frozen=True, eq=False)
class Outcome:
    """One image's result, shared read-only between reruns and sessions. Compact: the
    picture is kept as a JPEG of the display copy; overlays are drawn when shown."""

    digest: str  # sha256 of the file's bytes
    analysis: ImageAnalysis | None  # None when the file could not be read
    display_jpeg: bytes | None  # the picture, long side <= DISPLAY_MAX_SIDE
    error: str | None
    model: ResolvedModel
    settings: PoseSettings

    def display_rgb(self) -> np.ndarray | None:
        """(h, w, 3) uint8 display copy, decoded (~10 ms) each time it is shown."""
        return decode_preview(self.display_jpeg) if self.display_jpeg is not None else None

    @property
    def nbytes(self) -> int:
        """What keeping this costs, roughly: the JPEG and the pose arrays."""
        poses = self.analysis.poses if self.analysis else ()
        arrays = [a for p in poses for a in (p.landmarks, p.world_landmarks, p.visibility, p.presence)]
        masks = [p.segmentation_mask for p in poses if p.segmentation_mask is not None]
        return len(self.display_jpeg or b"") + sum(a.nbytes for a in arrays + masks) + 2048


# Budgets that fit a 690 MB server next to ~400 MB of Python, Streamlit and MediaPipe.
# Results shared by every session: a full batch (20 photos, ~0.3-0.5 MB each) and some.
# Measured with bench/bench_memory.py: the cache filling up was the only growth over 50
# photos (+0.3 MB a photo at 48 MB). What a session is looking at is also held by the
# session itself (SESSION_RESULTS), so eviction never makes a slider re-run the model.
IMAGE_CACHE_BYTES = 12 * 2**20
# What one shared server accepts (pose_core/limits.py; the HTTP API reads the same).
APP_DECODE_PIXELS = SERVER_LIMITS.decode_pixels
MAX_BATCH_FILES = SERVER_LIMITS.max_images
MAX_BATCH_PIXELS = SERVER_LIMITS.max_batch_pixels


@st.cache_resource
def _image_results() -> BytesBoundedCache[Outcome]:
    return BytesBoundedCache(IMAGE_CACHE_BYTES)


def analyze_bytes(data: bytes, settings: PoseSettings, digest: str | None = None) -> Outcome:
    """Decode and detect once per (image bytes, inference settings): from this session's
    current results, else from a cache shared by every session and bounded by bytes.
    ``digest``: the bytes' sha256 if known."""
    digest = digest or hashlib.sha256(data).hexdigest()
    key = (digest, settings)
    if (held := st.session_state.get(SESSION_RESULTS, {}).get(key)) is not None:
        return held
    if (kept := _image_results().get(key)) is not None:
        return kept
    model = get_estimator(settings).model
    try:
        # Crowd mode searches on this one shared landmarker (one lane, its confirmation
        # crops too): a second lane would hold another (~77 MB full, ~140 MB heavy) that a
        # 690 MB server has no room for, and on a shared server the other core serves the
        # other sessions.
        image, analysis = analyze_image(data, settings, get_estimator, max_decode_pixels=APP_DECODE_PIXELS)
    except ImageLoadError as exc:
        outcome = Outcome(digest, None, None, f"{exc}.", model, settings)
    else:
        display = encode_jpeg(fit_within(image.rgb, DISPLAY_MAX_SIDE), quality=90)
        outcome = Outcome(digest, analysis, display, None, model, settings)
        del image  # the decoded photo (tens of MB): gone before the heap is trimmed
    _image_results().put(key, outcome, outcome.nbytes)
    release_freed_memory()
    return outcome


def hold_for_session(outcomes: list[Outcome]) -> None:
    """Keep the results this session shows (and only those) for its next reruns."""
    st.session_state[SESSION_RESULTS] = {(o.digest, o.settings): o for o in outcomes}


def clear_caches() -> None:
    """Forget every cached result (tests start from here)."""
    _image_results().clear()
    video_job.clear()


# ---------------------------------------------------------------- video

VIDEO_UPLOADER = "video_uploader"
VIDEO_FRAME = "video_frame"
VIDEO_PERSON = "video_person"
STRIDE = "stride"
SMOOTHING = "smoothing"
CHART_ANGLES = "chart_angles"
CHART_DIMENSION = "chart_dimension"
UPLOAD_DIGESTS = "upload_digests"  # session state: uploaded file id -> sha256 of its bytes

# The upload cap in .streamlit/config.toml (server.maxUploadSize) matches its max_bytes.
APP_VIDEO_LIMITS = SERVER_LIMITS.video
PREVIEW_SIDE = 384  # px; a minute at 30 fps keeps ~25 MB of previews for the frame slider


# Video analyses run one at a time on this server: each holds a landmarker, decoded and
# drawn frames and an H.264 encoder (~200 MB at 720p), and two cores gain nothing from a
# second one at once. Three sessions analysing at once peaked at 1.1 GB; a 690 MB server
# has room for one.
VIDEO_JOBS_AT_ONCE = 1


@st.cache_resource
def _video_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(VIDEO_JOBS_AT_ONCE)


@contextmanager
def video_slot(waiting: Callable[[], None]) -> Iterator[None]:
    """Hold one of the server's video slots while the block runs; ``waiting()`` is called
    first when all are taken (the page says so). Freed memory goes back to the system
    afterwards."""
    slots = _video_slots()
    if not slots.acquire(blocking=False):
        waiting()
        slots.acquire()
    try:
        yield
    finally:
        slots.release()
        release_freed_memory()


def release_freed_memory() -> None:
    """Hand the heap that a finished video job freed back to the system.

    NOTE: glibc keeps freed memory in its arenas for reuse, so after a video the server
    stays at its peak (measured: 260 MB up after one 720p clip; malloc_trim(0) returned
    113 MB of it). A no-op where the C library has no malloc_trim (macOS, musl).
    """
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def upload_digest(file_id: str, data: bytes) -> str:
    """sha256 of an upload, hashed once per upload rather than on every rerun."""
    digests = st.session_state.setdefault(UPLOAD_DIGESTS, {})
    if file_id not in digests:
        digests[file_id] = hashlib.sha256(data).hexdigest()
    return str(digests[file_id])


@st.cache_resource(max_entries=2, show_spinner=False)
def video_job(digest: str, settings: PoseSettings, stride: int) -> VideoJob:
    """One :class:`VideoJob` per (video sha256, settings, stride), shared by every
    session of this server: the model runs once per video, and each smoothing and style
    is drawn once. The job holds no landmarker (each analysis makes its own, VIDEO mode
    keeps tracking state) and not the video itself."""
    return VideoJob(
        settings, stride=stride, limits=APP_VIDEO_LIMITS, preview_side=PREVIEW_SIDE, estimator_for=get_estimator
    )


# ---------------------------------------------------------------- live camera

LIVE_STREAM = "live_stream"  # the webrtc_streamer's key (its context lives in session state under it)
LIVE_MIRROR = "live_mirror"
LIVE_RECORD = "live_record"
LIVE_RECORD_SECONDS = "live_record_seconds"
LIVE_FREEZE = "live_freeze"
LIVE_SNAPSHOT = "live_snapshot"  # the camera snapshot offered when no live connection can be made
# Session state: this session's LivePipeline (kept after its stream stops, for the
# recording's downloads; its landmarker is closed by then), the frozen frame shown below
# the video, and when the current connection attempt started (to tell when it failed).
LIVE_PIPELINE = "live_pipeline"
LIVE_FROZEN = "live_frozen"
LIVE_CONNECTING_SINCE = "live_connecting_since"
LIVE_NO_CONNECTION = "live_no_connection"


# ---------------------------------------------------------------- movement analysis, postures, compare

REP_ANGLE = "rep_angle"  # "auto" or an angle name
REP_THRESHOLDS = "rep_thresholds"  # (low, high) degrees, when set by hand
REP_MANUAL = "rep_manual"
REP_MIN_RANGE = "rep_min_range"
REP_MIN_PHASE = "rep_min_phase"
ANGLE_CHART = "angle_chart"  # plotly charts whose clicks move the frame slider
REP_CHART = "rep_chart"
POSTURE_CLASSIFIER = "posture_classifier"  # session state: the PostureClassifier in use, if any
POSTURE_ZIP = "posture_zip"
POSTURE_LOAD = "posture_load"
POSTURE_TEACH = "posture_teach"
COMPARE_MODE = "compare_mode"
COMPARE_REFERENCE = "compare_reference"
COMPARE_OTHER = "compare_other"
COMPARE_FRAME = "compare_frame"
COMPARE_SYNC_VIDEO = "compare_sync_video"  # session state: (key, MP4 bytes) of the side-by-side video
