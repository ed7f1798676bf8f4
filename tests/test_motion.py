"""Movement over time (pose_core.motion): angles along a pose series and their range of
motion, checked on a series whose angles are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pose_core.angles import ANGLE_SPECS
from pose_core.motion import ROM_MIN_CONFIDENCE, angle_series, range_of_motion
from pose_core.series import PoseSeries
from tests.helpers import FIGURE_SIZE, FRAMES, STICK_FIGURE, make_pose

# Person 1's left elbow bends through these angles, one per frame; in the last frame her
# arm is hidden (visibility 0.2), so that reading is the model's guess.
SWEEP_DEGREES = (90.0, 120.0, 150.0, 135.0, 100.0)
HIDDEN_DEGREES = 170.0
HIDDEN_VISIBILITY = 0.2
FOREARM_PX = 50.0


def _bent_left_elbow(degrees: float) -> dict[str, tuple[float, float]]:
    """The stick figure with its left forearm turned so the left elbow is ``degrees``:
    the upper arm points straight up from the elbow, so the wrist sits at that angle from up."""
    ex, ey = STICK_FIGURE["left_elbow"]
    theta = math.radians(degrees)
    return {**STICK_FIGURE, "left_wrist": (ex + FOREARM_PX * math.sin(theta), ey - FOREARM_PX * math.cos(theta))}


@pytest.fixture(scope="module")
def sweep() -> PoseSeries:
    """Person 1 sweeps their left elbow; person 2 stands still and is missing in frame 1."""
    still = make_pose()
    rows = [[make_pose(_bent_left_elbow(d)), still] for d in SWEEP_DEGREES]
    rows.append([make_pose(_bent_left_elbow(HIDDEN_DEGREES), visibility=HIDDEN_VISIBILITY), still])
    rows[1][1] = None
    n = len(rows)
    return PoseSeries.from_rows(list(range(0, 2 * n, 2)), [0.2 * t for t in range(n)], rows, FIGURE_SIZE)


def test_angle_series_has_one_row_per_present_person_frame_and_angle(sweep):
    angles = angle_series(sweep)
    assert list(angles.columns) == ["frame", "time_s", "person", "angle", "degrees_2d", "degrees_3d", "confidence"]
    assert len(angles) == (len(SWEEP_DEGREES) + 1 + len(SWEEP_DEGREES)) * len(ANGLE_SPECS)  # person 2 misses one
    elbow = angles[(angles["person"] == 1) & (angles["angle"] == "left_elbow")]
    assert elbow["frame"].tolist() == [0, 2, 4, 6, 8, 10]
    assert elbow["time_s"].tolist() == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert elbow["degrees_2d"].tolist() == pytest.approx([*SWEEP_DEGREES, HIDDEN_DEGREES], abs=1e-3)
    assert elbow["degrees_3d"].tolist() == pytest.approx([*SWEEP_DEGREES, HIDDEN_DEGREES], abs=1e-3)
    assert elbow["confidence"].tolist() == pytest.approx([1.0] * len(SWEEP_DEGREES) + [HIDDEN_VISIBILITY])
    assert 2 not in angles[angles["frame"] == 2]["person"].tolist()


def test_range_of_motion_spans_the_confident_readings(sweep):
    rom = range_of_motion(angle_series(sweep))  # default: confidence >= ROM_MIN_CONFIDENCE
    assert HIDDEN_VISIBILITY < ROM_MIN_CONFIDENCE <= 1.0
    elbow = rom[(rom["person"] == 1) & (rom["angle"] == "left_elbow")].iloc[0]
    for dim in ("2d", "3d"):
        assert elbow[f"min_{dim}"] == pytest.approx(min(SWEEP_DEGREES), abs=1e-3)
        assert elbow[f"max_{dim}"] == pytest.approx(max(SWEEP_DEGREES), abs=1e-3)
        assert elbow[f"range_{dim}"] == pytest.approx(60.0, abs=1e-3)  # 90 to 150 degrees


def test_a_hidden_joints_guess_counts_only_when_asked(sweep):
    rom = range_of_motion(angle_series(sweep), min_confidence=0.0)
    elbow = rom[(rom["person"] == 1) & (rom["angle"] == "left_elbow")].iloc[0]
    assert elbow["max_2d"] == pytest.approx(HIDDEN_DEGREES, abs=1e-3)
    assert elbow["range_2d"] == pytest.approx(80.0, abs=1e-3)  # 90 to 170 degrees


def test_a_joint_that_does_not_move_has_no_range(sweep):
    rom = range_of_motion(angle_series(sweep)).set_index(["person", "angle"])
    assert rom.loc[(2, "left_elbow"), "range_2d"] == pytest.approx(0.0, abs=1e-6)  # person 2 stands still
    assert rom.loc[(2, "left_elbow"), "min_2d"] == pytest.approx(180.0, abs=1e-3)  # arm hanging straight
    assert rom.loc[(1, "right_elbow"), "range_3d"] == pytest.approx(0.0, abs=1e-6)  # only the left one moves
    assert rom.loc[(1, "right_elbow"), "min_3d"] == pytest.approx(90.0, abs=1e-3)


def test_range_of_motion_lists_people_then_angles_in_the_spec_tables_order(sweep):
    rom = range_of_motion(angle_series(sweep))
    assert list(rom.columns) == ["person", "angle", "min_2d", "max_2d", "range_2d", "min_3d", "max_3d", "range_3d"]
    spec_order = [s.name for s in ANGLE_SPECS]
    assert rom["person"].tolist() == [1] * len(spec_order) + [2] * len(spec_order)
    assert rom["angle"].tolist() == spec_order * 2
    # The figure has no right_foot_index: its right ankle is listed, with no numbers.
    assert rom[rom["angle"] == "right_ankle"][["min_2d", "max_2d", "range_3d"]].isna().all(axis=None)


def test_a_person_sliding_sideways_barely_changes_their_angles(slide_analysis):
    angles = angle_series(slide_analysis.raw)
    assert len(angles) == FRAMES * len(ANGLE_SPECS) and set(angles["person"]) == {1}
    rom = range_of_motion(angles, min_confidence=0.0).set_index("angle")
    assert rom.loc["left_shoulder", "range_2d"] < 15  # the astronaut only slides across the stage
    confident = range_of_motion(angles)
    assert len(confident) < len(rom), "hidden joints' guesses (her legs are out of the picture) are left out"
    assert np.isfinite(confident[["min_2d", "max_2d"]].to_numpy()).all()
