"""Comparing with a reference (pose_core.compare): Procrustes alignment and the 0-100
score on poses whose answer is known by construction (a rotated and scaled copy, a
mirror image, a different pose), the clear refusal on real portraits that show too
little of the body, and time alignment of a time-stretched copy of a movement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pose_core.compare import (
    BODY_INDEX,
    SCORE_DEFINITION,
    ComparisonError,
    aligned_pose,
    compare_poses,
    compare_series,
    procrustes,
    side_by_side,
)
from pose_core.images import decode_preview
from pose_core.motion import clean_angles
from pose_core.repetitions import count_repetitions
from pose_core.series import PoseSeries
from pose_core.types import PoseResult
from tests.helpers import BODY_STANDING, body_pose

# Right arm reaching forward at shoulder height, left arm out to the side: a pose with
# depth, so its mirror image cannot be turned into it (a flat figure's could).
REACH = {
    **BODY_STANDING,
    "right_elbow": (-0.2, -0.5, 0.28),
    "right_wrist": (-0.2, -0.5, 0.56),
    "left_elbow": (0.45, -0.35, 0.0),
    "left_wrist": (0.7, -0.2, 0.0),
}


def _rotation(axis: tuple[float, float, float], degrees: float) -> np.ndarray:
    k = np.asarray(axis, float) / np.linalg.norm(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    t = math.radians(degrees)
    return np.eye(3) + math.sin(t) * kx + (1 - math.cos(t)) * kx @ kx


def _moved(pose: PoseResult, world: np.ndarray) -> PoseResult:
    return PoseResult(
        landmarks=pose.landmarks,
        visibility=pose.visibility,
        presence=pose.presence,
        world_landmarks=world,
        image_size=pose.image_size,
    )


def test_a_rotated_and_scaled_copy_scores_near_100_its_mirror_lower_another_pose_lower_still():
    reach = body_pose(REACH)
    world = reach.world_landmarks.astype(np.float64)
    rotation = _rotation((0.2, 1.0, 0.3), 50)
    copy = compare_poses(reach, _moved(reach, 1.7 * world @ rotation.T + [0.3, -0.1, 2.0]))
    mirror = compare_poses(reach, _moved(reach, world * [-1, 1, 1]))
    other = compare_poses(reach, body_pose(BODY_STANDING))
    assert copy.score > 99.5
    assert copy.alignment.scale == pytest.approx(1.0, abs=1e-6), "torso-normalised first: the scale is absorbed"
    assert mirror.score < copy.score - 15, "no reflection: a mirror image is a different pose"
    assert other.score < mirror.score
    assert np.linalg.det(mirror.alignment.rotation) == pytest.approx(1.0)
    assert "torso lengths" in SCORE_DEFINITION


def test_procrustes_recovers_a_known_rotation_scale_and_shift():
    points = body_pose(REACH).world_landmarks[BODY_INDEX].astype(np.float64)
    rotation = _rotation((1.0, 0.5, 0.0), 30)
    moved = 0.5 * points @ rotation.T + [1.0, 2.0, 3.0]
    found = procrustes(points, moved)
    assert found.scale == pytest.approx(2.0)
    assert found.rotation @ rotation == pytest.approx(np.eye(3), abs=1e-9)
    assert found.rmsd == pytest.approx(0.0, abs=1e-9)
    assert found.apply(moved) == pytest.approx(points)


def test_joint_differences_are_sorted_by_size_and_the_json_has_its_keys():
    reach, standing = body_pose(REACH), body_pose(BODY_STANDING)
    comparison = compare_poses(standing, reach)
    sizes = [abs(j.difference_degrees) for j in comparison.joints]
    assert sizes == sorted(sizes, reverse=True)
    assert comparison.joints[0].name in {"right_shoulder", "left_shoulder"}
    doc = comparison.as_dict()
    assert set(doc) == {"score", "score_definition", "joints", "alignment"}
    assert set(doc["joints"][0]) == {"name", "reference_degrees", "other_degrees", "difference_degrees"}
    assert {"rotation", "scale", "rmsd_torso", "landmarks"} <= set(doc["alignment"])
    drawn = aligned_pose(comparison, standing, reach)
    assert drawn.image_size == standing.image_size and np.isfinite(drawn.landmarks_px[BODY_INDEX]).all()


def test_real_portraits_show_too_little_body_to_compare_and_say_so(estimator, astronaut_rgb, hopper_jpeg):
    astronaut = estimator.detect(astronaut_rgb)[0]
    hopper = estimator.detect(decode_preview(hopper_jpeg))[0]
    with pytest.raises(ComparisonError, match="seen clearly in both"):
        compare_poses(astronaut, hopper)


def _arm_raise_series(degrees: np.ndarray, fps: float = 30.0) -> PoseSeries:
    """One person raising both arms sideways to ``degrees`` at the shoulder, frame by frame."""
    rows = []
    for d in degrees:
        t = math.radians(float(d))
        joints = dict(REACH)
        for side, sign in (("left", 1), ("right", -1)):
            sx, sy, _ = BODY_STANDING[f"{side}_shoulder"]
            joints[f"{side}_elbow"] = (sx + sign * 0.28 * math.sin(t), sy + 0.28 * math.cos(t), 0.0)
            joints[f"{side}_wrist"] = (sx + sign * 0.55 * math.sin(t), sy + 0.55 * math.cos(t), 0.0)
        rows.append([body_pose(joints)])
    return PoseSeries.from_rows(list(range(len(rows))), (np.arange(len(rows)) / fps).tolist(), rows, (512, 512))


def test_a_time_stretched_copy_aligns_back_to_itself():
    t = np.arange(90) / 30.0  # 3 s: two arm raises of different heights, then a pause
    reference = np.interp(t, [0, 0.7, 1.2, 1.9, 2.5, 3.0], [10, 150, 20, 100, 15, 15])
    stretch = 1.5  # the other clip is the same movement, 1.5 times slower
    slow_t = np.arange(round(90 * stretch)) / 30.0
    other = np.interp(slow_t / stretch, t, reference)
    result = compare_series(_arm_raise_series(reference), _arm_raise_series(other), window_s=2.0)
    ref_frames, other_frames = result.path[:, 0], result.path[:, 1]
    assert (np.diff(ref_frames) >= 0).all() and (np.diff(other_frames) >= 0).all()
    assert np.abs(other_frames / stretch - ref_frames).mean() < 1.0, "each frame meets its stretched twin"
    assert result.score > 98
    assert [s.label for s in result.segments] == ["0.0-2.0 s", "2.0-3.0 s"]
    assert result.other_frame_for(60) == pytest.approx(90, abs=2)
    doc = result.as_dict()
    assert {"score", "joints", "alignment", "segments", "repetitions"} <= set(doc)


def test_a_copy_that_does_less_scores_lower_per_repetition():
    t = np.arange(150) / 30.0
    reference = 80 + 70 * np.sin(np.pi * t / 1.25) ** 2  # arm raises to 150 degrees
    timid = 80 + 25 * np.sin(np.pi * t / 1.25) ** 2  # only to 105
    ref_series = _arm_raise_series(reference)
    reps = count_repetitions(clean_angles(ref_series))
    assert reps.count >= 3
    same = compare_series(ref_series, _arm_raise_series(reference), reference_repetitions=reps)
    less = compare_series(ref_series, _arm_raise_series(timid), reference_repetitions=reps)
    assert len(less.repetitions) == reps.count
    assert same.score > 99 and less.score < same.score - 10
    assert all(r.score < 95 for r in less.repetitions)


def test_a_clip_without_the_person_is_refused(slide_analysis):
    with pytest.raises(ComparisonError, match="person 2"):
        compare_series(slide_analysis.raw, slide_analysis.raw, person=2)


def test_two_pictures_side_by_side_share_one_height():
    left, right = np.zeros((100, 80, 3), np.uint8), np.full((50, 100, 3), 255, np.uint8)
    both = side_by_side(left, right, gap=4)
    assert both.shape == (100, 80 + 4 + 200, 3)
