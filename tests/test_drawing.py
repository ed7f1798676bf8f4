"""Overlays: red joints, white bones, faded (not hidden) low-visibility parts, options."""

import cv2
import numpy as np
import pytest

from pose_core.angles import compute_angles
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.images import encode_png
from pose_core.schema import index_of
from pose_core.types import PoseResult


def _pose(visibility: float = 1.0, size: tuple[int, int] = (200, 200)) -> PoseResult:
    """All landmarks missing except a right-angled left arm."""
    lm = np.full((33, 3), np.nan, np.float32)
    lm[index_of("left_shoulder")] = (0.25, 0.25, 0)
    lm[index_of("left_elbow")] = (0.25, 0.75, 0)
    lm[index_of("left_wrist")] = (0.75, 0.75, 0)
    mask = np.zeros(size[::-1], np.uint8)
    mask[:, :100] = 255
    return PoseResult(
        landmarks=lm,
        visibility=np.full(33, visibility, np.float32),
        presence=np.ones(33, np.float32),
        world_landmarks=lm.copy(),
        image_size=size,
        segmentation_mask=mask,
    )


@pytest.fixture
def grey() -> np.ndarray:
    return np.full((200, 200, 3), 100, np.uint8)


def test_joints_are_red_and_bones_white_by_default(grey):
    out = draw_overlay(grey, [_pose()], DrawStyle(line_thickness=3, joint_radius=6))
    assert out[150, 50].tolist() == [230, 30, 30]  # the elbow joint
    assert out[100, 50].tolist() == [255, 255, 255]  # midway along shoulder->elbow
    assert out[10, 190].tolist() == [100, 100, 100]  # untouched background
    assert grey[150, 50].tolist() == [100, 100, 100], "the input is not modified"


def test_low_visibility_parts_are_faded_not_hidden(grey):
    out = draw_overlay(grey, [_pose(visibility=0.2)], DrawStyle(visibility_threshold=0.5, faded_opacity=0.3))
    bone = out[100, 50].astype(int)
    assert np.all(bone > 100) and np.all(bone < 255)  # between the background and white
    joint = out[150, 50].astype(int)
    assert 100 < joint[0] < 230 and joint[1] < 100  # towards red, not fully red


def test_style_colours_and_mask_tint(grey):
    style = DrawStyle(
        joint_color=(0, 255, 0),
        bone_color=(0, 0, 255),
        show_mask=True,
        mask_opacity=0.5,
        mask_color=(255, 0, 0),
        line_thickness=3,
        joint_radius=6,
    )
    out = draw_overlay(grey, [_pose()], style)
    assert out[150, 50].tolist() == [0, 255, 0]
    assert out[100, 50].tolist() == [0, 0, 255]
    assert out[10, 10].tolist() == [177, 50, 50]  # masked half tinted
    assert out[10, 190].tolist() == [100, 100, 100]  # unmasked half not


def test_angle_arcs_are_drawn_only_when_asked(grey):
    pose = _pose()
    angles = [compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility)]
    plain = draw_overlay(grey, [pose], DrawStyle(angle_names=("left_elbow",)), angles)
    arcs = draw_overlay(grey, [pose], DrawStyle(show_angles=True, angle_names=("left_elbow",)), angles)
    assert (plain != arcs).any(axis=2).sum() > 100  # the arc and its "90" label


def test_missing_landmarks_and_no_poses_draw_nothing(grey):
    assert np.array_equal(draw_overlay(grey, []), grey)
    out = draw_overlay(grey, [_pose()])
    assert out[190, 190].tolist() == [100, 100, 100]


def test_overlays_encode_as_png_losslessly(grey):
    out = draw_overlay(grey, [_pose()])
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(encode_png(out), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert np.array_equal(decoded, out)
