"""Poses over time (pose_core.series): the series, its read-only arrays, smoothing, and
who is who (IdentityTracker)."""

from __future__ import annotations

import numpy as np
import pytest

from pose_core.series import IdentityTracker, PoseSeries, pack_row, unpack_row
from pose_core.smoothing import Smoothing
from tests.helpers import FIGURE_TORSO_PX, SIZE, STEP_PX, figure_at, make_pose

SERIES_ARRAYS = ("frame_index", "time_s", "landmarks", "visibility", "presence", "world_landmarks")


@pytest.mark.parametrize("name", SERIES_ARRAYS)
def test_a_video_series_is_read_only(slide_analysis, name):
    """The app shares one analysis between sessions: nobody may change it in place."""
    for series in (slide_analysis.raw, slide_analysis.raw.smoothed(Smoothing(method="butterworth"))):
        array = getattr(series, name)
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_a_series_keeps_each_frames_people_in_their_slots():
    a, b = make_pose(), figure_at(400, (512, 512))
    series = PoseSeries.from_rows([0, 2, 4], [0.0, 0.2, 0.4], [[a, None], [a, b], [None, None]], (256, 512))
    assert len(series) == 3 and series.people == 2
    assert series.present.tolist() == [[True, False], [True, True], [False, False]]
    assert series.frames_with_people == 2
    assert series.pose(0, 1) is None and series.poses_at(2) == ()
    again = series.pose(1, 1)
    np.testing.assert_array_equal(again.landmarks, b.landmarks)
    np.testing.assert_array_equal(again.world_landmarks, b.world_landmarks)
    assert again.image_size == (256, 512), "the series' image size, whatever the pose came with"


def test_a_packed_row_unpacks_to_the_same_people_without_the_absent_ones():
    a, b = make_pose(visibility=0.25), figure_at(300, (256, 512))
    (first, second) = unpack_row(pack_row([a, None, b]), (256, 512))
    for got, want in ((first, a), (second, b)):
        for name in ("landmarks", "world_landmarks", "visibility", "presence"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))


def test_smoothing_calms_jitter_in_the_series(slide_analysis):
    raw = slide_analysis.raw
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


# ---------------------------------------------------------------- IdentityTracker
#
# The figures have a torso (shoulder centre to hip centre) of FIGURE_TORSO_PX = 100 px;
# ``figure_at(x)`` puts the hip centre at x on a 2000x1000 image. The tracker's default
# gate is 1.5 torsos, widened by 0.5 torso per missed frame (up to 10 frames).

GATE_PX = 1.5 * FIGURE_TORSO_PX
GROWTH_PX = 0.5 * FIGURE_TORSO_PX


def _slots(assigned: list, *people) -> list[str | None]:
    """Which of ``people`` (by position, as "A", "B", ...) is in each slot."""
    names = {id(p): chr(ord("A") + i) for i, p in enumerate(people)}
    return [names.get(id(p)) if p is not None else None for p in assigned]


def test_first_frame_people_take_slots_in_arrival_order():
    a, b = figure_at(800), figure_at(200)
    assert _slots(IdentityTracker(3, (2000, 1000)).assign((a, b)), a, b) == ["A", "B", None]


def test_people_keep_their_numbers_when_the_landmarker_swaps_their_order():
    tracker = IdentityTracker(2, (2000, 1000))
    a, b = figure_at(300), figure_at(900)
    assert _slots(tracker.assign((a, b)), a, b) == ["A", "B"]
    for step in range(1, 4):  # both walk towards each other, listed in the other order
        a, b = figure_at(300 + 40 * step), figure_at(900 - 40 * step)
        assert _slots(tracker.assign((b, a)), a, b) == ["A", "B"]


def test_the_assignment_is_optimal_not_greedy():
    """A greedy match would give the pose listed first (B, 60 px from A's last place) to A,
    leaving A's real next pose outside B's gate; the optimal one keeps both."""
    tracker = IdentityTracker(2, (2000, 1000))
    a, b = figure_at(300), figure_at(440)
    tracker.assign((a, b))
    a2, b2 = figure_at(200), figure_at(360)  # A moves 100 px left, B 80 px left
    assert _slots(tracker.assign((b2, a2)), a2, b2) == ["A", "B"]


def test_a_newcomer_far_away_does_not_take_a_tracked_persons_slot():
    tracker = IdentityTracker(2, (2000, 1000))
    a = figure_at(300)
    tracker.assign((a,))
    newcomer = figure_at(300 + GATE_PX + 50)  # A is not seen; someone appears outside A's gate
    assert _slots(tracker.assign((newcomer,)), a, newcomer) == [None, "B"], "a fresh slot, not A's"


def test_a_newcomer_is_left_out_rather_than_steal_the_only_slot():
    tracker = IdentityTracker(1, (2000, 1000))
    a = figure_at(300)
    tracker.assign((a,))
    assert tracker.assign((figure_at(300 + GATE_PX + 50),)) == [None]
    back = figure_at(310)  # A comes back near where she was
    assert tracker.assign((back,)) == [back]


def test_the_gate_widens_for_each_frame_a_person_was_missed():
    jump = GATE_PX + 2 * GROWTH_PX - 10  # inside the gate after 2 missed frames, outside after 0 or 1

    tracker = IdentityTracker(1, (2000, 1000))
    tracker.assign((figure_at(300),))
    assert tracker.assign((figure_at(300 + jump),)) == [None], "seen last frame: the gate is 1.5 torsos"

    tracker = IdentityTracker(1, (2000, 1000))
    tracker.assign((figure_at(300),))
    tracker.assign(())
    tracker.assign(())  # missed for 2 frames
    back = figure_at(300 + jump)
    assert tracker.assign((back,)) == [back]


@pytest.mark.parametrize("reuse_after_frames", [3, 30])
def test_a_slot_is_reused_only_after_its_person_is_gone_long_enough(reuse_after_frames):
    tracker = IdentityTracker(1, (2000, 1000), reuse_after_frames=reuse_after_frames)
    tracker.assign((figure_at(100),))
    far = 100 + GATE_PX + 10 * GROWTH_PX + 100  # outside even the widest gate
    for gone in range(reuse_after_frames + 1):  # frames A has been missing before this one
        assert tracker.assign((figure_at(far),)) == [None], f"A gone only {gone} frame(s): her slot waits"
    newcomer = figure_at(far)
    assert tracker.assign((newcomer,)) == [newcomer], "A gone for more than reuse_after_frames: the slot is free"
