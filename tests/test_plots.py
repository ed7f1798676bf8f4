"""Plotly figures (pose_core.plots), read back from the figure's own trace data: the 3D
skeleton stands upright with the person's left in the left colour, and angle charts pair
each angle's cleaned line with its raw readings, faded where the joint was not seen."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pose_core.motion import clean_angles
from pose_core.plots import SIDE_COLORS, angles_over_time, landmark_map, skeleton_3d
from pose_core.schema import LANDMARKS, NAMES, Side, index_of
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing
from tests.helpers import FIGURE_SIZE, STICK_FIGURE, make_pose

LEFT = {i for i, name in enumerate(NAMES) if "left" in name}  # the person's left, by the landmark's own name
RIGHT = {i for i, name in enumerate(NAMES) if "right" in name}


def _points(fig) -> dict[int, tuple[float, float, float]]:
    """Plotted (x, depth, up) of each landmark, from the marker traces' own data."""
    out = {}
    for trace in fig.data:
        if trace.mode == "markers":
            for i, x, y, z in zip(trace.customdata, trace.x, trace.y, trace.z, strict=True):
                out[int(i)] = (float(x), float(y), float(z))
    return out


def _traces(fig, mode: str, color: str) -> list:
    return [t for t in fig.data if t.mode == mode and (t.marker.color if mode == "markers" else t.line.color) == color]


def _mean_x(traces) -> float:
    return float(np.nanmean([x for t in traces for x in t.x if x is not None]))  # the stick figure has gaps


@pytest.fixture(scope="module")
def astronaut_pose(astronaut_rgb, estimator):
    (pose,) = estimator.detect(astronaut_rgb)
    return pose


@pytest.fixture(params=["astronaut", "stick figure"])
def facing_pose(request, astronaut_pose):
    """A person facing the camera: the real astronaut, and the hand-made stick figure."""
    return astronaut_pose if request.param == "astronaut" else make_pose()


def test_the_3d_skeleton_stands_upright_with_the_head_above_the_hips(facing_pose):
    fig = skeleton_3d(facing_pose)
    points = _points(fig)
    assert set(points) == set(range(33)), "every landmark is drawn once"
    nose_up = points[index_of("nose")][2]
    hips_up = max(points[index_of("left_hip")][2], points[index_of("right_hip")][2])
    assert nose_up > hips_up + 0.3, "the head is at least 30 cm above the hips, plot z being up"
    assert fig.layout.scene.zaxis.title.text == "up (m)"
    camera = fig.layout.scene.camera
    assert (camera.up.x, camera.up.y, camera.up.z) == (0, 0, 1), "the view keeps plot z up"


def test_the_persons_left_is_drawn_in_the_left_colour_on_the_image_right(facing_pose):
    fig = skeleton_3d(facing_pose)
    left_markers = _traces(fig, "markers", SIDE_COLORS[Side.LEFT])
    right_markers = _traces(fig, "markers", SIDE_COLORS[Side.RIGHT])
    assert {int(i) for t in left_markers for i in t.customdata} == LEFT
    assert {int(i) for t in right_markers for i in t.customdata} == RIGHT
    # Facing the camera, the person's left is on the image's right: larger plot x.
    assert _mean_x(left_markers) > _mean_x(right_markers)
    assert _mean_x(_traces(fig, "lines", SIDE_COLORS[Side.LEFT])) > _mean_x(
        _traces(fig, "lines", SIDE_COLORS[Side.RIGHT])
    )
    points = _points(fig)
    assert points[index_of("left_shoulder")][0] > points[index_of("right_shoulder")][0]


def test_a_person_seen_from_behind_keeps_their_left_colour_on_the_image_left():
    facing = make_pose()
    world = facing.world_landmarks * np.array([-1.0, 1.0, -1.0], np.float32)  # turned round: x and depth flip
    from_behind = make_pose(world=world)
    fig = skeleton_3d(from_behind)
    left_markers = _traces(fig, "markers", SIDE_COLORS[Side.LEFT])
    assert {int(i) for t in left_markers for i in t.customdata} == LEFT
    assert _mean_x(left_markers) < _mean_x(_traces(fig, "markers", SIDE_COLORS[Side.RIGHT]))


def test_bones_are_drawn_between_their_landmarks_in_their_sides_colour(astronaut_pose):
    fig = skeleton_3d(astronaut_pose)
    points = _points(fig)
    (left_bones,) = _traces(fig, "lines", SIDE_COLORS[Side.LEFT])
    segments = {
        (left_bones.x[k], left_bones.z[k], left_bones.x[k + 1], left_bones.z[k + 1])
        for k in range(0, len(left_bones.x), 3)  # each bone is (start, end, None)
    }
    shoulder, elbow = points[index_of("left_shoulder")], points[index_of("left_elbow")]
    assert (shoulder[0], shoulder[2], elbow[0], elbow[2]) in segments  # her left upper arm


def _elbow_series(degrees: list[float], visibility: list[float]) -> PoseSeries:
    rows = []
    for d, v in zip(degrees, visibility, strict=True):
        ex, ey = STICK_FIGURE["left_elbow"]
        wrist = (ex + 50 * math.sin(math.radians(d)), ey - 50 * math.cos(math.radians(d)))
        rows.append([make_pose({**STICK_FIGURE, "left_wrist": wrist}, visibility=v)])
    return PoseSeries.from_rows(list(range(len(rows))), [i / 10 for i in range(len(rows))], rows, FIGURE_SIZE)


def test_angle_charts_draw_seen_readings_solid_and_guesses_dotted_with_a_legend_saying_so():
    degrees = [90, 100, 110, 120, 130, 140, 150, 20, 150, 140, 130, 120]  # a one-frame glitch at frame 7
    visibility = [1.0] * 9 + [0.2] * 3  # the last three frames: the arm hidden
    angles = clean_angles(_elbow_series(degrees, visibility), Smoothing(method="none"))
    fig = angles_over_time(angles, ["left_elbow"], dimension="2d", current_time_s=0.3)
    by_name = {t.name: t for t in fig.data}
    solid, faint, dotted = by_name["Left elbow"], by_name["Left elbow, raw"], by_name["Left elbow, not seen"]
    assert solid.line.color == faint.line.color == dotted.line.color, "one colour per angle"
    assert dotted.line.dash == "dot" and dotted.opacity < solid.opacity and faint.opacity < solid.opacity
    assert list(solid.x) == pytest.approx([i / 10 for i in range(12)])
    assert np.isnan(np.asarray(solid.y[9:], float)).all(), "no solid reading where the joint was not seen"
    assert np.asarray(solid.y[7], float) == pytest.approx(140, abs=1), "the glitch: its neighbours' median"
    assert np.isfinite(np.asarray(dotted.y[9:], float)).all() and np.isnan(np.asarray(dotted.y[:8], float)).all()
    assert by_name["Left elbow, glitch replaced"].x == pytest.approx((0.7,))
    assert any("not seen (confidence < 0.5)" in (t.name or "") for t in fig.data)
    assert list(solid.customdata) == list(range(12)), "a click says which frame"
    assert fig.layout.shapes[0].x0 == pytest.approx(0.3), "the cursor"


def test_the_3d_view_is_a_cube_around_the_person_with_a_floor_and_highlights(astronaut_pose):
    from pose_core.plots import HIGHLIGHT_COLOR  # noqa: PLC0415

    fig = skeleton_3d(astronaut_pose, highlight=[13, 15], person=2)
    scene = fig.layout.scene
    spans = [r[1] - r[0] for r in (scene.xaxis.range, scene.yaxis.range, scene.zaxis.range)]
    assert scene.aspectmode == "cube" and max(spans) - min(spans) < 1e-9  # equal metres on every axis
    up = -astronaut_pose.world_landmarks[:, 1]  # the plot's up is the world's -y
    assert scene.zaxis.range[0] <= np.nanmin(up) and scene.zaxis.range[1] >= np.nanmax(up)  # all of them in view
    selected = next(t for t in fig.data if t.name == "selected")
    assert list(selected.customdata) == [13, 15] and selected.marker.color == HIGHLIGHT_COLOR
    assert "left elbow" in selected.text[0] and "Person 2" in fig.layout.legend.title.text
    floor = fig.data[0]
    assert [z for z in floor.z if z is not None] == pytest.approx([np.nanmin(up)] * 28)  # 7 x 2 lines, 2 ends


def test_the_landmark_map_numbers_and_names_all_33_points():
    fig = landmark_map({"nose": "鼻子"})
    texts = " ".join(a.text for a in fig.layout.annotations) + " ".join(t for tr in fig.data[1:] for t in tr.text)
    for lm in LANDMARKS:
        assert str(lm.index) in texts
    assert "鼻子" in texts and "left knee" in texts
