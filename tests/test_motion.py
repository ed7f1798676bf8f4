"""Movement over time (pose_core.motion): angles along a pose series, cleaned (confidence
gate, outlier filter, smoothing), and their robust range of motion, checked on series
whose angles are known by construction and on real footage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pose_core.angles import ANGLE_SPECS
from pose_core.motion import (
    ROM_COLUMNS,
    ROM_HEADERS,
    ROM_PERCENTILES,
    OutlierFilter,
    angle_series,
    clean_angles,
    hampel,
    min_sustained_frames,
    range_of_motion,
)
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing
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


def _sweep_series(degrees: np.ndarray, visibility: np.ndarray | None = None, fps: float = 30.0) -> PoseSeries:
    """One person whose left elbow reads ``degrees`` frame by frame."""
    vis = np.ones(len(degrees)) if visibility is None else visibility
    rows = [[make_pose(_bent_left_elbow(float(d)), visibility=float(v))] for d, v in zip(degrees, vis, strict=True)]
    return PoseSeries.from_rows(list(range(len(rows))), (np.arange(len(rows)) / fps).tolist(), rows, FIGURE_SIZE)


# Three slow elbow bends between 90 and 150 degrees over 4 s at 30 fps.
ELBOW = 120.0 - 30.0 * np.cos(np.linspace(0, 6 * np.pi, 120))


def _elbow_rom(series: PoseSeries, smoothing: str = "one-euro") -> pd.Series:
    rom = range_of_motion(clean_angles(series, Smoothing(method=smoothing)))
    return rom[(rom["person"] == 1) & (rom["angle"] == "left_elbow")].iloc[0]


def test_range_of_motion_is_the_5th_to_95th_percentile_of_the_cleaned_readings():
    rom = _elbow_rom(_sweep_series(ELBOW), "none")
    low, high = np.percentile(ELBOW, ROM_PERCENTILES)
    for dim in ("2d", "3d"):
        assert rom[f"low_{dim}"] == pytest.approx(low, abs=0.01)
        assert rom[f"high_{dim}"] == pytest.approx(high, abs=0.01)
        assert rom[f"range_{dim}"] == pytest.approx(high - low, abs=0.02)
    assert rom["readings"] == len(ELBOW)


@pytest.mark.parametrize("smoothing", ["none", "one-euro", "butterworth"])
def test_a_single_frame_spike_moves_the_range_of_motion_by_at_most_a_few_degrees(smoothing):
    clean = _elbow_rom(_sweep_series(ELBOW), smoothing)
    for frame, glitch in ((17, 5.0), (60, 179.0), (100, 30.0)):
        spiked = ELBOW.copy()
        spiked[frame] = glitch
        series = _sweep_series(spiked)
        angles = clean_angles(series, Smoothing(method=smoothing))
        assert angles.replaced_count("2d") >= 1, "the glitch was found and replaced"
        assert angles.replaced["2d"][frame, 0, angles.names.index("left_elbow")]
        rom = _elbow_rom(series, smoothing)
        for column in ("low_2d", "high_2d", "range_2d", "low_3d", "high_3d"):
            assert abs(rom[column] - clean[column]) <= 3.0, (frame, column, rom[column], clean[column])


def test_the_outlier_filter_leaves_a_fast_real_movement_alone():
    fast = np.r_[np.full(20, 170.0), np.linspace(170, 60, 6), np.full(20, 60.0)]  # a whip in 0.2 s, then held
    cleaned, replaced = hampel(fast[:, None])
    assert not replaced.any()
    assert cleaned[:, 0] == pytest.approx(fast)
    # One wrong frame is replaced by its neighbours' median; NaN stays NaN.
    spiked = fast.copy()
    spiked[10], spiked[30] = 20.0, np.nan
    cleaned, replaced = hampel(spiked)
    assert replaced.tolist().count(True) == 1 and cleaned[10] == pytest.approx(170.0)
    assert np.isnan(cleaned[30])
    with pytest.raises(ValueError):
        OutlierFilter(half_window=0)


def test_low_confidence_readings_are_gaps_and_a_glimpse_does_not_count():
    vis = np.ones(len(ELBOW))
    vis[40:80] = HIDDEN_VISIBILITY  # hidden for 1.3 s...
    vis[60] = 1.0  # ...but for one frame
    degrees = ELBOW.copy()
    degrees[40:80] = HIDDEN_DEGREES  # the model's guess while hidden
    series = _sweep_series(degrees, vis)
    angles = clean_angles(series)
    elbow = angles.track("left_elbow", dimension="2d")
    assert np.isnan(elbow[40:60]).all() and np.isnan(elbow[61:80]).all()
    assert np.isfinite(elbow[:40]).all() and np.isfinite(elbow[80:]).all()
    rom = range_of_motion(angles)
    row = rom[rom["angle"] == "left_elbow"].iloc[0]
    assert row["high_2d"] < HIDDEN_DEGREES - 15, "the guess never sets the range"
    assert row["readings"] == len(ELBOW) - 40, "the one-frame glimpse is not a sustained reading"
    assert min_sustained_frames(30.0) == 6
    table = angles.table()
    assert {"degrees_2d", "raw_2d", "confidence", "replaced_3d"} <= set(table.columns)
    assert np.isnan(table[(table["angle"] == "left_elbow") & (table["frame"] == 50)]["degrees_2d"]).all()


def test_range_of_motion_lists_people_then_angles_in_the_spec_tables_order(sweep):
    rom = range_of_motion(clean_angles(sweep))
    assert list(rom.columns) == list(ROM_COLUMNS) and set(ROM_HEADERS) == set(ROM_COLUMNS)
    spec_order = [s.name for s in ANGLE_SPECS]
    assert rom["person"].tolist() == [1] * len(spec_order) + [2] * len(spec_order)
    assert rom["angle"].tolist() == spec_order * 2
    # The figure has no right_foot_index: its right ankle is listed, with no numbers.
    assert rom[rom["angle"] == "right_ankle"][["low_2d", "high_2d", "range_3d"]].isna().all(axis=None)
    assert rom.set_index(["person", "angle"]).loc[(2, "left_elbow"), "range_2d"] == pytest.approx(0.0, abs=1e-6)


def test_a_person_sliding_sideways_barely_changes_their_angles(slide_analysis):
    angles = clean_angles(slide_analysis.raw)
    assert angles.confidence.shape == (FRAMES, 1, len(ANGLE_SPECS))
    rom = range_of_motion(angles).set_index("angle")
    assert rom.loc["left_shoulder", "range_2d"] < 15  # the astronaut only slides across the stage
    # Her legs are out of the picture: no range for them, where the old chart drew guesses.
    assert rom.loc[["left_knee", "right_knee"], ["range_2d", "range_3d"]].isna().all(axis=None)
    assert np.isnan(angles.track("left_knee")).all()
