"""Reading video against limits: the header is checked first, and every decoded frame
again, because a header can be missing (a raw H.264 stream) or lie."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from pose_core.errors import VideoLoadError
from pose_core.mp4 import faststart
from pose_core.video import analyze_video
from pose_core.video_io import FrameReader, VideoLimits, probe_video


def encode(frames: list[np.ndarray], fmt: str = "mp4", fps: int = 10) -> bytes:
    """Frames as H.264 in ``fmt``; "h264" is a bare stream: no container, no duration."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for rgb in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode())
    return buf.getvalue()


def flat(width: int, height: int, count: int) -> list[np.ndarray]:
    """``count`` frames of a moving grey gradient (content is irrelevant to the limits)."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    return [np.broadcast_to((x + 9 * t) % 256, (height, width, 3)).astype(np.uint8) for t in range(count)]


def test_a_raw_stream_without_a_duration_is_stopped_at_the_frame_budget():
    raw = encode(flat(64, 48, 31), fmt="h264")  # 3.1 s at 10 fps, but the header says nothing
    limits = VideoLimits(max_duration_s=2.0)
    assert probe_video(raw, limits).duration_s == 0.0  # the header check cannot see it...
    reader = FrameReader(raw, limits=limits)
    with pytest.raises(VideoLoadError, match=r"longer than 2 s .*frame 21"):
        list(reader)  # ...the decoder does: 2 s at 10 fps is frames 0..20


def test_a_clip_within_the_budget_decodes_completely():
    reader = FrameReader(encode(flat(64, 48, 20)), limits=VideoLimits(max_duration_s=2.0))
    assert len(list(reader)) == 20 and reader.frames_decoded == 20 and reader.problem is None


def test_the_frame_budget_follows_the_frame_rate_up_to_a_ceiling():
    limits = VideoLimits(max_duration_s=60.0, max_fps=120.0)
    assert limits.max_frames(30.0) == 60 * 30 + 1
    assert limits.max_frames(1000.0) == 60 * 120 + 1  # a header claiming 1000 fps buys nothing


def test_a_stream_that_grows_part_way_is_refused_at_the_first_large_frame():
    raw = encode(flat(320, 240, 3), fmt="h264") + encode(flat(1280, 720, 3), fmt="h264")
    assert max(probe_video(raw).width, probe_video(raw).height) == 320  # the header shows the first size
    with pytest.raises(VideoLoadError, match="1280x720 frames.*640 px"):
        list(FrameReader(raw, limits=VideoLimits(max_side_px=640)))


def test_a_change_of_picture_size_is_refused_even_within_the_limits():
    raw = encode(flat(320, 240, 3), fmt="h264") + encode(flat(160, 120, 3), fmt="h264")
    with pytest.raises(VideoLoadError, match=r"changes its picture size part-way \(320x240, then 160x120\)"):
        list(FrameReader(raw))


@pytest.fixture(scope="module")
def cut_short() -> tuple[bytes, int]:
    """An MP4 with its index at the front, cut off after about 60 % of its media data:
    the index still announces every frame."""
    whole = faststart(encode(flat(64, 48, 40)))
    return whole[: int(len(whole) * 0.6)], 40


def test_a_file_cut_short_yields_what_is_there_and_says_so(cut_short):
    data, announced = cut_short
    reader = FrameReader(data)
    frames = list(reader)
    assert 0 < len(frames) < announced
    assert reader.problem is not None and f"of the {announced} frames its header announces" in reader.problem


def test_a_video_cut_short_is_analysed_as_far_as_it_goes_and_reported_as_partial(cut_short):
    data, announced = cut_short
    analysis = analyze_video(data)
    assert not analysis.complete and "cut short" in (analysis.problem or "")
    assert analysis.header.frame_count == announced
    assert analysis.info.frame_count == len(analysis.raw) < announced  # what was really there
    assert analysis.info.duration_s == pytest.approx(len(analysis.raw) / 10)
