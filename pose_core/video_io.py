"""Reading and writing video with PyAV (which bundles FFmpeg): probe a file against
limits, decode upright RGB frames in a background thread, and encode H.264 MP4 that
browsers play."""

from __future__ import annotations

import io
import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from pose_core.errors import VideoLoadError
from pose_core.mp4 import faststart
from pose_core.types import PoseResult

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
Source = bytes | str | Path
DrawFrame = Callable[[np.ndarray, tuple[PoseResult, ...]], np.ndarray]  # (frame RGB, its poses) -> picture


@dataclass(frozen=True)
class VideoLimits:
    """Limits that protect a shared server; the command line has none by default.

    They are checked twice: against the header before decoding (a quick refusal), and
    on every decoded frame, since a header can be missing or lie (a raw H.264 stream has
    no duration; a stream can change its picture size part-way).
    """

    max_bytes: int = 200 * 1024 * 1024
    max_duration_s: float = 60.0
    max_side_px: int = 1920
    # The frame budget is max_duration_s at the stream's own frame rate, but never more
    # than at this rate: a header claiming 1000 fps must not buy 60,000 frames.
    max_fps: float = 120.0

    def describe(self) -> str:
        return (
            f"up to {self.max_bytes // 2**20} MB, {self.max_duration_s:.0f} s, "
            f"and {self.max_side_px} px on the long side"
        )

    def max_frames(self, fps: float) -> int:
        """How many frames a clip at ``fps`` may have."""
        return math.ceil(self.max_duration_s * min(fps, self.max_fps)) + 1  # +1: frame 0 is at 0 s


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int  # from the container (an estimate for some formats), or as decoded
    duration_s: float  # from the container (0 when it has none), or as decoded
    codec: str

    def decoded(self, frames: int) -> VideoInfo:
        """This info with the frame count and duration that decoding really found."""
        return replace(self, frame_count=frames, duration_s=frames / self.fps)


def _open(source: Source) -> av.container.InputContainer:
    try:
        if isinstance(source, (bytes, bytearray)):
            if not source:
                raise VideoLoadError("the file is empty (0 bytes); upload the video again")
            return av.open(io.BytesIO(source), mode="r")
        path = Path(source)
        if not path.is_file():
            raise VideoLoadError(f"cannot read {path}: no such file")
        if path.stat().st_size == 0:
            raise VideoLoadError("the file is empty (0 bytes); export or copy the video again")
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
        fps = _frame_rate(stream)
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError:
            first = None
        if first is None:
            raise VideoLoadError("the video has no frames that can be decoded")
        width, height = _display_size(first)
        info = VideoInfo(
            width=width,
            height=height,
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


def _display_size(frame: av.VideoFrame) -> tuple[int, int]:
    """(width, height) of the frame as shown, after its display rotation."""
    sideways = round((frame.rotation or 0) / 90) % 2 == 1  # shown turned by 90 or 270 degrees
    return (int(frame.height), int(frame.width)) if sideways else (int(frame.width), int(frame.height))


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


class FrameReader:
    """Every ``stride``-th frame of a video, decoded in a background thread so decoding
    overlaps with whatever the caller does with each frame.

    With ``limits``, every decoded frame is checked (count against the frame budget,
    picture size, no change of size part-way): passing one raises
    :class:`VideoLoadError` and stops. Damage part-way through is not an error: the
    frames before it are yielded, and afterwards :attr:`problem` says what happened,
    as it does when the file ends before the frames its header announces.
    """

    def __init__(
        self, source: Source, stride: int = 1, *, limits: VideoLimits | None = None, prefetch: int = 8
    ) -> None:
        if stride < 1:
            raise ValueError(f"stride must be 1 or more, got {stride}")
        self.source, self.stride, self.limits, self.prefetch = source, stride, limits, prefetch
        self.frames_decoded = 0  # every frame, not only the yielded ones
        self.problem: str | None = None

    def __iter__(self) -> Iterator[Frame]:
        container = _open(self.source)
        stream = _video_stream(container)
        stream.thread_type = "AUTO"  # FFmpeg's own frame threads
        fps = _frame_rate(stream)
        announced = int(stream.frames or 0)
        budget = self.limits.max_frames(fps) if self.limits else None
        frames: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()
        self.frames_decoded, self.problem = 0, None

        def decode() -> None:
            size: tuple[int, int] | None = None
            try:
                for index, frame in enumerate(container.decode(stream)):
                    if stop.is_set():
                        return
                    if budget is not None and index >= budget:
                        raise VideoLoadError(self._too_long(index, fps))
                    size = self._check_size(_display_size(frame), size)
                    if index % self.stride == 0:
                        frames.put(Frame(index, index / fps, _upright(frame)))
                    self.frames_decoded = index + 1
                if announced and self.frames_decoded < announced - max(1, announced // 100):
                    self.problem = (
                        f"the file ends after {self.frames_decoded} of the {announced} frames its header announces "
                        "(cut short?)"
                    )
                frames.put(None)
            except av.error.FFmpegError as exc:  # damaged data part-way through
                if self.frames_decoded == 0:
                    frames.put(VideoLoadError(f"the video's first frame cannot be decoded ({exc.strerror or exc})"))
                else:
                    self.problem = f"the video is damaged after frame {self.frames_decoded} ({exc.strerror or exc})"
                    frames.put(None)
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

    def _too_long(self, index: int, fps: float) -> str:
        assert self.limits is not None
        return (
            f"the video is longer than {self.limits.max_duration_s:.0f} s (still going at frame {index}, "
            f"{index / fps:.0f} s at {fps:.3g} fps) although its header did not say so; videos here may be "
            f"{self.limits.describe()}. Trim it first."
        )

    def _check_size(self, size: tuple[int, int], first: tuple[int, int] | None) -> tuple[int, int]:
        """A frame's (width, height), checked against the limits and the first frame's."""
        if self.limits and max(size) > self.limits.max_side_px:
            raise VideoLoadError(
                f"the video has {size[0]}x{size[1]} frames; videos here may be {self.limits.describe()}. "
                "Scale it down first."
            )
        if first is not None and size != first:
            raise VideoLoadError(
                f"the video changes its picture size part-way ({first[0]}x{first[1]}, then {size[0]}x{size[1]}); "
                "export it again at one size"
            )
        return size


def iter_frames(source: Source, stride: int = 1, prefetch: int = 8) -> Iterator[Frame]:
    """Every ``stride``-th frame (see :class:`FrameReader`, which also reports damage)."""
    return iter(FrameReader(source, stride, prefetch=prefetch))


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    """The stream's frame rate. NOTE: a bare stream (raw H.264 with no container) has no
    duration, and FFmpeg then reports a default average rate of 25; the rate in the
    stream's own timing data (guessed_rate) is the real one there. 30 when neither exists."""
    if stream.duration is None and stream.container.duration is None:
        return float(stream.guessed_rate or stream.average_rate or 0) or 30.0
    return float(stream.average_rate or stream.guessed_rate or 0) or 30.0


class Mp4Writer:
    """Draws and encodes frames on a worker thread: H.264 (yuv420p, even size) in MP4
    with its index at the front, to a path or a binary file object. ``draw(rgb, poses)``
    turns each written frame and its poses into the picture to encode.

    NOTE: the model call releases the GIL (ctypes) and keeps one core busy; drawing
    (OpenCV) and x264 release it too, so this thread uses the second core.
    """

    def __init__(self, output: str | Path | BinaryIO, size: tuple[int, int], fps: float, draw: DrawFrame) -> None:
        self._output, self._draw = output, draw
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
                drawn = self._draw(item[0], item[1])[: self.height, : self.width]
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
