"""Where photos are analysed (pose_core.analysis): the landmarker pool, and how many
landmarkers a crowd search may spread its tiles over."""

from __future__ import annotations

from dataclasses import replace

from pose_core.analysis import MAX_SEARCH_LANES, EstimatorPool, search_lanes, usable_cores
from pose_core.types import PoseSettings

SETTINGS = PoseSettings(model="lite", max_poses=2)


def test_the_pool_keeps_one_landmarker_per_settings_and_lane() -> None:
    with EstimatorPool() as pool:
        first = pool(SETTINGS)
        assert pool(SETTINGS) is first
        assert pool(SETTINGS, 0) is first
        assert pool(replace(SETTINGS, crowd=True)) is first  # crowd mode searches with the same landmarkers
        second = pool(SETTINGS, 1)
        assert second is not first  # a lane of its own: calls on it do not wait for lane 0's
        assert pool(SETTINGS, 1) is second


def test_a_search_gets_a_lane_per_core_its_process_may_use_within_bounds() -> None:
    cores = usable_cores()
    assert cores >= 1
    assert search_lanes() == min(cores, MAX_SEARCH_LANES)
    assert search_lanes(workers=cores) == 1  # processes searching at once take the cores first
    assert search_lanes(workers=10_000) == 1
