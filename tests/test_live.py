"""The live camera's frame core (pose_core.live) on real frames: the astronaut sliding
across a stage, as the camera would send them, through the real lite landmarker."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import numpy as np
import pytest

from pose_core.angles import HEADLINE_ANGLES, SPEC_BY_NAME, compute_angles
from pose_core.drawing import DrawStyle
from pose_core.errors import PoseLabError
from pose_core.export import LANDMARK_COLUMNS, series_table, table_csv
from pose_core.inference import _LIVE_ESTIMATORS, VideoPoseEstimator
from pose_core.live import (
    LiveOptions,
    LivePipeline,
    ice_config,
    live_json_dict,
    mirrored,
    open_pipelines,
)
from pose_core.schema import index_of
from pose_core.smoothing import Smoothing, one_euro
from pose_core.types import PoseSettings
from tests.helpers import FPS, stage

JOINT = np.array(DrawStyle().joint_color)


@pytest.fixture(scope="module")
def frames(astronaut_rgb: np.ndarray) -> list[np.ndarray]:
    """Twelve 480x360 frames of the slide, as a camera would send them."""
    return [stage(astronaut_rgb, t) for t in range(12)]


def _run(options: LiveOptions, frames: list[np.ndarray]):  # noqa: ANN202
    """Stream ``frames`` at FPS through a fresh pipeline: its stats at the end, and each frame's output."""
    with LivePipeline(options) as pipeline:
        out = [pipeline.submit(f, t / FPS) for t, f in enumerate(frames)]
        return pipeline.stats(), out


def _joint_pixels(rgb: np.ndarray) -> np.ndarray:
    """(N, 2) x, y of the pixels drawn in the joint colour."""
    close = np.abs(rgb.astype(int) - JOINT).max(axis=2) <= 12
    ys, xs = np.nonzero(close)
    return np.stack([xs, ys], axis=1)


def test_each_frame_comes_back_with_her_skeleton_drawn_where_she_is(frames):
    stats, out = _run(LiveOptions(), frames)
    assert all(o is not None and len(o.poses) == 1 for o in out)
    last = out[-1]
    assert last.overlay.shape == frames[-1].shape and last.overlay.dtype == np.uint8
    assert len(_joint_pixels(frames[-1])) == 0, "the stage and the photo have no pixel of the joint colour"
    joints = _joint_pixels(last.overlay)
    nose = last.poses[0].landmarks_px[index_of("nose")]
    assert len(joints) > 100
    assert np.linalg.norm(joints - nose, axis=1).min() < 8, "a joint is drawn on her nose"
    assert (stats.frames_in, stats.frames_done, stats.frames_dropped, stats.people) == (12, 12, 0, 1)
    assert stats.fps > 0 and stats.latency_ms > 0 and stats.error is None
    assert [a.name for a in stats.angles] == ["left_elbow", "right_elbow", "left_knee", "right_knee"]


def test_live_smoothing_is_the_video_pages_one_euro_filter(frames):
    """Same frames, same landmarker: the smoothed live landmarks are exactly One-Euro
    over the raw ones (no look-ahead: live cannot wait five frames)."""
    _, raw = _run(LiveOptions(smoothing=Smoothing(method="none")), frames)
    _, smooth = _run(LiveOptions(), frames)
    raw_xyz = np.stack([o.poses[0].landmarks for o in raw])
    expected = one_euro(raw_xyz, np.arange(len(frames)) / FPS, **_one_euro_params(Smoothing()))
    got = np.stack([o.poses[0].landmarks for o in smooth])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got - raw_xyz).max() > 1e-3, "the filter did something"


def _one_euro_params(spec: Smoothing) -> dict[str, float]:
    return {
        "min_cutoff_hz": spec.min_cutoff_hz,
        "beta": spec.beta,
        "derivative_cutoff_hz": spec.derivative_cutoff_hz,
    }


def test_mirror_view_flips_the_picture_but_not_the_persons_left_and_right(frames):
    _, plain = _run(LiveOptions(), frames[:3])
    _, mirror = _run(LiveOptions(mirror=True), frames[:3])
    a, b = plain[-1], mirror[-1]
    np.testing.assert_allclose(a.poses[0].landmarks, b.poses[0].landmarks, atol=1e-6)  # landmarks as the camera saw
    width = a.overlay.shape[1]
    joints_plain, joints_mirror = _joint_pixels(a.overlay), _joint_pixels(b.overlay)
    assert len(joints_mirror) == pytest.approx(len(joints_plain), rel=0.1)
    np.testing.assert_allclose(  # the skeleton is drawn at the mirror image of where it was
        joints_mirror.mean(axis=0), [width - 1 - joints_plain[:, 0].mean(), joints_plain[:, 1].mean()], atol=1.0
    )
    left_wrist = index_of("left_wrist")
    pose = a.poses[0]
    assert mirrored(pose).landmarks[left_wrist, 0] == pytest.approx(1 - pose.landmarks[left_wrist, 0])
    assert mirrored(pose).world_landmarks is pose.world_landmarks


def _same_readings(got, expected) -> None:  # noqa: ANN001 - tuples of AngleReading
    """The same angles with bit for bit the same numbers (NaN where expected is NaN)."""
    assert [r.name for r in got] == [r.name for r in expected]
    numbers = [[(r.degrees_2d, r.degrees_3d, r.confidence) for r in rs] for rs in (got, expected)]
    np.testing.assert_array_equal(*numbers)


def test_the_angles_beside_the_video_are_pose_core_angles_numbers_exactly(frames):
    with LivePipeline() as pipeline:
        for t, frame in enumerate(frames[:4]):
            pose = pipeline.submit(frame, t / FPS).poses[0]
            specs = tuple(SPEC_BY_NAME[n] for n in HEADLINE_ANGLES)
            _same_readings(
                pipeline.stats().angles, compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility, specs)
            )


def test_the_picture_can_be_drawn_straight_into_the_outgoing_frames_memory(frames):
    """``out`` (here with padded rows, as a video frame's plane may have) holds exactly the
    picture the pipeline would otherwise make, mirrored or not."""
    for mirror in (False, True):
        _, plain = _run(LiveOptions(mirror=mirror), frames[:3])
        height, width = frames[0].shape[:2]
        plane = np.zeros((height, width + 16, 3), np.uint8)
        out = plane[:, :width]
        with LivePipeline(LiveOptions(mirror=mirror)) as pipeline:
            for t, frame in enumerate(frames[:3]):
                done = pipeline.submit(frame, t / FPS, out=out)
        assert done is not None and done.overlay is out
        assert np.array_equal(out, plain[-1].overlay) and not plane[:, width:].any()
        with pytest.raises(ValueError, match="out must be"):
            pipeline.submit(frames[0], 1.0, out=np.zeros((2, 2, 3), np.uint8))


def test_a_frame_arriving_while_one_is_processed_is_dropped_not_queued(frames):
    with LivePipeline() as pipeline:
        first = threading.Thread(target=pipeline.submit, args=(frames[0], 0.0))
        first.start()  # the first frame also loads the landmarker: busy for a good while
        while pipeline.stats().frames_in == 0:
            pass
        assert pipeline.submit(frames[1], 0.1) is None
        first.join()
        pipeline.count_dropped(3)  # the WebRTC layer hands over the newest of four
        assert pipeline.submit(frames[2], 0.2) is not None
        stats = pipeline.stats()
    assert (stats.frames_in, stats.frames_done, stats.frames_dropped) == (6, 2, 4)


def test_recording_keeps_the_last_seconds_for_csv_and_json(frames):
    with LivePipeline(LiveOptions(record_seconds=0.5)) as pipeline:
        pipeline.submit(frames[0], 0.0)
        assert len(pipeline.recording().series) == 0, "nothing is kept before Record"
        pipeline.start_recording()
        for t in range(1, 12):
            pipeline.submit(frames[t], t / FPS)
        assert pipeline.stats().recording and pipeline.stats().recorded_s == pytest.approx(0.5)
        pipeline.stop_recording()
        pipeline.submit(frames[0], 1.2)
    kept = pipeline.recording()  # still there after the stream closed
    assert kept is not None and kept.settings.model == "lite" and kept.model.variant == "lite"
    series = kept.series
    np.testing.assert_allclose(series.time_s, np.arange(6) / FPS)
    assert list(series.frame_index) == [6, 7, 8, 9, 10, 11] and series.image_size == (480, 360)
    table = series_table(series, "live")
    assert list(table.columns) == list(LANDMARK_COLUMNS) and len(table) == 6 * 33
    assert table_csv(table).splitlines()[0] == ",".join(LANDMARK_COLUMNS)
    doc = live_json_dict(kept)
    assert doc["live"] == {"width": 480, "height": 360, "frames": 6, "duration_s": 0.5, "mirror": False}
    assert [f["index"] for f in doc["frames"]] == [6, 7, 8, 9, 10, 11]
    assert doc["frames"][0]["poses"][0]["person"] == 1 and len(doc["frames"][0]["poses"][0]["landmarks"]) == 33


def test_freeze_hands_over_the_camera_frame_and_its_landmarks(frames):
    with LivePipeline(LiveOptions(mirror=True)) as pipeline:
        assert pipeline.freeze() is None
        out = [pipeline.submit(f, t / FPS) for t, f in enumerate(frames[:4])]
        frozen = pipeline.freeze()
    assert frozen is not None and frozen.time_s == pytest.approx(0.3)
    np.testing.assert_array_equal(frozen.rgb, frames[3])  # as the camera sent it, not mirrored
    assert frozen.poses == out[-1].poses and frozen.model.variant == "lite"


def test_a_new_model_setting_takes_effect_on_the_next_frame_and_closes_the_old_landmarker(frames):
    with LivePipeline() as pipeline:
        pipeline.submit(frames[0], 0.0)
        old = pipeline._estimator
        pipeline.options = LiveOptions(settings=PoseSettings(model="full"))
        pipeline.submit(frames[1], 0.1)
        assert pipeline.freeze().model.variant == "full"
        assert old is not None and old._landmarker is None
        assert open_pipelines() >= 1
    assert pipeline.closed


def test_a_model_that_cannot_load_is_said_in_the_stats_and_frames_still_flow(frames):
    """heavy is not downloaded in the tests' model cache: a PoseLabError, not a traceback."""
    with LivePipeline(LiveOptions(settings=PoseSettings(model="heavy"))) as pipeline:
        out = [pipeline.submit(f, t / FPS) for t, f in enumerate(frames[:2])]
        stats = pipeline.stats()
    assert all(o is not None and o.poses == () for o in out)
    np.testing.assert_array_equal(out[0].overlay, frames[0])
    assert stats.error and "heavy" in stats.error and stats.frames_done == 2


@pytest.mark.parametrize(
    "options",
    [
        {"settings": PoseSettings(max_poses=2, crowd=True)},
        {"smoothing": Smoothing(method="butterworth")},
        {"record_seconds": 0},
        {"record_seconds": 600},
    ],
)
def test_options_the_live_view_cannot_honour_are_refused_in_plain_words(options):
    with pytest.raises(PoseLabError):
        LiveOptions(**options)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status here")


def _open_video_landmarkers() -> int:
    return sum(1 for e in list(_LIVE_ESTIMATORS) if isinstance(e, VideoPoseEstimator) and e._landmarker is not None)


# One leaked landmarker is ~100 MB, ten would be a gigabyte; the allocator's own noise
# under a loaded machine reached 47 MB once (measured: -10 to +3 MB when quiet).
MEMORY_GROWTH_BOUND_MB = 60


def test_ten_connect_disconnect_cycles_leave_no_landmarker_open_and_memory_flat(frames):
    """Each cycle is what a browser tab does: connect (a pipeline, its landmarker), stream
    a second of frames while recording, disconnect (close)."""
    from ui.state import release_freed_memory  # the app trims the heap the same way

    def cycle() -> None:
        pipeline = LivePipeline(LiveOptions(mirror=True))
        pipeline.start_recording()
        for t, frame in enumerate(frames):
            pipeline.submit(frame, t / FPS)
        pipeline.close()

    cycle()  # warm-up: first-use allocations of MediaPipe and OpenCV
    gc.collect()
    release_freed_memory()
    before = _rss_mb()
    for _ in range(10):
        cycle()
        assert open_pipelines() == 0 and _open_video_landmarkers() == 0
    gc.collect()
    release_freed_memory()
    growth = _rss_mb() - before
    assert growth < MEMORY_GROWTH_BOUND_MB, f"memory grew by {growth:.0f} MB over ten cycles"


def test_where_it_connects_comes_from_secrets_or_environment_and_needs_no_stun_by_default():
    plain = ice_config({}, {})
    assert plain.source == "none" and plain.rtc_configuration == {"iceServers": []}
    secrets = {"webrtc": {"ice_servers": [{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "c"}]}}
    from_secrets = ice_config(secrets, {"POSELAB_STUN_URLS": "stun:ignored.example.org"})
    assert from_secrets.source == "secrets"
    assert from_secrets.rtc_configuration["iceServers"] == [
        {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "c"}
    ]
    env = {
        "POSELAB_TURN_URLS": "turn:a.example.org:3478, turns:a.example.org:5349",
        "POSELAB_TURN_USERNAME": "u",
        "POSELAB_TURN_CREDENTIAL": "c",
        "POSELAB_STUN_URLS": "stun:a.example.org:3478",
    }
    from_env = ice_config({}, env)
    assert from_env.source == "environment"
    assert [s["urls"] for s in from_env.servers] == [
        ["turn:a.example.org:3478", "turns:a.example.org:5349"],
        ["stun:a.example.org:3478"],
    ]


@pytest.mark.parametrize(
    ("secrets", "env", "message"),
    [
        ({}, {"POSELAB_TURN_URLS": "turn:a.example.org"}, "POSELAB_TURN_USERNAME and POSELAB_TURN_CREDENTIAL"),
        ({}, {"POSELAB_TURN_URLS": "turn:a", "POSELAB_TURN_USERNAME": "u"}, "POSELAB_TURN_CREDENTIAL is not"),
        ({"webrtc": {"ice_servers": [{"urls": "turn:a"}]}}, {}, "username and credential"),
        ({"webrtc": {"ice_servers": [{"username": "u"}]}}, {}, "needs 'urls'"),
    ],
)
def test_incomplete_turn_settings_say_what_is_missing(secrets, env, message):
    with pytest.raises(PoseLabError, match=message):
        ice_config(secrets, env)


def test_repetitions_and_posture_of_person_one_are_worked_out_at_most_once_a_second(frames):
    now = [0.0]
    with LivePipeline(clock=lambda: now[0]) as pipeline:
        assert pipeline.coaching() is None, "nothing before the first frame"
        for t, frame in enumerate(frames):
            now[0] = t / FPS
            pipeline.submit(frame, t / FPS)
        coaching = pipeline.coaching()
        assert coaching is not None and coaching.posture is not None and coaching.posture.label
        assert coaching.repetitions.count == 0 and coaching.repetitions.note, "sliding sideways is no repetition"
        now[0] += 0.5
        assert pipeline.coaching() is coaching, "cached for a second"
        now[0] += 0.6
        assert pipeline.coaching() is not coaching
