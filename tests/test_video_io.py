"""Reading video against limits: the header is checked first, and every decoded frame
again, because a header can be missing (a raw H.264 stream) or lie."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose_core.errors import VideoLoadError
from pose_core.mp4 import faststart
from pose_core.video import analyze_video
from pose_core.video_io import FrameReader, VideoLimits, iter_frames, probe_video
from tests.helpers import FPS, FRAMES, SIZE, audio_only_mp4, encode_clip, gradient_frames, stage, zero_frame_video


def test_a_raw_stream_without_a_duration_is_stopped_at_the_frame_budget():
    raw = encode_clip(gradient_frames(64, 48, 31), "h264")  # 3.1 s at 10 fps, but the header says nothing
    limits = VideoLimits(max_duration_s=2.0)
    assert probe_video(raw, limits).duration_s == 0.0  # the header check cannot see it...
    reader = FrameReader(raw, limits=limits)
    with pytest.raises(VideoLoadError, match=r"longer than 2 s .*frame 21"):
        list(reader)  # ...the decoder does: 2 s at 10 fps is frames 0..20


def test_a_clip_within_the_budget_decodes_completely():
    reader = FrameReader(encode_clip(gradient_frames(64, 48, 20)), limits=VideoLimits(max_duration_s=2.0))
    assert len(list(reader)) == 20 and reader.frames_decoded == 20 and reader.problem is None


def test_the_frame_budget_follows_the_frame_rate_up_to_a_ceiling():
    limits = VideoLimits(max_duration_s=60.0, max_fps=120.0)
    assert limits.max_frames(30.0) == 60 * 30 + 1
    assert limits.max_frames(1000.0) == 60 * 120 + 1  # a header claiming 1000 fps buys nothing


def test_a_stream_that_grows_part_way_is_refused_at_the_first_large_frame():
    raw = encode_clip(gradient_frames(320, 240, 3), "h264") + encode_clip(gradient_frames(1280, 720, 3), "h264")
    assert max(probe_video(raw).width, probe_video(raw).height) == 320  # the header shows the first size
    with pytest.raises(VideoLoadError, match="1280x720 frames.*640 px"):
        list(FrameReader(raw, limits=VideoLimits(max_side_px=640)))


def test_a_change_of_picture_size_is_refused_even_within_the_limits():
    raw = encode_clip(gradient_frames(320, 240, 3), "h264") + encode_clip(gradient_frames(160, 120, 3), "h264")
    with pytest.raises(VideoLoadError, match=r"changes its picture size part-way \(320x240, then 160x120\)"):
        list(FrameReader(raw))


@pytest.fixture(scope="module")
def cut_short() -> tuple[bytes, int]:
    """An MP4 with its index at the front, cut off after about 60 % of its media data:
    the index still announces every frame."""
    whole = faststart(encode_clip(gradient_frames(64, 48, 40)))
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


def test_probe_reads_the_header(slide_clip):
    info = probe_video(slide_clip)
    assert (info.width, info.height, info.fps, info.frame_count, info.codec) == (*SIZE, FPS, FRAMES, "h264")
    assert info.duration_s == pytest.approx(FRAMES / FPS)


@pytest.mark.parametrize(("fmt", "codec"), [("webm", "libvpx-vp9"), ("avi", "mpeg4"), ("mov", "libx264")])
def test_other_containers_decode_to_the_same_frames(fmt, codec, astronaut_rgb):
    frames = [stage(astronaut_rgb, t) for t in range(4)]
    decoded = list(iter_frames(encode_clip(frames, fmt, codec)))
    assert [f.index for f in decoded] == [0, 1, 2, 3]
    assert [f.time_s for f in decoded] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert np.abs(decoded[2].rgb.astype(int) - frames[2]).mean() < 6  # lossy codecs, same picture


def test_a_phone_portrait_video_is_decoded_upright(astronaut_rgb):
    data = (Path(__file__).parent / "data" / "phone_portrait_rotate90.mp4").read_bytes()
    info = probe_video(data)
    assert (info.width, info.height) == (400, 360)
    first = next(iter_frames(data)).rgb
    upright = stage(astronaut_rgb, 0)[:, 40:440]  # how tests/data/README.md says it was made
    assert first.shape == upright.shape
    assert np.abs(first.astype(int) - upright).mean() < 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda clip: b"", "empty"),
        (lambda clip: b"not a video at all" * 50, "not a video PoseLab can read"),
        (lambda clip: clip[: len(clip) // 3], "not a video PoseLab can read"),  # cut short, index at the end
        (lambda clip: audio_only_mp4(), "no video track.*audio"),
        (lambda clip: zero_frame_video("matroska"), "no frames"),
        (lambda clip: zero_frame_video("mp4"), "no tracks"),
        (lambda clip: Path(__file__).read_bytes(), "not a video PoseLab can read"),  # wrong type
    ],
    ids=["empty", "garbage", "truncated", "audio-only", "zero-frames-mkv", "zero-frames-mp4", "wrong-type"],
)
def test_broken_videos_get_a_clear_error(make, message, slide_clip):
    with pytest.raises(VideoLoadError, match=message):
        analyze_video(make(slide_clip))


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (VideoLimits(max_duration_s=1.0), r"1\.6 s|2 s long"),
        (VideoLimits(max_side_px=320), "480x360"),
        (VideoLimits(max_bytes=1000), "MB"),
    ],
)
def test_limits_are_enforced_with_a_message(slide_clip, limits, message):
    with pytest.raises(VideoLoadError, match=message):
        probe_video(slide_clip, limits)
