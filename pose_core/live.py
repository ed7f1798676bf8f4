"""Live camera frames in, skeleton pictures out: the frame-processing core of the Live page.

:class:`LivePipeline` owns one VIDEO-mode landmarker (it keeps tracking state, so one
pipeline serves one viewer and is never shared), smooths each person's landmarks with the
causal One-Euro filter the video page uses, draws the overlay, times every frame, keeps
the last frame and its poses for a closer look, and, while recording, the last N seconds
of landmarks. Nothing here knows about a browser, WebRTC or Streamlit: the app hands it
numpy frames, and the tests and benchmark do the same.

Drop policy: a frame that arrives while another is being processed is dropped, never
queued, so on a slow machine the picture shows fewer frames but stays current.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np

from pose_core.angles import HEADLINE_ANGLES, SPEC_BY_NAME, AngleReading, compute_angles
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.errors import PoseLabError
from pose_core.export import manifest, pose_dict
from pose_core.inference import VideoPoseEstimator
from pose_core.models import ResolvedModel
from pose_core.motion import clean_angles
from pose_core.postures import Posture, classify_posture
from pose_core.repetitions import Repetitions, count_repetitions
from pose_core.schema import NUM_LANDMARKS
from pose_core.series import PACKED_FILTERED, IdentityTracker, PoseSeries, pack_row, unpack_row
from pose_core.smoothing import OneEuroFilter, Smoothing
from pose_core.types import PoseResult, PoseSettings

LIVE_DEFAULT_SETTINGS = PoseSettings(model="lite")  # live needs speed more than the last bit of precision
DEFAULT_RECORD_SECONDS = 30.0
MAX_RECORD_SECONDS = 120.0  # 2 minutes at 30 fps: ~2 MB of float32 landmarks per person
STATS_WINDOW_S = 2.0  # fps and latency are averaged over this much recent time
COACHING_WINDOW_S = 20.0  # repetitions are counted over this much recent time (person 1)
COACHING_EVERY_S = 1.0  # counting 20 s of angles takes ~25 ms: at most once a second


@dataclass(frozen=True)
class LiveOptions:
    """How a live stream is processed; a change takes effect from the next frame."""

    settings: PoseSettings = LIVE_DEFAULT_SETTINGS
    style: DrawStyle = DrawStyle()
    smoothing: Smoothing = Smoothing()
    mirror: bool = False  # show the picture as a mirror does (landmarks keep the person's own left and right)
    record_seconds: float = DEFAULT_RECORD_SECONDS

    def __post_init__(self) -> None:
        if self.settings.crowd:
            raise PoseLabError("the live view follows people with the landmarker's own tracking; turn off crowd mode")
        if self.smoothing.method == "butterworth":
            raise PoseLabError("Butterworth smoothing needs the whole clip; live smoothing is 'none' or 'one-euro'")
        if not 0 < self.record_seconds <= MAX_RECORD_SECONDS:
            raise PoseLabError(f"record_seconds must be more than 0 and at most {MAX_RECORD_SECONDS:g}")


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """One processed frame."""

    overlay: np.ndarray  # (H, W, 3) uint8 RGB: the picture to show (mirrored if asked); submit()'s out if given
    poses: tuple[PoseResult, ...]  # smoothed, on the unmirrored frame, in person-slot order
    time_s: float  # since the stream started
    latency_ms: float  # from the frame's arrival to its picture: model, smoothing and drawing


@dataclass(frozen=True)
class LiveStats:
    """What the page shows beside the video, a few times a second."""

    frames_in: int  # frames that reached the pipeline
    frames_done: int
    frames_dropped: int  # arrived while another was being processed
    fps: float  # frames processed per second, over the last STATS_WINDOW_S; 0 before any
    latency_ms: float  # mean processing time per frame over that window; NaN before any
    people: int  # in the last processed frame
    angles: tuple[AngleReading, ...]  # HEADLINE_ANGLES of person 1 in the last frame; () when nobody
    recording: bool
    recorded_s: float  # seconds of landmarks held for download
    error: str | None  # a PoseLabError that stopped processing (the model could not load), in plain words


@dataclass(frozen=True)
class LiveCoaching:
    """Person 1's repetitions over the last COACHING_WINDOW_S and posture now."""

    repetitions: Repetitions  # pose_core.repetitions over the window (the angle that moves most)
    posture: Posture | None  # pose_core.postures' label for the last frame; None when nobody is seen


@dataclass(frozen=True, eq=False)
class FrozenFrame:
    """A moment taken out of the stream for a full analysis."""

    rgb: np.ndarray  # (H, W, 3) uint8, as the camera sent it (not mirrored)
    poses: tuple[PoseResult, ...]  # smoothed, left to right is not implied: person-slot order
    time_s: float
    settings: PoseSettings
    model: ResolvedModel


@dataclass(frozen=True, eq=False)
class LiveRecording:
    """The landmarks of the last seconds of a stream, as a series like a video's."""

    series: PoseSeries  # times from the first recorded frame; frame_index counts processed frames
    settings: PoseSettings
    model: ResolvedModel
    smoothing: Smoothing
    mirror: bool


_open_pipelines_lock = threading.Lock()
_open_pipelines: set[int] = set()


def open_pipelines() -> int:
    """How many pipelines hold a landmarker now (a closed browser tab must leave none)."""
    with _open_pipelines_lock:
        return len(_open_pipelines)


class LivePipeline:
    """One viewer's live stream: landmarker, smoothing, drawing, timing and recording.

    Thread-safe: frames may come from one thread while another reads :meth:`stats`,
    :meth:`freeze` or :meth:`recording` and changes :attr:`options`. Close it (or use it
    as a context manager) when the stream stops: that closes its landmarker.
    """

    def __init__(self, options: LiveOptions | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._options = options or LiveOptions()
        self._clock = clock
        self._started = clock()
        self._busy = threading.Lock()  # held while a frame is processed: a frame finding it held is dropped
        self._state = threading.Lock()  # guards everything below for readers on other threads
        self._estimator: VideoPoseEstimator | None = None
        self._estimator_settings: PoseSettings | None = None
        self._model: ResolvedModel | None = None  # the last landmarker's model, still known once it is closed
        self._tracker: IdentityTracker | None = None
        self._filter: OneEuroFilter | None = None
        self._size: tuple[int, int] | None = None
        self._frames_in = self._frames_done = self._dropped = 0
        self._recent: deque[tuple[float, float]] = deque()  # (finished at, latency ms)
        self._last: tuple[np.ndarray, tuple[PoseResult, ...], float] | None = None
        self._angles: tuple[AngleReading, ...] = ()
        self._recording = False
        self._record: deque[tuple[int, float, np.ndarray]] = deque()  # (frame no, time_s, (P, 33, 8) float32)
        self._motion: deque[tuple[float, np.ndarray]] = deque()  # (time_s, person 1's (33, 8) float32 or NaN)
        self._coaching: tuple[float, LiveCoaching] | None = None  # (worked out at, what)
        self._error: str | None = None
        self._failed: PoseSettings | None = None  # the settings whose landmarker could not be made
        self._closed = False

    # ------------------------------------------------------------ settings

    @property
    def options(self) -> LiveOptions:
        return self._options

    @options.setter
    def options(self, options: LiveOptions) -> None:
        with self._state:
            if options.smoothing != self._options.smoothing:
                self._filter = None
            self._options = options
            self._error = None  # a new model setting deserves a new try

    # ------------------------------------------------------------ frames

    def submit(
        self, rgb: np.ndarray, time_s: float | None = None, *, out: np.ndarray | None = None
    ) -> LiveFrame | None:
        """Process one (H, W, 3) uint8 RGB frame; None when it is dropped because another
        frame is still being processed, or the pipeline is closed. ``time_s``: the frame's
        time since the stream started (default: now, by the pipeline's clock). ``out``: an
        (H, W, 3) uint8 array to draw the picture into (the outgoing video frame's own
        memory saves two copies of the frame); default a new array. ``rgb`` is kept for
        :meth:`freeze`: the caller must not change it afterwards."""
        arrived = self._clock()
        if out is not None and (out.shape != rgb.shape or out.dtype != rgb.dtype):
            raise ValueError(f"out must be {rgb.shape} {rgb.dtype} like the frame, got {out.shape} {out.dtype}")
        with self._state:
            self._frames_in += 1
        if not self._busy.acquire(blocking=False):
            with self._state:
                self._dropped += 1
            return None
        try:
            if self._closed:
                return None
            return self._process(rgb, arrived - self._started if time_s is None else time_s, arrived, out)
        finally:
            self._busy.release()

    def count_dropped(self, frames: int) -> None:
        """Count frames dropped before they reached :meth:`submit` (the WebRTC layer
        hands over only the newest of the frames that queued up meanwhile)."""
        with self._state:
            self._frames_in += frames
            self._dropped += frames

    def _process(self, rgb: np.ndarray, time_s: float, arrived: float, out: np.ndarray | None) -> LiveFrame:
        options = self._options
        size = (int(rgb.shape[1]), int(rgb.shape[0]))
        poses: tuple[PoseResult, ...] = ()
        try:
            estimator = self._landmarker(options.settings)
        except PoseLabError as exc:
            with self._state:
                self._error = str(exc)
        else:
            if size != self._size or self._tracker is None:  # a new camera resolution or landmarker: start afresh
                if size != self._size:
                    self.clear_recording()  # one recording, one picture size
                self._size, self._tracker, self._filter = size, IdentityTracker(options.settings.max_poses, size), None
            assert self._tracker is not None
            slots = self._tracker.assign(estimator.detect(rgb, round(time_s * 1000.0)))
            packed = self._smoothed(pack_row(slots), time_s, options.smoothing)
            poses = unpack_row(packed, size)
            if self._recording:
                self._keep(packed, time_s, options.record_seconds)
            with self._state:
                self._motion.append((time_s, packed[0].astype(np.float32)))
                while self._motion and self._motion[0][0] < time_s - COACHING_WINDOW_S:
                    self._motion.popleft()
        style = options.style
        # Only the angles shown: this runs on every frame.
        arcs = [_angles(p, style.angle_names) for p in poses] if style.show_angles else None
        headline = _angles(poses[0], HEADLINE_ANGLES) if poses else ()
        # The picture is made once, in ``out``, and drawn on where it is.
        canvas = np.empty_like(rgb) if out is None else out
        if options.mirror:
            cv2.flip(rgb, 1, dst=canvas)
            poses_shown = tuple(mirrored(p) for p in poses)
        else:
            np.copyto(canvas, rgb)
            poses_shown = poses
        overlay = draw_overlay(canvas, poses_shown, style, arcs, out=canvas)
        done = self._clock()
        latency_ms = (done - arrived) * 1000.0
        with self._state:
            self._frames_done += 1
            self._recent.append((done, latency_ms))
            while self._recent and self._recent[0][0] < done - STATS_WINDOW_S:
                self._recent.popleft()
            self._last = (rgb, poses, time_s)
            self._angles = headline
        return LiveFrame(overlay, poses, time_s, latency_ms)

    def _landmarker(self, settings: PoseSettings) -> VideoPoseEstimator:
        if self._estimator is not None and self._estimator_settings == settings:
            return self._estimator
        if self._failed == settings and self._error is not None:
            raise PoseLabError(self._error)  # not again on every frame: a new setting retries
        self._close_landmarker()
        try:
            self._estimator = VideoPoseEstimator(settings)
        except PoseLabError:
            self._failed = settings
            raise
        self._model = self._estimator.model
        self._estimator_settings = settings
        self._tracker, self._filter = None, None
        with _open_pipelines_lock:
            _open_pipelines.add(id(self))
        return self._estimator

    def _smoothed(self, packed: np.ndarray, time_s: float, smoothing: Smoothing) -> np.ndarray:
        """(P, 33, 8) landmarks with positions One-Euro filtered (scores as they are).

        NOTE: the video page first fills dropouts of up to 5 frames, which needs 5 frames
        of look-ahead; live, that would put the skeleton 5 frames behind the person, so a
        dropout here restarts the filter for that person instead.
        """
        if smoothing.method == "none":
            return packed
        if self._filter is None:
            self._filter = OneEuroFilter(smoothing.min_cutoff_hz, smoothing.beta, smoothing.derivative_cutoff_hz)
        return np.where(PACKED_FILTERED, self._filter(packed, time_s), packed)

    def _keep(self, packed: np.ndarray, time_s: float, seconds: float) -> None:
        with self._state:
            self._record.append((self._frames_done, time_s, packed.astype(np.float32)))
            while self._record and self._record[0][1] < time_s - seconds - 1e-6:  # 1e-6: float time steps
                self._record.popleft()

    # ------------------------------------------------------------ readers

    def stats(self) -> LiveStats:
        with self._state:
            recent = list(self._recent)
            now = self._clock()
            fresh = [lat for at, lat in recent if at >= now - STATS_WINDOW_S]
            span = min(STATS_WINDOW_S, now - self._started)
            fps = len(fresh) / span if fresh and span > 0 else 0.0
            recorded = self._record[-1][1] - self._record[0][1] if len(self._record) > 1 else 0.0
            return LiveStats(
                frames_in=self._frames_in,
                frames_done=self._frames_done,
                frames_dropped=self._dropped,
                fps=fps,
                latency_ms=float(np.mean(fresh)) if fresh else math.nan,
                people=len(self._last[1]) if self._last else 0,
                angles=self._angles,
                recording=self._recording,
                recorded_s=recorded,
                error=self._error,
            )

    def coaching(self) -> LiveCoaching | None:
        """Repetitions and posture of person 1, worked out at most every COACHING_EVERY_S
        (the page asks more often); None before the first frame."""
        now = self._clock()
        with self._state:
            if self._coaching is not None and now - self._coaching[0] < COACHING_EVERY_S:
                return self._coaching[1]
            motion, last, size = list(self._motion), self._last, self._size
        if not motion or last is None or size is None:
            return None
        rows = np.stack([row for _, row in motion])[:, None]  # (T, 1, 33, 8)
        series = PoseSeries(
            frame_index=np.arange(len(motion)),
            time_s=np.array([t for t, _ in motion]),
            landmarks=rows[..., 0:3],
            world_landmarks=rows[..., 3:6],
            visibility=rows[..., 6],
            presence=rows[..., 7],
            image_size=size,
        )
        poses = last[1]
        coaching = LiveCoaching(count_repetitions(clean_angles(series)), classify_posture(poses[0]) if poses else None)
        with self._state:
            self._coaching = (now, coaching)
        return coaching

    def freeze(self) -> FrozenFrame | None:
        """The last processed frame and its poses; None before the first frame."""
        with self._state:
            if self._last is None or self._estimator_settings is None or self._estimator is None:
                return None
            rgb, poses, time_s = self._last
            return FrozenFrame(rgb.copy(), poses, time_s, self._estimator_settings, self._estimator.model)

    def start_recording(self) -> None:
        """Keep the landmarks of the last ``options.record_seconds`` from now on."""
        with self._state:
            self._recording = True

    def stop_recording(self) -> None:
        """Stop adding frames; what was recorded stays until :meth:`clear_recording`."""
        with self._state:
            self._recording = False

    def clear_recording(self) -> None:
        with self._state:
            self._record.clear()

    def recording(self) -> LiveRecording | None:
        """What has been recorded, as a series (no frames when nothing has been yet);
        None before the first frame. Still there once the pipeline is closed."""
        with self._state:
            kept = list(self._record)
            settings, model, size = self._estimator_settings, self._model, self._size
            options = self._options
        if settings is None or model is None or size is None:
            return None
        people = max((k[2].shape[0] for k in kept), default=settings.max_poses)
        packed = np.full((len(kept), people, NUM_LANDMARKS, 8), np.nan, np.float32)
        for t, (_, _, row) in enumerate(kept):
            packed[t, : row.shape[0]] = row
        start = kept[0][1] if kept else 0.0
        series = PoseSeries(
            frame_index=np.array([k[0] for k in kept], np.int64),
            time_s=np.array([k[1] - start for k in kept], np.float64),
            landmarks=packed[..., 0:3],
            world_landmarks=packed[..., 3:6],
            visibility=packed[..., 6],
            presence=packed[..., 7],
            image_size=size,
        )
        return LiveRecording(series, settings, model, options.smoothing, options.mirror)

    # ------------------------------------------------------------ closing

    def _close_landmarker(self) -> None:
        if self._estimator is not None:
            self._estimator.close()
            self._estimator = None
        with _open_pipelines_lock:
            _open_pipelines.discard(id(self))

    def close(self) -> None:
        """Close the landmarker and drop the frames held; safe to call twice, and from
        another thread than the one submitting frames (it waits for the frame in hand)."""
        with self._busy:
            self._closed = True
            self._close_landmarker()
            with self._state:
                self._motion.clear()
                self._last = None  # the recording (small) stays: its downloads outlive the stream
                self._recent.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> LivePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _angles(pose: PoseResult, names: Sequence[str]) -> tuple[AngleReading, ...]:
    return compute_angles(
        pose.landmarks_px, pose.world_landmarks, pose.visibility, tuple(SPEC_BY_NAME[n] for n in names)
    )


def mirrored(pose: PoseResult) -> PoseResult:
    """``pose`` drawn on the left-right mirror image of its frame: x becomes 1 - x.
    Names keep meaning the person's own left and right; world landmarks are unchanged."""
    landmarks = np.array(pose.landmarks, copy=True)
    landmarks[:, 0] = 1.0 - landmarks[:, 0]
    mask = pose.segmentation_mask[:, ::-1] if pose.segmentation_mask is not None else None
    return replace(pose, landmarks=landmarks, segmentation_mask=mask)


# ---------------------------------------------------------------- downloads


def live_json_dict(recording: LiveRecording) -> dict[str, object]:
    """A recording as JSON data: the manifest of ``analyze`` plus the live keys (README)."""
    series = recording.series
    width, height = series.image_size
    return {
        **manifest(recording.settings, recording.model),
        "smoothing": asdict(recording.smoothing),
        "live": {
            "width": width,
            "height": height,
            "frames": len(series),
            "duration_s": round(float(series.time_s[-1]), 3) if len(series) else 0.0,
            "mirror": recording.mirror,
        },
        "frames": [
            {
                "index": int(series.frame_index[t]),
                "time_s": round(float(series.time_s[t]), 6),
                "poses": [
                    pose_dict(pose, k + 1) for k in range(series.people) if (pose := series.pose(t, k)) is not None
                ],
            }
            for t in range(len(series))
        ],
    }


def live_json(recording: LiveRecording) -> str:
    return json.dumps(live_json_dict(recording), separators=(",", ":"), allow_nan=False)


# ---------------------------------------------------------------- where it connects


@dataclass(frozen=True)
class IceConfig:
    """The WebRTC ICE servers to use, and where they came from (said on the page)."""

    servers: tuple[Mapping[str, object], ...] = field(default_factory=tuple)
    source: str = "none"  # "none": host candidates only (localhost and LAN); else "secrets" or "environment"

    @property
    def rtc_configuration(self) -> dict[str, object]:
        # NOTE: an explicit empty list, not None: streamlit-webrtc fills a missing list with
        # Google's public STUN server, which a closed network cannot reach (ICE then waits
        # for it to time out), and which localhost and LAN never need.
        return {"iceServers": [dict(s) for s in self.servers]}


TURN_ENV = ("POSELAB_TURN_URLS", "POSELAB_TURN_USERNAME", "POSELAB_TURN_CREDENTIAL")
STUN_ENV = "POSELAB_STUN_URLS"


def _urls(value: object) -> list[str]:
    if isinstance(value, str):
        return [u.strip() for u in value.replace(";", ",").split(",") if u.strip()]
    if isinstance(value, Sequence):
        return [str(u).strip() for u in value if str(u).strip()]
    return []


def ice_config(secrets: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None) -> IceConfig:
    """ICE servers from Streamlit secrets (a ``[webrtc]`` table with ``ice_servers``, a
    list of ``{urls, username, credential}``), else from environment variables
    (``POSELAB_TURN_URLS`` with ``POSELAB_TURN_USERNAME`` and ``POSELAB_TURN_CREDENTIAL``;
    ``POSELAB_STUN_URLS``), else none: direct connections only.

    Raises :class:`PoseLabError` for settings that are there but unusable (a TURN server
    without its credentials), naming what is missing.
    """
    section = (secrets or {}).get("webrtc")
    if isinstance(section, Mapping) and section.get("ice_servers"):
        servers = []
        for n, entry in enumerate(section["ice_servers"], start=1):  # type: ignore[union-attr]
            if not isinstance(entry, Mapping) or not _urls(entry.get("urls")):
                raise PoseLabError(f"secrets [webrtc] ice_servers entry {n} needs 'urls'")
            urls = _urls(entry["urls"])
            if any(u.startswith("turn") for u in urls) and not (entry.get("username") and entry.get("credential")):
                raise PoseLabError(
                    f"secrets [webrtc] ice_servers entry {n} is a TURN server: give username and credential"
                )
            servers.append(
                {
                    k: (urls if k == "urls" else str(v))
                    for k, v in entry.items()
                    if k in ("urls", "username", "credential")
                }
            )
        return IceConfig(tuple(servers), "secrets")
    env = env or {}
    turn_urls, user, credential = (env.get(name, "") for name in TURN_ENV)
    servers = []
    if _urls(turn_urls):
        if not (user and credential):
            missing = " and ".join(n for n, v in zip(TURN_ENV[1:], (user, credential), strict=True) if not v)
            raise PoseLabError(f"POSELAB_TURN_URLS is set but {missing} is not")
        servers.append({"urls": _urls(turn_urls), "username": user, "credential": credential})
    if _urls(env.get(STUN_ENV, "")):
        servers.append({"urls": _urls(env[STUN_ENV])})
    return IceConfig(tuple(servers), "environment" if servers else "none")
