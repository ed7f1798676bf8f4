"""Video analysis: track poses through a clip in VIDEO mode, smooth them, draw them.

:func:`analyze_video` runs the model once and returns the raw landmarks;
:meth:`PoseSeries.smoothed` is a cheap function of those, and a drawn video always shows
exactly that smoothed series. :class:`VideoJob` is the policy the command line and the
app share: analyse once, then render per smoothing and style without the model, reusing
the video drawn during the analysis pass.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from pose_core.analysis import EstimatorFor, EstimatorPool
from pose_core.angles import pose_angles
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.errors import VideoLoadError
from pose_core.images import encode_jpeg, fit_within
from pose_core.inference import VideoPoseEstimator
from pose_core.models import ResolvedModel
from pose_core.motion import AngleSeries, clean_angles
from pose_core.series import PACKED_FILTERED, IdentityTracker, PoseSeries, pack_row, unpack_row
from pose_core.smoothing import Smoothing, StreamingSmoother
from pose_core.tracking import CrowdTracker
from pose_core.types import PoseResult, PoseSettings
from pose_core.video_io import Frame, FrameReader, Mp4Writer, Source, VideoInfo, VideoLimits, iter_frames, probe_video

# (frames done, frames expected or 0 when unknown, frames per second)
ProgressCallback = Callable[[int, int, float], None]


@dataclass(frozen=True, eq=False)
class VideoAnalysis:
    info: VideoInfo  # as decoded: the frames and duration really there
    header: VideoInfo  # what the file's header claimed
    problem: str | None  # why decoding stopped before the end the header announced, if it did
    stride: int
    settings: PoseSettings
    model: ResolvedModel
    raw: PoseSeries
    seconds: float  # wall time of the analysis pass

    @property
    def frames_per_second(self) -> float:
        return len(self.raw) / self.seconds if self.seconds > 0 else math.nan

    @property
    def complete(self) -> bool:
        """False when only part of the video could be read (see :attr:`problem`)."""
        return self.problem is None


def draw_frame(style: DrawStyle) -> Callable[[np.ndarray, tuple[PoseResult, ...]], np.ndarray]:
    """How a video frame and its poses become a picture under ``style``."""

    def draw(rgb: np.ndarray, poses: tuple[PoseResult, ...]) -> np.ndarray:
        return draw_overlay(rgb, poses, style, [pose_angles(p) for p in poses] if style.show_angles else None)

    return draw


def analyze_video(
    source: Source,
    settings: PoseSettings | None = None,
    *,
    stride: int = 1,
    limits: VideoLimits | None = None,
    smoothing: Smoothing | None = None,
    output: str | Path | BinaryIO | None = None,
    style: DrawStyle | None = None,
    progress: ProgressCallback | None = None,
    on_frame: Callable[[Frame], None] | None = None,
    estimator_for: EstimatorFor | None = None,
    lanes: int = 1,
) -> VideoAnalysis:
    """Run the VIDEO-mode landmarker over every ``stride``-th frame, and with ``output``
    also write the annotated MP4 of the ``smoothing``-smoothed poses.

    Causal smoothing ("none", "one-euro") renders in the same pass, ``max_gap_frames``
    frames behind the model; Butterworth needs the whole clip, so it renders in a second
    pass. A fresh landmarker is created for this job and closed after it. ``on_frame``
    sees each analysed frame (the app keeps small previews). ``limits`` are checked on
    the header and on every decoded frame. Raises VideoLoadError; a video damaged or cut
    short part-way is analysed as far as it goes, and the result says so.

    With ``settings.crowd`` people are found by the multi-scale search and followed by
    :class:`pose_core.tracking.CrowdTracker` on IMAGE-mode landmarkers from
    ``estimator_for`` (the app passes its shared ones; by default a pool for this job),
    ``lanes`` of them at once.
    """
    settings = settings or PoseSettings()
    smoothing = smoothing or Smoothing()
    draw_style = style or DrawStyle()
    info = probe_video(source, limits)
    expected = max(1, math.ceil(info.frame_count / stride)) if info.frame_count else 0
    size = (info.width, info.height)
    tracker = IdentityTracker(settings.max_poses, size)
    indices: list[int] = []
    times: list[float] = []
    rows: list[list[PoseResult | None]] = []
    streaming = output is not None and smoothing.method != "butterworth"
    writer = Mp4Writer(output, size, info.fps / stride, draw_frame(draw_style)) if streaming and output else None
    smoother = StreamingSmoother(smoothing, filtered=PACKED_FILTERED) if writer else None
    pending: dict[int, np.ndarray] = {}  # frames waiting for the smoother's look-ahead

    def emit(released: list[tuple[int, np.ndarray]]) -> None:
        assert writer is not None
        for t, packed in released:
            writer.write(pending.pop(t), unpack_row(packed, size))

    reader = FrameReader(source, stride, limits=limits)
    pool = EstimatorPool() if settings.crowd and estimator_for is None else None
    detector: VideoPoseEstimator | CrowdTracker
    if settings.crowd:
        estimator_for = estimator_for or pool
        assert estimator_for is not None
        detector = CrowdTracker(estimator_for, settings.landmarker, image_size=size, lanes=lanes)
        model = estimator_for(settings.landmarker).model
    else:
        detector = VideoPoseEstimator(settings)
        model = detector.model
    started = time.perf_counter()
    try:
        with detector:
            for frame in reader:
                row = tracker.assign(detector.detect(frame.rgb, round(frame.index * 1000.0 / info.fps)))
                indices.append(frame.index)
                times.append(frame.time_s)
                rows.append(row)
                if smoother is not None:
                    pending[len(rows) - 1] = frame.rgb
                    emit(smoother.push(pack_row(row), frame.time_s))
                if on_frame:
                    on_frame(frame)
                if progress:  # expected is 0 when the header gives no length
                    done = len(rows)
                    progress(
                        done, max(expected, done) if expected else 0, done / max(time.perf_counter() - started, 1e-9)
                    )
        if smoother is not None:
            emit(smoother.finish())
    finally:
        if writer is not None:
            writer.close()
        if pool is not None:
            pool.close()
    if not rows:
        raise VideoLoadError("the video has no frames that can be decoded")
    analysis = VideoAnalysis(
        info=info.decoded(reader.frames_decoded),
        header=info,
        problem=reader.problem,
        stride=stride,
        settings=settings,
        model=model,
        raw=PoseSeries.from_rows(indices, times, rows, size),
        seconds=time.perf_counter() - started,
    )
    if output is not None and not streaming:
        render_video(source, analysis.raw.smoothed(smoothing), output, draw_style, fps=info.fps, stride=stride)
    return analysis


def render_video(
    source: Source,
    series: PoseSeries,
    output: str | Path | BinaryIO,
    style: DrawStyle | None = None,
    *,
    fps: float,
    stride: int = 1,
    progress: ProgressCallback | None = None,
) -> None:
    """Draw ``series`` on its frames and encode them as H.264 MP4 at ``fps / stride``
    frames per second (re-rendering after a change of smoothing or style; no model)."""
    writer = Mp4Writer(output, series.image_size, fps / stride, draw_frame(style or DrawStyle()))
    started = time.perf_counter()
    try:
        for t, frame in enumerate(iter_frames(source, stride)):
            if t >= len(series):
                break
            writer.write(frame.rgb, series.poses_at(t))
            if progress:
                progress(t + 1, len(series), (t + 1) / max(time.perf_counter() - started, 1e-9))
    finally:
        writer.close()


@dataclass(frozen=True, eq=False)
class VideoRender:
    """What one smoothing and style give, kept so that looking around (a frame slider,
    another chart) recomputes nothing: Butterworth over a minute takes ~0.5 s."""

    smoothing: Smoothing
    style: DrawStyle
    series: PoseSeries  # the smoothed landmarks
    mp4: bytes | None  # the annotated video, when asked for


class VideoJob:
    """One video under one :class:`PoseSettings` and stride: the model runs once, on the
    first :meth:`render`; later renders (another smoothing or style) only draw.

    The job does not keep the video itself (the caller has it, and may be short of
    memory): pass the same source to every call. It keeps ``max_renders`` renders, the
    most recently used, and one small JPEG per analysed frame when ``preview_side`` is
    set. Safe to share between threads: renders are serialised.
    """

    def __init__(
        self,
        settings: PoseSettings | None = None,
        *,
        stride: int = 1,
        limits: VideoLimits | None = None,
        preview_side: int | None = None,
        max_renders: int = 2,
        estimator_for: EstimatorFor | None = None,
        lanes: int = 1,
    ) -> None:
        self.settings = settings or PoseSettings()
        self.estimator_for = estimator_for  # IMAGE-mode landmarkers for crowd mode
        self.lanes = lanes  # how many of them follow people at once (crowd mode)
        self.stride, self.limits, self.preview_side = stride, limits, preview_side
        self.analysis: VideoAnalysis | None = None
        self.previews: tuple[bytes, ...] = ()  # one JPEG per analysed frame (long side <= preview_side)
        self._cleaned: OrderedDict[tuple[Smoothing, float], AngleSeries] = OrderedDict()
        self._renders: OrderedDict[tuple[Smoothing, DrawStyle, bool], VideoRender] = OrderedDict()
        self._max_renders = max_renders
        self._lock = threading.Lock()

    def cleaned_angles(self, smoothing: Smoothing, min_confidence: float) -> AngleSeries:
        """:func:`pose_core.motion.clean_angles` of the raw landmarks, kept per
        (smoothing, confidence threshold) like the renders: charts, repetitions and range of
        motion read it on every rerun (a minute of one person: ~40 ms to compute)."""
        if self.analysis is None:
            raise RuntimeError("render the job first: nothing has been analysed yet")
        key = (smoothing, round(min_confidence, 3))
        with self._lock:
            if (kept := self._cleaned.get(key)) is None:
                kept = self._cleaned[key] = clean_angles(self.analysis.raw, smoothing, min_confidence=min_confidence)
                while len(self._cleaned) > 2 * self._max_renders:
                    self._cleaned.popitem(last=False)
            self._cleaned.move_to_end(key)
            return kept

    def kept(
        self, smoothing: Smoothing | None = None, style: DrawStyle | None = None, *, video: bool = True
    ) -> VideoRender | None:
        """The render for these settings if it is kept already (nothing is computed)."""
        with self._lock:
            return self._renders.get((smoothing or Smoothing(), style or DrawStyle(), video))

    def render(
        self,
        source: Source,
        smoothing: Smoothing | None = None,
        style: DrawStyle | None = None,
        *,
        video: bool = True,
        progress: ProgressCallback | None = None,
    ) -> VideoRender:
        """The analysis (run now if this is the first call) smoothed and drawn as asked;
        ``video=False`` skips the MP4. Raises VideoLoadError for a bad or too large video."""
        smoothing, style = smoothing or Smoothing(), style or DrawStyle()
        key = (smoothing, style, video)
        with self._lock:
            if (kept := self._renders.get(key)) is not None:
                self._renders.move_to_end(key)
                return kept
            mp4: bytes | None = None
            if self.analysis is None:
                mp4 = self._analyze(source, smoothing, style, video, progress)
            assert self.analysis is not None
            series = self.analysis.raw.smoothed(smoothing)
            if video and mp4 is None:
                buffer = io.BytesIO()
                info = self.analysis.info
                render_video(source, series, buffer, style, fps=info.fps, stride=self.stride, progress=progress)
                mp4 = buffer.getvalue()
            rendered = VideoRender(smoothing, style, series, mp4)
            self._renders[key] = rendered
            while len(self._renders) > self._max_renders:
                self._renders.popitem(last=False)
            return rendered

    def _analyze(
        self, source: Source, smoothing: Smoothing, style: DrawStyle, video: bool, progress: ProgressCallback | None
    ) -> bytes | None:
        previews: list[bytes] = []
        side = self.preview_side

        def keep_preview(frame: Frame) -> None:
            previews.append(encode_jpeg(fit_within(frame.rgb, side)))  # type: ignore[arg-type]

        buffer = io.BytesIO() if video else None
        self.analysis = analyze_video(
            source,
            self.settings,
            stride=self.stride,
            limits=self.limits,
            smoothing=smoothing,
            output=buffer,
            style=style,
            progress=progress,
            on_frame=keep_preview if side else None,
            estimator_for=self.estimator_for,
            lanes=self.lanes,
        )
        self.previews = tuple(previews)
        return buffer.getvalue() if buffer is not None else None
