"""Overlays: red joints, white bones, faded (not hidden) low-visibility parts, options."""

import cv2
import numpy as np
import pytest

from pose_core import drawing
from pose_core.angles import compute_angles
from pose_core.drawing import MIN_SCREEN_LINE_PX, SCREEN_PX, DrawStyle, draw_overlay
from pose_core.images import encode_png
from pose_core.types import PoseResult
from tests.helpers import make_pose

LEFT_ARM = {"left_shoulder": (50, 50), "left_elbow": (50, 150), "left_wrist": (150, 150)}  # a right angle


def _pose(visibility: float = 1.0) -> PoseResult:
    """On a 200x200 image, all landmarks missing but a right-angled left arm; the
    segmentation mask covers the left half of the image."""
    mask = np.zeros((200, 200), np.uint8)
    mask[:, :100] = 255
    return make_pose(LEFT_ARM, (200, 200), visibility=visibility, mask=mask)


@pytest.fixture
def grey() -> np.ndarray:
    return np.full((200, 200, 3), 100, np.uint8)


def test_joints_are_red_and_bones_white_by_default(grey):
    out = draw_overlay(grey, [_pose()], DrawStyle(line_thickness=3, joint_radius=6))
    assert out[150, 50].tolist() == [230, 30, 30]  # the elbow joint, red
    assert out[100, 50].tolist() == [255, 255, 255]  # midway along shoulder->elbow
    assert out[10, 190].tolist() == [100, 100, 100]  # untouched background
    assert grey[150, 50].tolist() == [100, 100, 100], "the input is not modified"


def test_low_visibility_parts_are_faded_not_hidden(grey):
    style = DrawStyle(visibility_threshold=0.5, faded_opacity=0.3, line_thickness=3, joint_radius=6)
    out = draw_overlay(grey, [_pose(visibility=0.2)], style)

    def faded(colour: tuple[int, ...]) -> list[float]:  # 30 % of the colour over 70 % of the grey background
        return [0.3 * c + 0.7 * 100 for c in colour]

    assert out[100, 50].tolist() == pytest.approx(faded((255, 255, 255)), abs=1)  # a bone
    assert out[150, 50].tolist() == pytest.approx(faded((230, 30, 30)), abs=1)  # the elbow joint


def test_fading_changes_no_pixel_but_those_of_the_faded_parts():
    """The faded parts are blended over a box round them in one go: every pixel of the
    box they do not cover comes out exactly as it went in, on any background."""
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), np.uint8)
    pose = _pose(visibility=0.2)
    covered = (draw_overlay(noise, [pose], DrawStyle(faded_opacity=1.0)) != noise).any(axis=2)
    faded = draw_overlay(noise, [pose], DrawStyle(faded_opacity=0.3))
    assert covered.sum() > 500
    assert np.array_equal(faded[~covered], noise[~covered])
    assert (faded[covered] != noise[covered]).any(axis=1).mean() > 0.9
    assert np.array_equal(draw_overlay(noise, [pose], DrawStyle(faded_opacity=0.0)), noise)  # fully faded: gone


def test_an_overlay_can_be_drawn_into_a_given_array_even_the_image_itself(grey):
    """``out`` (e.g. a video frame's own memory, whose rows may be padded) gets the very
    picture a copy would have: here with faded parts, a mask tint and an angle arc."""
    pose = _pose(visibility=0.2)
    style = DrawStyle(show_mask=True, show_angles=True, angle_names=("left_elbow",), visibility_threshold=0.1)
    angles = [compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility)]
    expected = draw_overlay(grey, [pose], style, angles)
    padded = np.zeros((200, 256, 3), np.uint8)
    out = padded[:, :200]  # rows 256 px apart, as in a frame whose lines are padded
    assert draw_overlay(grey, [pose], style, angles, out=out) is out
    assert np.array_equal(out, expected) and not padded[:, 200:].any()
    assert grey[150, 50].tolist() == [100, 100, 100], "the input is not modified"
    in_place = grey.copy()
    draw_overlay(in_place, [pose], style, angles, out=in_place)
    assert np.array_equal(in_place, expected)
    with pytest.raises(ValueError, match="out must be"):
        draw_overlay(grey, [pose], style, angles, out=np.zeros((100, 200, 3), np.uint8))


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
    assert out[10, 10].tolist() == [int(0.5 * 100 + 0.5 * 255), int(0.5 * 100), int(0.5 * 100)]  # half-way to red
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


def _bone_width(canvas: np.ndarray, row: int, color: tuple[int, int, int]) -> int:
    """How many pixels of ``row`` have exactly the bone's colour (a vertical bone's width)."""
    return int(np.all(canvas[row] == color, axis=1).sum())


def test_a_small_person_on_a_large_photo_still_gets_bones_3_px_wide_on_screen():
    # A person 300 px tall on a 1920 px photo, seen SCREEN_PX wide: 3 screen px = 9 photo px.
    size = (1920, 1080)
    pose = make_pose({"left_shoulder": (960.0, 400.0), "left_elbow": (960.0, 700.0)}, size)
    canvas = draw_overlay(np.full((1080, 1920, 3), 90, np.uint8), [pose], DrawStyle(joint_color=(0, 0, 255)))
    assert _bone_width(canvas, 550, (255, 255, 255)) >= MIN_SCREEN_LINE_PX * 1920 / SCREEN_PX - 1


def test_bones_have_a_dark_outline_so_white_bones_show_on_a_white_wall():
    white = np.full((200, 200, 3), 255, np.uint8)
    pose = make_pose({"left_shoulder": (100.0, 20.0), "left_elbow": (100.0, 180.0)}, (200, 200))
    row = draw_overlay(white, [pose])[100]
    inside = np.flatnonzero(np.all(row == 255, axis=1) == 0)  # the outline's columns
    assert inside.size and row[inside].max(axis=1).min() < 80  # dark edges either side of the bone
    assert np.all(row[100] == 255)  # the bone itself stays white


def test_angle_labels_sit_apart_even_when_their_joints_coincide(grey):
    # Both hips at one point, both knees bent: two labels want the same spot.
    points = {
        "left_shoulder": (95.0, 40.0),
        "right_shoulder": (105.0, 40.0),
        "left_hip": (100.0, 100.0),
        "right_hip": (100.0, 101.0),
        "left_knee": (60.0, 150.0),
        "right_knee": (140.0, 150.0),
        "left_ankle": (60.0, 195.0),
        "right_ankle": (140.0, 195.0),
    }
    pose = make_pose(points, (200, 200))
    taken: list[tuple[int, int, int, int]] = []
    canvas = grey.copy()
    for _ in range(2):
        drawing._label(canvas, "165", (100.0, 120.0), 0.5, (255, 220, 0), taken, directions=drawing._LABEL_SPOTS)
    (a, b) = taken
    assert drawing._overlap(a, b) == 0
    style = DrawStyle(show_angles=True, angle_names=("left_hip", "right_hip"))
    drawn = draw_overlay(
        grey, [pose], style, [compute_angles(pose.landmarks_px, pose.world_landmarks, pose.visibility)]
    )
    assert (np.all(drawn == (255, 220, 0), axis=2)).sum() > 20  # both labels' text is drawn


def test_people_are_numbered_on_the_overlay_only_when_there_are_several(grey):
    left = make_pose({"left_shoulder": (40.0, 60.0), "left_elbow": (40.0, 150.0)}, (200, 200))
    right = make_pose({"left_shoulder": (160.0, 60.0), "left_elbow": (160.0, 150.0)}, (200, 200))
    alone = draw_overlay(grey, [left])
    both = draw_overlay(grey, [left, right])
    number_box = (np.all(both == drawing.OUTLINE, axis=2)).sum()
    assert number_box > (np.all(alone == drawing.OUTLINE, axis=2)).sum() + 200  # two dark number boxes


def test_selected_landmarks_angle_and_person_are_highlighted(grey):
    left = make_pose(
        {"left_shoulder": (40.0, 40.0), "left_elbow": (40.0, 100.0), "left_wrist": (80.0, 100.0)}, (200, 200)
    )
    right = make_pose({"left_shoulder": (160.0, 40.0), "left_elbow": (160.0, 150.0)}, (200, 200))
    plain = draw_overlay(grey, [left, right])
    elbow = drawing.index_of("left_elbow")
    highlighted = draw_overlay(grey, [left, right], DrawStyle(highlight_landmarks=(elbow,), highlight_person=1))
    yellow = _near(highlighted, drawing.HIGHLIGHT)
    assert not _near(plain, drawing.HIGHLIGHT).any() and yellow.any()
    assert yellow[:, :120].sum() > 0 and yellow[:, 130:].sum() == 0  # only person 1 (left) is marked
    readings = [compute_angles(p.landmarks_px, p.world_landmarks, p.visibility) for p in (left, right)]
    arc = draw_overlay(grey, [left], DrawStyle(highlight_angle="left_elbow"), readings[:1])
    assert _near(arc, drawing.HIGHLIGHT).sum() > 20  # its arc, though arcs are off


def _near(canvas: np.ndarray, color: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    """Pixels within ``tolerance`` of ``color`` on every channel (thin lines are anti-aliased)."""
    return np.all(np.abs(canvas.astype(int) - color) <= tolerance, axis=2)
