"""Angle conventions, checked on exact geometry."""

import math

import numpy as np
import pytest

from pose_core.angles import ANGLE_SPECS, AngleKind, angle_arrays, compute_angles, definitions, inclination, joint_angle
from pose_core.schema import index_of
from tests.helpers import STICK_FIGURE, make_pose


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [
        ((1, 0), (0, 0), (0, 1), 90.0),  # right angle
        ((-1, 0), (0, 0), (1, 0), 180.0),  # straight limb
        ((1, 0), (0, 0), (1, 0), 0.0),  # folded back on itself
        ((1, 0), (0, 0), (1, 1), 45.0),
        ((1, 0, 0), (0, 0, 0), (0, 0, 1), 90.0),  # 3D right angle
        ((0, 2, 0), (0, 0, 0), (0, -3, 0), 180.0),  # 3D straight, unequal lengths
    ],
)
def test_joint_angle_is_the_interior_angle_at_the_middle_point(a, b, c, expected):
    assert joint_angle(np.array(a), np.array(b), np.array(c)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "c"),
    [
        ((math.nan, 0), (0, 0), (0, 1)),  # a missing landmark
        ((0, 0), (0, 0), (0, 1)),  # zero-length segment
        ((1, 0, 0), (0, 0, math.nan), (0, 1, 0)),
    ],
)
def test_joint_angle_is_nan_when_undefined(a, b, c):
    assert math.isnan(joint_angle(np.array(a), np.array(b), np.array(c)))


def test_inclination_is_measured_from_up_with_y_pointing_down():
    assert inclination(np.array([0, -10]), np.array([0, 0])) == pytest.approx(0.0)  # upright
    assert inclination(np.array([10, 0]), np.array([0, 0])) == pytest.approx(90.0)  # horizontal
    assert inclination(np.array([1, -1]), np.array([0, 0])) == pytest.approx(45.0)
    assert inclination(np.array([0, -1, 1]), np.array([0, 0, 0])) == pytest.approx(45.0)  # 3D


def _standing_pose() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tests.helpers' stick figure as compute_angles takes it: pixels, metres and
    visibilities that rise from 0.5 (nose) to 1.0 (right_foot_index)."""
    pose = make_pose(STICK_FIGURE, visibility=np.linspace(0.5, 1.0, 33))
    return pose.landmarks_px.astype(np.float64), pose.world_landmarks.astype(np.float64), pose.visibility


def _vector(start: str, end: str) -> np.ndarray:
    return np.subtract(STICK_FIGURE[end], STICK_FIGURE[start])


def test_compute_angles_on_a_stick_figure():
    px, world, visibility = _standing_pose()
    got = {r.name: r for r in compute_angles(px, world, visibility)}
    assert got["left_elbow"].degrees_2d == pytest.approx(180.0)  # arm hanging straight
    assert got["right_elbow"].degrees_2d == pytest.approx(90.0)  # forearm horizontal
    assert got["right_elbow"].degrees_3d == pytest.approx(90.0)
    # The upper arm hangs straight down; the trunk's side leans in by 2 px over 100 px.
    assert tuple(_vector("left_shoulder", "left_elbow")) == (0, 50)
    assert tuple(_vector("left_shoulder", "left_hip")) == (-2, 100)
    assert got["left_shoulder"].degrees_2d == pytest.approx(math.degrees(math.atan2(2, 100)))
    assert got["left_shoulder"].degrees_3d == pytest.approx(math.degrees(math.atan2(2, 100)))
    assert got["left_knee"].degrees_2d == pytest.approx(180.0)
    assert got["left_ankle"].degrees_2d == pytest.approx(90.0)  # foot straight forward from the ankle
    assert got["trunk_inclination"].degrees_2d == pytest.approx(0.0)  # shoulders right above the hips
    assert got["neck"].degrees_2d == pytest.approx(180.0)  # ears right above the shoulders
    # A missing landmark gives no number in 2D or 3D.
    assert math.isnan(got["right_ankle"].degrees_2d) and math.isnan(got["right_ankle"].degrees_3d)
    # Confidence is the weakest visibility involved.
    elbow = [index_of(n) for n in ("right_shoulder", "right_elbow", "right_wrist")]
    assert got["right_elbow"].confidence == pytest.approx(visibility[elbow].min())


def test_a_limb_pointing_at_the_camera_differs_between_2d_and_3d():
    px, world, visibility = _standing_pose()
    world[index_of("right_wrist")] = world[index_of("right_elbow")] + [0.0, 0.0, -0.25]  # forearm towards camera
    px[index_of("right_wrist")] = px[index_of("right_elbow")] + [0.0, 5.0]  # foreshortened in the image
    right_elbow = next(r for r in compute_angles(px, world, visibility) if r.name == "right_elbow")
    assert right_elbow.degrees_3d == pytest.approx(90.0)
    assert right_elbow.degrees_2d == pytest.approx(180.0)  # in the image, the short forearm hangs down
    assert right_elbow.difference == pytest.approx(90.0)


def test_the_spec_table_covers_both_sides_and_is_written_down():
    names = {s.name for s in ANGLE_SPECS}
    for joint in ("elbow", "shoulder", "hip", "knee", "ankle"):
        assert {f"left_{joint}", f"right_{joint}"} <= names
    assert {"trunk_inclination", "neck"} <= names
    assert all("180" in s.definition or "0°" in s.definition for s in ANGLE_SPECS)
    assert next(s for s in ANGLE_SPECS if s.name == "trunk_inclination").kind is AngleKind.INCLINATION
    assert [d["name"] for d in definitions()] == [s.name for s in ANGLE_SPECS]


def test_many_poses_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    px = rng.uniform(0, 500, size=(20, 33, 2))
    world = rng.normal(size=(20, 33, 3))
    visibility = rng.uniform(size=(20, 33))
    px[4, 13] = np.nan  # a missing left elbow in one frame
    deg2d, deg3d, confidence = angle_arrays(px, world, visibility)
    assert deg2d.shape == deg3d.shape == confidence.shape == (20, len(ANGLE_SPECS))
    for n in (0, 4, 19):
        one = compute_angles(px[n], world[n], visibility[n])
        np.testing.assert_allclose(deg2d[n], [r.degrees_2d for r in one], equal_nan=True)
        np.testing.assert_allclose(deg3d[n], [r.degrees_3d for r in one], equal_nan=True)
        np.testing.assert_allclose(confidence[n], [r.confidence for r in one])
    assert np.isnan(deg2d[4, [s.name for s in ANGLE_SPECS].index("left_elbow")])


@pytest.mark.parametrize("missing", [(), ("left_wrist",), ("left_hip", "right_ear")])
def test_every_angle_is_its_definition_measured_on_its_points(missing):
    """Each spec, all measured in one go, equals joint_angle / inclination on its points
    (a point named by two landmarks is their mean), for any subset of specs; a missing
    landmark or a segment with no length gives NaN, not a guess."""
    points = {name: xy for name, xy in STICK_FIGURE.items() if name not in missing}
    points["right_elbow"] = points["right_shoulder"]  # the right elbow's upper arm has no length
    pose = make_pose(points, visibility=np.linspace(0.1, 1.0, 33, dtype=np.float32))

    def point(coords, names):
        return np.mean([coords[index_of(n)] for n in names], axis=0)

    def by_definition(spec, coords):
        if spec.kind is AngleKind.INCLINATION:
            return inclination(point(coords, spec.a), point(coords, spec.b))
        return joint_angle(point(coords, spec.a), point(coords, spec.b), point(coords, spec.c))

    for specs in (ANGLE_SPECS, ANGLE_SPECS[::-3]):
        readings = compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility, specs)
        assert [r.name for r in readings] == [s.name for s in specs]
        for spec, reading in zip(specs, readings, strict=True):
            px, world = pose.landmarks_px.astype(np.float64), pose.world_landmarks.astype(np.float64)
            np.testing.assert_allclose(reading.degrees_2d, by_definition(spec, px), equal_nan=True)
            np.testing.assert_allclose(reading.degrees_3d, by_definition(spec, world), equal_nan=True)
            assert reading.confidence == pose.visibility[list(spec.landmark_indices)].min()
    right_elbow = next(
        r for r in compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility) if r.name == "right_elbow"
    )
    assert math.isnan(right_elbow.degrees_2d)
