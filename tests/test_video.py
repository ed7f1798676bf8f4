"""Video analysis (pose_core.video): tracking through a clip, the annotated MP4, re-rendering
without the model, and broken input.

Clips come from ``tests.helpers.stage``: the astronaut photo moving across a grey stage by
a known number of pixels per frame, so the tracked landmarks have a known answer.

NOTE: the header, decoding, broken-input and header-limit tests of pose_core.video_io
are still here (end of file): they belong in ``tests/test_video_io.py``, which was being
written for the per-frame limits when this file was split.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from pose_core.drawing import DrawStyle
from pose_core.inference import VideoPoseEstimator
from pose_core.smoothing import Smoothing
from pose_core.video import VideoJob, analyze_video, render_video
from pose_core.video_io import iter_frames
from tests.helpers import (
    FPS,
    FRAMES,
    SIZE,
    STEP_PX,
    encode_clip,
    stage,
)


def test_the_tracked_person_moves_as_the_clip_does(slide_analysis):
    raw = slide_analysis.raw
    assert len(raw) == FRAMES and raw.people == 1 and raw.image_size == SIZE
    assert list(raw.frame_index) == list(range(FRAMES))
    assert list(raw.time_s) == pytest.approx([t / FPS for t in range(FRAMES)])
    assert raw.frames_with_people == FRAMES
    nose_x = raw.landmarks_px[:, 0, 0, 0]
    assert not np.isnan(nose_x).any()
    slope = np.polyfit(np.arange(FRAMES), nose_x, 1)[0]
    assert slope == pytest.approx(STEP_PX, abs=0.6)  # px per frame, as the clip was made
    assert slide_analysis.frames_per_second > 0


def test_stride_analyses_every_nth_frame(slide_clip):
    every_third = analyze_video(slide_clip, stride=3)
    assert list(every_third.raw.frame_index) == [0, 3, 6, 9, 12, 15]
    assert list(every_third.raw.time_s) == pytest.approx([0.0, 0.3, 0.6, 0.9, 1.2, 1.5])


@pytest.mark.parametrize("method", ["none", "one-euro", "butterworth"])
def test_the_annotated_video_is_h264_mp4_that_browsers_can_stream(slide_clip, method):
    buf = io.BytesIO()
    result = analyze_video(slide_clip, smoothing=Smoothing(method=method), output=buf, stride=2)
    data = buf.getvalue()
    assert data.find(b"moov") < data.find(b"mdat"), "index before the media data (fast start)"
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert float(stream.average_rate) == pytest.approx(FPS / 2)  # every 2nd frame: half the rate
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == len(result.raw) == FRAMES // 2
    # The skeleton is drawn: the first frame differs from the plain clip around her.
    plain = next(iter_frames(slide_clip)).rgb
    assert np.abs(frames[0].astype(int) - plain).max() > 100


def test_rendering_to_a_path_and_re_rendering_without_the_model(slide_clip, slide_analysis, tmp_path):
    out = tmp_path / "again.mp4"
    render_video(slide_clip, slide_analysis.raw.smoothed(Smoothing(method="butterworth")), out, fps=FPS)
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == FRAMES


def test_a_video_job_runs_the_model_once_and_re_renders_per_smoothing_and_style(astronaut_rgb, monkeypatch):
    calls: list[int] = []
    real_detect = VideoPoseEstimator.detect

    def counting_detect(self, rgb, timestamp_ms):
        calls.append(timestamp_ms)
        return real_detect(self, rgb, timestamp_ms)

    monkeypatch.setattr(VideoPoseEstimator, "detect", counting_detect)
    clip = encode_clip([stage(astronaut_rgb, t) for t in range(6)])
    job = VideoJob()
    first = job.render(clip, Smoothing(method="none"))
    assert len(calls) == 6 and first.mp4 is not None and len(first.series) == 6
    assert job.render(clip, Smoothing(method="none")) is first, "the same request is served from the job"
    smoothed = job.render(clip, Smoothing(method="one-euro"), DrawStyle(joint_color=(0, 255, 0)))
    assert len(calls) == 6, "another smoothing and style only draw: no model"
    assert smoothed.mp4 is not None and smoothed.mp4 != first.mp4
    assert not np.allclose(smoothed.series.landmarks, first.series.landmarks)


def test_a_phone_portrait_video_is_analysed_upright(astronaut_rgb):
    """Stored sideways with a display rotation flag, as phones record portrait clips."""
    data = (Path(__file__).parent / "data" / "phone_portrait_rotate90.mp4").read_bytes()
    annotated = io.BytesIO()
    analysis = analyze_video(data, output=annotated)
    assert analysis.raw.image_size == (400, 360)
    nose_y = analysis.raw.landmarks[:, 0, 0, 1]
    assert np.all(nose_y < 0.5)  # the head is at the top: the person stands upright
    with av.open(io.BytesIO(annotated.getvalue())) as container:
        assert next(container.decode(video=0)).to_ndarray(format="rgb24").shape == (360, 400, 3)
