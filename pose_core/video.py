"""Video: read frames (PyAV, which bundles FFmpeg), track poses in VIDEO mode, smooth
them, and write an annotated H.264 MP4 that browsers play.

:func:`analyze_video` runs the model once and returns raw landmarks;
:meth:`PoseSeries.smoothed` is a cheap function of those, and the drawn video always
shows exactly that smoothed series. Causal smoothing (none, One-Euro) is drawn in the
same pass as the model, a few frames behind it; Butterworth needs the whole clip, so
:func:`render_video` decodes again and draws afterwards (as it does after a change of
smoothing or style, without the model).
"""

from __future__ import annotations

import io
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import cv2
import numpy as np

from pose_core.angles import pose_angles
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.inference import PoseResult, PoseSettings, VideoPoseEstimator
from pose_core.models import ResolvedModel
from pose_core.schema import NUM_LANDMARKS, index_of
from pose_core.smoothing import Smoothing, StreamingSmoother, interpolate_gaps, smooth

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
Source = bytes | str | Path
ProgressCallback = Callable[[int, int, float], None]  # (frames done, frames expected, frames per second)


class VideoLoadError(ValueError):
    """The input is not a video PoseLab can read or accept; the message says why."""


@dataclass(frozen=True)
class VideoLimits:
    """Limits that protect a shared server; the command line has none by default."""

    max_bytes: int = 200 * 1024 * 1024
    max_duration_s: float = 60.0
    max_side_px: int = 1920

    def describe(self) -> str:
        return (
            f"up to {self.max_bytes // 2**20} MB, {self.max_duration_s:.0f} s, "
            f"and {self.max_side_px} px on the long side"
        )


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int  # from the container; an estimate for some formats
    duration_s: float
    codec: str


def _open(source: Source) -> av.container.InputContainer:
    try:
        if isinstance(source, (bytes, bytearray)):
            if not source:
                raise VideoLoadError("the file is empty (0 bytes); upload the video again")
            return av.open(io.BytesIO(source), mode="r")
        path = Path(source)
        if not path.is_file():
            raise VideoLoadError(f"cannot read {path}: no such file")
        return av.open(str(path), mode="r")
    except av.error.EOFError:
        raise VideoLoadError("the file ends before any video frame: it has no frames, or was cut short") from None
    except av.error.FFmpegError:
        raise VideoLoadError(
            "this is not a video PoseLab can read (corrupt, cut short, or not a video); use MP4, MOV, AVI or WebM"
        ) from None


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    if not container.streams:
        raise VideoLoadError("the file holds no tracks at all, so no frames to analyse")
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        raise VideoLoadError(f"the file has no video track (it holds {', '.join(kinds)}); is it audio only?")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoLoadError(f"the video codec {stream.codec.name if stream.codec else '?'} is not supported")
    return stream


def probe_video(source: Source, limits: VideoLimits | None = None) -> VideoInfo:
    """Read the header (and first frame) and check ``limits``. Raises :class:`VideoLoadError`."""
    if limits and isinstance(source, (bytes, bytearray)) and len(source) > limits.max_bytes:
        raise VideoLoadError(f"the file is {len(source) / 2**20:.0f} MB; videos here may be {limits.describe()}")
    with _open(source) as container:
        stream = _video_stream(container)
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 30.0
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError:
            first = None
        if first is None:
            raise VideoLoadError("the video has no frames that can be decoded")
        sideways = round((first.rotation or 0) / 90) % 2 == 1  # shown turned by 90 or 270 degrees
        info = VideoInfo(
            width=int(first.height if sideways else first.width),
            height=int(first.width if sideways else first.height),
            fps=fps,
            frame_count=int(stream.frames or round(duration * fps)),
            duration_s=duration,
            codec=stream.codec_context.name,
        )
    if limits:
        if info.duration_s > limits.max_duration_s:
            raise VideoLoadError(
                f"the video is {info.duration_s:.0f} s long; videos here may be {limits.describe()}. Trim it first."
            )
        if max(info.width, info.height) > limits.max_side_px:
            raise VideoLoadError(
                f"the video is {info.width}x{info.height}; videos here may be {limits.describe()}. Scale it down first."
            )
    return info


def _upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame as (H, W, 3) RGB, turned as its display rotation says (phone videos
    store portrait clips sideways and flag the rotation)."""
    rgb = frame.to_ndarray(format="rgb24")
    turns = -round((frame.rotation or 0) / 90) % 4  # PyAV: degrees to turn clockwise for display
    return np.rot90(rgb, k=turns) if turns else rgb


@dataclass(frozen=True)
class Frame:
    index: int  # position in the file, counting from 0
    time_s: float  # index / fps
    rgb: np.ndarray  # (H, W, 3) uint8


def iter_frames(source: Source, stride: int = 1, prefetch: int = 8) -> Iterator[Frame]:
    """Every ``stride``-th frame, decoded in a background thread so decoding overlaps
    with whatever the caller does with each frame. Raises :class:`VideoLoadError`."""
    if stride < 1:
        raise ValueError(f"stride must be 1 or more, got {stride}")
    container = _open(source)
    stream = _video_stream(container)
    stream.thread_type = "AUTO"  # FFmpeg's own frame threads
    fps = float(stream.average_rate or stream.guessed_rate or 0) or 30.0
    frames: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def decode() -> None:
        try:
            for index, frame in enumerate(container.decode(stream)):
                if stop.is_set():
                    return
                if index % stride == 0:
                    frames.put(Frame(index, index / fps, _upright(frame)))
            frames.put(None)
        except av.error.FFmpegError as exc:  # damaged data part-way through
            frames.put(VideoLoadError(f"the video is damaged after some frames ({exc.strerror or exc})"))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
            frames.put(exc)

    worker = threading.Thread(target=decode, name="poselab-video-decode", daemon=True)
    worker.start()
    try:
        while (item := frames.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                frames.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
        container.close()


@dataclass(frozen=True, eq=False)
class PoseSeries:
    """Poses over T analysed frames for up to P people; NaN where a person is absent."""

    frame_index: np.ndarray  # (T,) int64, index of each analysed frame in the file
    time_s: np.ndarray  # (T,) float64
    landmarks: np.ndarray  # (T, P, 33, 3) float32, normalised x, y, z as in PoseResult
    visibility: np.ndarray  # (T, P, 33) float32
    presence: np.ndarray  # (T, P, 33) float32
    world_landmarks: np.ndarray  # (T, P, 33, 3) float32, metres
    image_size: tuple[int, int]  # (width, height)

    @property
    def people(self) -> int:
        return int(self.landmarks.shape[1])

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])

    @property
    def frames_with_people(self) -> int:
        """How many analysed frames have at least one person."""
        return int((~np.isnan(self.landmarks[:, :, 0, 0])).any(axis=1).sum())

    def pose(self, t: int, person: int) -> PoseResult | None:
        """Person ``person`` in the ``t``-th analysed frame, or None if absent then."""
        if np.isnan(self.landmarks[t, person]).all():
            return None
        return PoseResult(
            landmarks=self.landmarks[t, person],
            visibility=self.visibility[t, person],
            presence=self.presence[t, person],
            world_landmarks=self.world_landmarks[t, person],
            image_size=self.image_size,
        )

    def poses_at(self, t: int) -> tuple[PoseResult, ...]:
        return tuple(p for person in range(self.people) if (p := self.pose(t, person)) is not None)

    def smoothed(self, spec: Smoothing) -> PoseSeries:
        """Landmarks and world landmarks filtered by ``spec``; visibility and presence
        only have short gaps filled (they are scores, not positions)."""
        if spec.method == "none":
            return self
        fill = spec.max_gap_frames
        return replace(
            self,
            landmarks=smooth(self.landmarks, self.time_s, spec).astype(np.float32),
            world_landmarks=smooth(self.world_landmarks, self.time_s, spec).astype(np.float32),
            visibility=interpolate_gaps(self.visibility, fill).astype(np.float32),
            presence=interpolate_gaps(self.presence, fill).astype(np.float32),
        )


_HIPS = [index_of("left_hip"), index_of("right_hip")]


def _match_people(previous: np.ndarray, poses: tuple[PoseResult, ...], slots: int) -> list[PoseResult | None]:
    """Assign this frame's poses to person slots, nearest hip centre to last seen first,
    so "person 1" stays the same person while the tracker reorders its output.

    ``previous``: (slots, 2) last known hip centres, NaN for slots never seen.
    """
    assigned: list[PoseResult | None] = [None] * slots
    centres = [p.landmarks[_HIPS, :2].mean(axis=0) for p in poses]
    pairs = sorted(
        (float(np.linalg.norm(c - previous[s])) if not np.isnan(previous[s]).any() else math.inf, i, s)
        for i, c in enumerate(centres)
        for s in range(slots)
    )
    used_poses: set[int] = set()
    for _, i, s in pairs:
        if i in used_poses or assigned[s] is not None:
            continue
        assigned[s] = poses[i]
        used_poses.add(i)
    return assigned


@dataclass(frozen=True, eq=False)
class VideoAnalysis:
    info: VideoInfo
    stride: int
    settings: PoseSettings
    model: ResolvedModel
    raw: PoseSeries
    seconds: float  # wall time of the analysis pass

    @property
    def frames_per_second(self) -> float:
        return len(self.raw) / self.seconds if self.seconds > 0 else math.nan


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
) -> VideoAnalysis:
    """Run the VIDEO-mode landmarker over every ``stride``-th frame, and with ``output``
    also write the annotated MP4 of the ``smoothing``-smoothed poses.

    Causal smoothing ("none", "one-euro") renders in the same pass, ``max_gap_frames``
    frames behind the model; Butterworth needs the whole clip, so it renders in a second
    pass. A fresh landmarker is created for this job and closed after it. ``on_frame``
    sees each analysed frame (the app keeps small previews). Raises VideoLoadError.
    """
    settings = settings or PoseSettings()
    smoothing = smoothing or Smoothing()
    info = probe_video(source, limits)
    expected = max(1, math.ceil(info.frame_count / stride)) if info.frame_count else 0
    slots = settings.max_poses
    size = (info.width, info.height)
    indices: list[int] = []
    times: list[float] = []
    rows: list[list[PoseResult | None]] = []
    last_seen = np.full((slots, 2), np.nan)
    streaming = output is not None and smoothing.method != "butterworth"
    draw_style = style or DrawStyle()
    writer = _Mp4Writer(output, size, info.fps / stride, draw_style) if streaming and output is not None else None
    smoother = StreamingSmoother(smoothing, filtered=_PACKED_FILTERED) if streaming else None
    pending: dict[int, np.ndarray] = {}  # frames waiting for the smoother's look-ahead

    def emit(released: list[tuple[int, np.ndarray]]) -> None:
        assert writer is not None
        for t, packed in released:
            writer.write(pending.pop(t), _unpack(packed, size))

    started = time.perf_counter()
    try:
        with VideoPoseEstimator(settings) as estimator:
            for frame in iter_frames(source, stride):
                poses = estimator.detect(frame.rgb, round(frame.index * 1000.0 / info.fps))
                row = _match_people(last_seen, poses, slots)
                for s, pose in enumerate(row):
                    if pose is not None:
                        last_seen[s] = pose.landmarks[_HIPS, :2].mean(axis=0)
                indices.append(frame.index)
                times.append(frame.time_s)
                rows.append(row)
                if smoother is not None:
                    pending[len(rows) - 1] = frame.rgb
                    emit(smoother.push(_pack(row), frame.time_s))
                if on_frame:
                    on_frame(frame)
                if progress:
                    done = len(rows)
                    progress(done, max(expected, done), done / max(time.perf_counter() - started, 1e-9))
            model = estimator.model
        if smoother is not None:
            emit(smoother.finish())
    finally:
        if writer is not None:
            writer.close()
    if not rows:
        raise VideoLoadError("the video has no frames that can be decoded")
    analysis = VideoAnalysis(
        info=info,
        stride=stride,
        settings=settings,
        model=model,
        raw=_series(indices, times, rows, size),
        seconds=time.perf_counter() - started,
    )
    if output is not None and not streaming:
        render_video(source, analysis.raw.smoothed(smoothing), output, draw_style, fps=info.fps, stride=stride)
    return analysis


# Per person and landmark, the 8 values the smoother streams: x, y, z, world x, y, z
# (filtered), then visibility and presence (only short gaps filled).
_PACKED_FILTERED = np.array([True] * 6 + [False] * 2)


def _pack(row: list[PoseResult | None]) -> np.ndarray:
    packed = np.full((len(row), NUM_LANDMARKS, 8), np.nan)
    for s, pose in enumerate(row):
        if pose is not None:
            packed[s] = np.concatenate(
                [pose.landmarks, pose.world_landmarks, pose.visibility[:, None], pose.presence[:, None]], axis=1
            )
    return packed


def _unpack(packed: np.ndarray, size: tuple[int, int]) -> tuple[PoseResult, ...]:
    poses = []
    for person in packed.astype(np.float32):
        if not np.isnan(person[:, :3]).all():
            poses.append(
                PoseResult(
                    landmarks=person[:, :3],
                    world_landmarks=person[:, 3:6],
                    visibility=person[:, 6],
                    presence=person[:, 7],
                    image_size=size,
                )
            )
    return tuple(poses)


def _draw(rgb: np.ndarray, poses: tuple[PoseResult, ...], style: DrawStyle) -> np.ndarray:
    return draw_overlay(rgb, poses, style, [pose_angles(p) for p in poses] if style.show_angles else None)


class _Mp4Writer:
    """Draws and encodes frames on a worker thread: H.264 (yuv420p, even size) in MP4
    with its index at the front, to a path or a binary file object.

    NOTE: the model call releases the GIL (ctypes) and keeps one core busy; drawing
    (OpenCV) and x264 release it too, so this thread uses the second core.
    """

    def __init__(self, output: str | Path | BinaryIO, size: tuple[int, int], fps: float, style: DrawStyle) -> None:
        self._output, self._style = output, style
        self._to_path = isinstance(output, (str, Path))
        # FFmpeg's +faststart re-opens the output by name, so in-memory outputs get ours.
        self._buffer = None if self._to_path else io.BytesIO()
        target = str(output) if self._to_path else self._buffer
        options = {"movflags": "+faststart"} if self._to_path else {}
        self._container = av.open(target, mode="w", format="mp4", options=options)
        self.width, self.height = size[0] // 2 * 2, size[1] // 2 * 2
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self._stream.width, self._stream.height, self._stream.pix_fmt = self.width, self.height, "yuv420p"
        # superfast: ~5 ms per 720p frame here, files about twice the size of veryfast's.
        self._stream.options = {"preset": "superfast", "crf": "23"}
        self._queue: queue.Queue[tuple[np.ndarray, tuple[PoseResult, ...]] | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._run, name="poselab-video-encode", daemon=True)
        self._worker.start()

    def write(self, rgb: np.ndarray, poses: tuple[PoseResult, ...]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((rgb, poses))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep draining so the producer never blocks
            try:
                drawn = _draw(item[0], item[1], self._style)[: self.height, : self.width]
                for packet in self._stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(drawn), "rgb24")):
                    self._container.mux(packet)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc

    def close(self) -> None:
        if self._container is None:
            return
        self._queue.put(None)
        self._worker.join()
        try:
            if self._error is None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None  # type: ignore[assignment]
        if self._error is not None:
            raise self._error
        if self._buffer is not None:
            self._output.write(faststart(self._buffer.getvalue()))  # type: ignore[union-attr]


def _series(
    indices: list[int], times: list[float], rows: list[list[PoseResult | None]], size: tuple[int, int]
) -> PoseSeries:
    t, p = len(rows), len(rows[0])
    landmarks = np.full((t, p, NUM_LANDMARKS, 3), np.nan, np.float32)
    world = np.full((t, p, NUM_LANDMARKS, 3), np.nan, np.float32)
    visibility = np.full((t, p, NUM_LANDMARKS), np.nan, np.float32)
    presence = np.full((t, p, NUM_LANDMARKS), np.nan, np.float32)
    for i, row in enumerate(rows):
        for s, pose in enumerate(row):
            if pose is not None:
                landmarks[i, s], world[i, s] = pose.landmarks, pose.world_landmarks
                visibility[i, s], presence[i, s] = pose.visibility, pose.presence
    return PoseSeries(
        np.asarray(indices, np.int64), np.asarray(times, np.float64), landmarks, visibility, presence, world, size
    )


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
    writer = _Mp4Writer(output, series.image_size, fps / stride, style or DrawStyle())
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


_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, size) of each ISO-BMFF box between ``start`` and ``end``."""
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8])
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            size = end - offset
        if size < 8 or offset + size > end:
            raise ValueError(f"malformed MP4 box {kind!r} at {offset}")
        yield kind, offset, size
        offset += size


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, shift: int) -> None:
    for kind, offset, size in _boxes(moov, start, end):
        if kind in _CONTAINER_BOXES:
            _shift_chunk_offsets(moov, offset + 8, offset + size, shift)
        elif kind in (b"stco", b"co64"):
            width = 4 if kind == b"stco" else 8
            count = int.from_bytes(moov[offset + 12 : offset + 16], "big")
            for i in range(count):
                at = offset + 16 + i * width
                value = int.from_bytes(moov[at : at + width], "big") + shift
                moov[at : at + width] = value.to_bytes(width, "big")


def faststart(mp4: bytes) -> bytes:
    """Move the ``moov`` index in front of the media data (as ``qt-faststart`` does), so
    a browser can start playing before it has the whole file."""
    boxes = list(_boxes(mp4))
    kinds = [kind for kind, _, _ in boxes]
    if b"moov" not in kinds or b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        return mp4
    _, moov_at, moov_size = boxes[kinds.index(b"moov")]
    moov = bytearray(mp4[moov_at : moov_at + moov_size])
    _shift_chunk_offsets(moov, 8, moov_size, moov_size)  # media data moves back by the moov's size
    head = [mp4[o : o + n] for k, o, n in boxes if k in (b"ftyp",)]
    rest = [mp4[o : o + n] for k, o, n in boxes if k not in (b"ftyp", b"moov")]
    return b"".join([*head, bytes(moov), *rest])


def preview_jpeg(rgb: np.ndarray, max_side: int = 640) -> bytes:
    """A small JPEG of a frame (the app keeps one per analysed frame for its slider)."""
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    small = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()
