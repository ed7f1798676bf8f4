"""Video: reading, VIDEO-mode tracking, smoothing, the annotated MP4, and broken input.

Clips are made here from the astronaut photo, moving across a grey stage by a known
number of pixels per frame, so the tracked landmarks have a known answer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pytest

from pose_core.errors import SettingsError, VideoLoadError
from pose_core.export import series_table, video_json_dict
from pose_core.inference import VideoPoseEstimator
from pose_core.motion import angle_series, range_of_motion
from pose_core.mp4 import faststart
from pose_core.series import IdentityTracker, PoseSeries
from pose_core.smoothing import Smoothing
from pose_core.types import PoseResult
from pose_core.video import analyze_video, render_video
from pose_core.video_io import VideoLimits, iter_frames, probe_video

FPS = 10
STEP_PX = 6  # the person moves right by this much each frame
FRAMES = 16
SIZE = (480, 360)  # 360p keeps the suite quick; the benchmark uses 480p and 720p


def stage(astronaut: np.ndarray, t: int) -> np.ndarray:
    canvas = np.full((SIZE[1], SIZE[0], 3), 100, np.uint8)
    person = astronaut[::2, ::2][:, 28:228]  # 256x200 crop of her, half size
    x0 = 100 + STEP_PX * t
    canvas[40:296, x0 : x0 + 200] = person
    return canvas


def encode_clip(frames: list[np.ndarray], fmt: str = "mp4", codec: str = "libx264", fps: int = FPS) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def clip(astronaut_rgb) -> bytes:
    return encode_clip([stage(astronaut_rgb, t) for t in range(FRAMES)])


@pytest.fixture(scope="module")
def analysis(clip):
    return analyze_video(clip)


def test_probe_reads_the_header(clip):
    info = probe_video(clip)
    assert (info.width, info.height, info.fps, info.frame_count, info.codec) == (480, 360, 10.0, 16, "h264")
    assert info.duration_s == pytest.approx(1.6)


@pytest.mark.parametrize(("fmt", "codec"), [("webm", "libvpx-vp9"), ("avi", "mpeg4"), ("mov", "libx264")])
def test_other_containers_decode_to_the_same_frames(fmt, codec, astronaut_rgb):
    frames = [stage(astronaut_rgb, t) for t in range(4)]
    decoded = list(iter_frames(encode_clip(frames, fmt, codec)))
    assert [f.index for f in decoded] == [0, 1, 2, 3]
    assert [f.time_s for f in decoded] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert np.abs(decoded[2].rgb.astype(int) - frames[2]).mean() < 6  # lossy codecs, same picture


def test_the_tracked_person_moves_as_the_clip_does(analysis):
    raw = analysis.raw
    assert len(raw) == FRAMES and raw.people == 1 and raw.image_size == SIZE
    assert list(raw.frame_index) == list(range(FRAMES))
    assert raw.frames_with_people == FRAMES
    nose_x = raw.landmarks[:, 0, 0, 0] * SIZE[0]
    assert not np.isnan(nose_x).any()
    slope = np.polyfit(np.arange(FRAMES), nose_x, 1)[0]
    assert slope == pytest.approx(STEP_PX, abs=0.6)  # px per frame, as the clip was made
    assert analysis.frames_per_second > 0


def test_stride_analyses_every_nth_frame(clip):
    every_third = analyze_video(clip, stride=3)
    assert list(every_third.raw.frame_index) == [0, 3, 6, 9, 12, 15]
    assert list(every_third.raw.time_s) == pytest.approx([0.0, 0.3, 0.6, 0.9, 1.2, 1.5])


def test_video_mode_timestamps_must_increase(astronaut_rgb):
    frame = stage(astronaut_rgb, 0)
    with VideoPoseEstimator() as tracker:
        tracker.detect(frame, 100)
        tracker.detect(frame, 100)  # equal: nudged to 101 rather than refused by MediaPipe
        with pytest.raises(SettingsError, match="before the previous frame"):
            tracker.detect(frame, 50)


@pytest.mark.parametrize("method", ["none", "one-euro", "butterworth"])
def test_the_annotated_video_is_h264_mp4_that_browsers_can_stream(clip, method, tmp_path):
    buf = io.BytesIO()
    result = analyze_video(clip, smoothing=Smoothing(method=method), output=buf, stride=2)
    data = buf.getvalue()
    assert data.find(b"moov") < data.find(b"mdat"), "index before the media data (fast start)"
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert float(stream.average_rate) == pytest.approx(FPS / 2)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == len(result.raw) == 8
    assert float(len(frames) / (FPS / 2)) > 0  # a playable duration
    # The skeleton is drawn: the first frame differs from the plain clip around her.
    plain = next(iter_frames(clip)).rgb
    assert np.abs(frames[0].astype(int) - plain).max() > 100


def test_rendering_to_a_path_and_re_rendering_without_the_model(clip, analysis, tmp_path):
    out = tmp_path / "again.mp4"
    render_video(clip, analysis.raw.smoothed(Smoothing(method="butterworth")), out, fps=FPS)
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == FRAMES


def test_faststart_moves_the_index_and_keeps_the_frames(clip):
    # The clip was written without fast start: index at the end.
    assert clip.find(b"moov") > clip.find(b"mdat")
    moved = faststart(clip)
    assert moved.find(b"moov") < moved.find(b"mdat") and len(moved) == len(clip)
    before = [f.rgb for f in iter_frames(clip)]
    after = [f.rgb for f in iter_frames(moved)]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_smoothing_calms_jitter_in_the_series(analysis):
    raw = analysis.raw
    jitter = raw.landmarks.copy()  # the series' own arrays are read-only
    jitter[:, 0, :, :2] += np.random.default_rng(0).normal(0, 0.01, jitter[:, 0, :, :2].shape)
    noisy = PoseSeries(
        raw.frame_index, raw.time_s, jitter, raw.visibility, raw.presence, raw.world_landmarks, raw.image_size
    )
    smoothed = noisy.smoothed(Smoothing(method="butterworth", cutoff_hz=1.5))
    step = np.diff(smoothed.landmarks[:, 0, :, 0], axis=0) - STEP_PX / SIZE[0]
    noisy_step = np.diff(noisy.landmarks[:, 0, :, 0], axis=0) - STEP_PX / SIZE[0]
    assert np.nanstd(step) < 0.5 * np.nanstd(noisy_step)
    assert noisy.smoothed(Smoothing(method="none")) is noisy


def test_people_keep_their_slot_when_the_tracker_reorders_them():
    def pose_at(x: float) -> PoseResult:
        lm = np.full((33, 3), 0.5, np.float32)
        lm[:, 0] = x
        return PoseResult(lm, np.ones(33, np.float32), np.ones(33, np.float32), lm.copy(), (100, 100))

    left, right = pose_at(0.2), pose_at(0.8)
    tracker = IdentityTracker(2, (100, 100))
    assert tracker.assign((right, left)) == [right, left]  # first frame: slots in arrival order
    assert tracker.assign((left, right)) == [right, left]  # reordered output, same people


def test_tables_angles_and_range_of_motion(analysis):
    frame_table = series_table(analysis.raw, "clip.mp4")
    assert len(frame_table) == FRAMES * 33
    assert list(frame_table.columns[:6]) == ["source", "frame", "time_s", "person", "index", "name"]
    angles = angle_series(analysis.raw)
    assert len(angles) == FRAMES * 12 and set(angles["person"]) == {1}
    rom = range_of_motion(angles, min_confidence=0.0)
    shoulder = rom[rom["angle"] == "left_shoulder"].iloc[0]
    assert shoulder["range_2d"] == pytest.approx(shoulder["max_2d"] - shoulder["min_2d"])
    assert shoulder["range_2d"] < 15  # she only slides sideways; her pose barely changes
    assert list(rom["angle"][:2]) == ["left_elbow", "left_shoulder"]  # the spec table's order
    confident = range_of_motion(angles, min_confidence=0.99)
    assert len(confident) < len(rom)  # hidden joints' guesses are left out


def test_video_json_has_the_documented_shape(analysis):
    doc = json.loads(json.dumps(video_json_dict(analysis, analysis.raw, Smoothing(), "clip.mp4"), allow_nan=False))
    assert doc["video"] == {
        "source": "clip.mp4",
        "fps": 10.0,
        "frames": 16,
        "width": 480,
        "height": 360,
        "duration_s": pytest.approx(1.6),
        "codec": "h264",
    }
    assert len(doc["frames"]) == FRAMES
    first = doc["frames"][1]
    assert (first["index"], first["time_s"]) == (1, pytest.approx(0.1))
    assert len(first["poses"][0]["landmarks"]) == 33 and first["poses"][0]["angles"]
    assert doc["smoothing"]["method"] == "one-euro" and doc["model"]["variant"] == "full"


def _audio_only() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 44100
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return buf.getvalue()


def _zero_frames(fmt: str) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        out.start_encoding()  # a header, and no frames after it
    return buf.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda clip: b"", "empty"),
        (lambda clip: b"not a video at all" * 50, "not a video PoseLab can read"),
        (lambda clip: clip[: len(clip) // 3], "not a video PoseLab can read"),  # cut short, index at the end
        (lambda clip: _audio_only(), "no video track.*audio"),
        (lambda clip: _zero_frames("matroska"), "no frames"),
        (lambda clip: _zero_frames("mp4"), "no tracks"),
        (lambda clip: Path(__file__).read_bytes(), "not a video PoseLab can read"),  # wrong type
    ],
    ids=["empty", "garbage", "truncated", "audio-only", "zero-frames-mkv", "zero-frames-mp4", "wrong-type"],
)
def test_broken_videos_get_a_clear_error(make, message, clip):
    with pytest.raises(VideoLoadError, match=message):
        analyze_video(make(clip))


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (VideoLimits(max_duration_s=1.0), r"1\.6 s|2 s long"),
        (VideoLimits(max_side_px=320), "480x360"),
        (VideoLimits(max_bytes=1000), "MB"),
    ],
)
def test_limits_are_enforced_with_a_message(clip, limits, message):
    with pytest.raises(VideoLoadError, match=message):
        probe_video(clip, limits)


def test_a_phone_portrait_video_is_turned_upright(astronaut_rgb):
    """Stored sideways with a display rotation flag, as phones record portrait clips."""
    data = (Path(__file__).parent / "data" / "phone_portrait_rotate90.mp4").read_bytes()
    info = probe_video(data)
    assert (info.width, info.height) == (400, 360)
    first = next(iter_frames(data)).rgb
    upright = stage(astronaut_rgb, 0)[:, 40:440]
    assert first.shape == upright.shape
    assert np.abs(first.astype(int) - upright).mean() < 4
    annotated = io.BytesIO()
    analysis = analyze_video(data, output=annotated)
    assert analysis.raw.image_size == (400, 360)
    nose_y = analysis.raw.landmarks[:, 0, 0, 1]
    assert np.all(nose_y < 0.5)  # the head is at the top: the person stands upright
    with av.open(io.BytesIO(annotated.getvalue())) as container:
        assert next(container.decode(video=0)).to_ndarray(format="rgb24").shape == (360, 400, 3)
