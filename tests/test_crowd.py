"""The "find everyone" search (pose_core.crowd) with the real model on real photos: people
pasted on real backgrounds (tests/scenes.py) are found where they were pasted, once each,
numbered left to right; photos with nobody get nobody."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest
from skimage import data

from pose_core.analysis import EstimatorPool
from pose_core.crowd import (
    CrowdSearch,
    CrowdSettings,
    FoundPerson,
    mean_colour,
    painted_out,
    pose_bbox_px,
    pose_similarity,
    run_on_lanes,
    tile_grid,
)
from pose_core.evaluation import match
from pose_core.inference import PoseEstimator
from pose_core.types import PoseResult, PoseSettings
from tests.scenes import (
    REPO_ROOT,
    Scene,
    background,
    background_canvas,
    group_scene,
    make_scene,
    paste,
    portraits,
    reference_poses,
)

CROWD = PoseSettings(model="full", max_poses=6)
CANVAS = (1280, 720)  # big enough that plain mode misses people of ~200 px, small enough to be quick


@pytest.fixture(scope="module")
def search(estimators: EstimatorPool) -> CrowdSearch:
    return CrowdSearch(estimators, CROWD)


@pytest.fixture(scope="module")
def references(estimators: EstimatorPool) -> tuple[PoseResult, ...]:
    return reference_poses(estimators(PoseSettings(model="full", max_poses=1)).detect)


@pytest.fixture(scope="module")
def group(references: tuple[PoseResult, ...]) -> Scene:
    return group_scene(references)


@pytest.fixture(scope="module")
def group_found(search: CrowdSearch, group: Scene) -> tuple[FoundPerson, ...]:
    return search.find(group.rgb)


def test_pasted_people_are_found_where_they_were_pasted(group: Scene, group_found: tuple[FoundPerson, ...]) -> None:
    pairs = match([p.pose for p in group_found], group.people)
    assert len(group_found) == len(group.people) == 3
    assert sorted(j for _, j, _ in pairs) == [0, 1, 2]  # everyone matched by a different pose
    assert all(score >= 0.5 for _, _, score in pairs), pairs  # COCO's "correct pose" line
    for i, j, _ in pairs:
        px0, py0, px1, py1 = group.people[j].box
        for x, y in group_found[i].pose.landmarks_px[[0, 11, 12]]:  # nose and shoulders
            assert px0 <= x <= px1 and py0 <= y <= py1
        x0, y0, x1, y1 = group_found[i].bbox_px  # the box (with guessed hips below) overlaps the paste
        assert x0 < px1 and px0 < x1 and y0 < py1 and py0 < y1


def test_it_finds_people_plain_mode_misses(estimators: EstimatorPool, group: Scene) -> None:
    """Why the search exists: at 720p the detector alone misses people ~200 px tall."""
    plain = estimators(CROWD).detect(group.rgb)
    assert len([s for _, _, s in match(plain, group.people) if s >= 0.5]) < len(group.people)


def test_found_people_are_poses_of_the_whole_image(group: Scene, group_found: tuple[FoundPerson, ...]) -> None:
    height, width = group.rgb.shape[:2]
    for person in group_found:
        assert person.pose.image_size == (width, height)
        assert person.source in {"whole", "tile", "refined"}
        assert 0.0 <= person.score <= 1.0
        assert person.bbox_px == pose_bbox_px(person.pose)
        assert 0 <= person.bbox_px[0] < person.bbox_px[2] <= width
        assert 0 <= person.bbox_px[1] < person.bbox_px[3] <= height
        assert not person.pose.landmarks.flags.writeable
        # World landmarks are metric and do not depend on the crop: hips stay at the origin.
        hips = person.pose.world_landmarks[[23, 24]].mean(axis=0)
        assert np.linalg.norm(hips) < 0.05


def test_people_are_numbered_left_to_right_and_the_same_each_run(
    search: CrowdSearch, group: Scene, group_found: tuple[FoundPerson, ...]
) -> None:
    torso_x = [float(p.pose.landmarks[[11, 12, 23, 24], 0].mean()) for p in group_found]
    assert torso_x == sorted(torso_x)
    pasted_order = sorted(range(3), key=lambda j: group.people[j].box[0])
    matched = {i: j for i, j, _ in match([p.pose for p in group_found], group.people)}
    assert [matched[i] for i in range(3)] == pasted_order  # person k is the k-th from the left

    again = search.find(group.rgb)
    assert [np.array_equal(a.pose.landmarks, b.pose.landmarks) for a, b in zip(group_found, again, strict=True)] == [
        True
    ] * 3


def test_one_person_is_reported_once_and_as_plain_mode_sees_them(
    estimators: EstimatorPool, search: CrowdSearch, references: tuple[PoseResult, ...]
) -> None:
    """A large person is seen by the whole image and by several tiles: one person, and
    exactly plain mode's pose (single-person photos must not get worse)."""
    scene = make_scene(np.random.default_rng(0), references, [520], size=CANVAS, background_name="grass")
    plain = estimators(CROWD).detect(scene.rgb)
    found = search.find(scene.rgb)
    assert len(plain) == 1 and len(found) == 1
    assert found[0].source == "whole"
    assert np.array_equal(found[0].pose.landmarks, plain[0].landmarks)


def test_two_lanes_find_the_same_people_with_the_same_calls(
    estimators: EstimatorPool, group: Scene, group_found: tuple[FoundPerson, ...]
) -> None:
    one_lane = CrowdSearch(estimators, CROWD)
    two_lanes = CrowdSearch(estimators, CROWD, lanes=2)
    assert len(one_lane.find(group.rgb)) == len(group_found)
    found = two_lanes.find(group.rgb)
    assert two_lanes.calls == one_lane.calls
    assert [p.source for p in found] == [p.source for p in group_found]
    for a, b in zip(found, group_found, strict=True):
        assert np.array_equal(a.pose.landmarks, b.pose.landmarks)
        assert a.bbox_px == b.bbox_px and a.score == b.score


@pytest.mark.parametrize("lanes", [1, 2])
def test_the_crops_share_the_tiles_landmarkers(estimators: EstimatorPool, group: Scene, lanes: int) -> None:
    """One landmarker per lane, whatever the search calls it for: whole image, tiles and
    confirmation crops (a crop's few poses would otherwise hold a landmarker of its own)."""
    used: set[tuple[PoseSettings, int]] = set()

    def estimator_for(settings: PoseSettings, lane: int = 0) -> PoseEstimator:
        used.add((settings.landmarker, lane))
        return estimators(settings, lane)

    search = CrowdSearch(estimator_for, CROWD, lanes=lanes)
    search.find(group.rgb)
    tiles = len(tile_grid(group.rgb.shape[1], group.rgb.shape[0]))
    assert search.calls > 1 + tiles  # crops were made (no tile is skipped: nobody is painted out)
    assert sorted(lane for _, lane in used) == list(range(lanes))


def test_jobs_on_lanes_come_back_in_order_and_never_share_a_lane() -> None:
    held: set[int] = set()
    most_at_once = 0
    lock = threading.Lock()

    def job(item: int, lane: int) -> tuple[int, int]:
        nonlocal most_at_once
        with lock:
            assert lane not in held  # one job per landmarker at a time
            held.add(lane)
            most_at_once = max(most_at_once, len(held))
        time.sleep(0.002 * (item % 3))  # uneven jobs, as tiles with and without people are
        with lock:
            held.remove(lane)
        return item * 10, lane

    results = run_on_lanes(3, job, list(range(12)))
    assert [item for item, _ in results] == [i * 10 for i in range(12)]
    assert {lane for _, lane in results} <= {0, 1, 2}
    assert most_at_once <= 3
    assert run_on_lanes(1, job, [1, 2]) == [(10, 0), (20, 0)]  # one lane: lane 0, one after the other
    with pytest.raises(ValueError, match="lanes"):
        CrowdSearch(EstimatorPool(), CROWD, lanes=0)


def test_a_portrait_photo_gives_exactly_plain_modes_pose(estimators: EstimatorPool, search: CrowdSearch) -> None:
    astronaut = data.astronaut()
    found = search.find(astronaut)
    plain = estimators(CROWD).detect(astronaut)
    assert len(found) == len(plain) == 1
    assert np.array_equal(found[0].pose.landmarks, plain[0].landmarks)


def test_tiles_under_the_person_already_found_are_not_searched(estimators: EstimatorPool) -> None:
    """Grace Hopper's portrait at 1080 px: the tiles her painted-out box covers are
    skipped, and the search still returns exactly plain mode's pose."""
    hopper = portraits()[1].rgb
    hopper = cv2.resize(hopper, (round(hopper.shape[1] * 1080 / hopper.shape[0]), 1080))
    every_tile = CrowdSearch(estimators, CROWD, replace(CrowdSettings(), skip_painted_tile=None))
    skipping = CrowdSearch(estimators, CROWD)
    found, plain = skipping.find(hopper), estimators(CROWD).detect(hopper)
    assert len(every_tile.find(hopper)) == len(found) == len(plain) == 1
    assert np.array_equal(found[0].pose.landmarks, plain[0].landmarks)
    assert skipping.calls < every_tile.calls


def test_a_person_the_detector_passes_over_is_found_with_the_others_painted_out(
    estimators: EstimatorPool, references: tuple[PoseResult, ...]
) -> None:
    """MediaPipe's detector reports the most salient person and often nobody else: here two
    people, each a third of the picture; plain mode finds one, and so do tiles that see
    (nearly) what the whole image shows, unless the person already found is painted out."""
    canvas = background_canvas("coffee", (720, 720))
    people = [
        paste(canvas, portraits()[i], references[i], x, y, 300) for i, (x, y) in enumerate([(360, 40), (20, 380)])
    ]
    assert len(estimators(CROWD).detect(canvas)) == 1

    near_whole = CrowdSettings(tile_fractions=(0.95,), fine_fraction=None)  # four 684 px tiles of a 720 px square, only
    assert len(CrowdSearch(estimators, CROWD, replace(near_whole, paint_found=False)).find(canvas)) == 1
    found = CrowdSearch(estimators, CROWD, near_whole).find(canvas)
    assert sorted(p.source for p in found) == ["tile", "whole"]
    assert sorted(j for i, j, score in match([p.pose for p in found], people) if score >= 0.5) == [0, 1]


def test_a_small_picture_is_searched_on_finer_tiles(
    estimators: EstimatorPool, references: tuple[PoseResult, ...]
) -> None:
    """Three people with a 56 px head and torso in a 640 x 480 picture (COCO's size): the
    0.45 tiles' share of the picture would find them at 1080p, but here they have too few
    pixels for the detector; the finer tiles that pictures under 900 px high also get find
    all three."""
    canvas = background_canvas("grass", (640, 480))
    people = [
        paste(canvas, portraits()[i % 2], references[i % 2], x, y, 56)
        for i, (x, y) in enumerate([(60, 80), (300, 300), (520, 150)])
    ]

    def found(crowd: CrowdSettings) -> list[int]:
        poses = [p.pose for p in CrowdSearch(estimators, CROWD, crowd).find(canvas)]
        assert len(poses) <= len(people)
        return sorted(j for i, j, score in match(poses, people) if score >= 0.5)

    assert found(CrowdSettings()) == [0, 1, 2]
    assert len(found(replace(CrowdSettings(), fine_fraction=None))) < 3


def test_a_person_cut_by_every_tile_is_found_again_on_a_crop_around_them(
    estimators: EstimatorPool, references: tuple[PoseResult, ...]
) -> None:
    """Three people with a 120 px head and torso at 1080p (one of bench_people's canvases):
    Grace Hopper, in the middle, straddles the edges of the small tiles that hold her, so
    each tile's pose of her is cut and dropped; looked for again on a larger crop around
    the cut pose, she is found, and the others stay as they were."""
    canvas = background_canvas("coffee", (1920, 1080))
    people = [
        paste(canvas, portraits()[i], references[i], x, y, 120)
        for i, (x, y) in [(0, (1773, 442)), (1, (1269, 690)), (0, (1128, 833))]
    ]
    without = CrowdSearch(estimators, CROWD, replace(CrowdSettings(), rescue_cut=0)).find(canvas)
    found = CrowdSearch(estimators, CROWD).find(canvas)

    def matched(search_found: tuple[FoundPerson, ...]) -> dict[int, str]:
        poses = [p.pose for p in search_found]
        return {j: search_found[i].source for i, j, score in match(poses, people) if score >= 0.5}

    assert matched(without) == {0: "tile", 2: "tile"}
    assert matched(found) == {0: "tile", 1: "refined", 2: "tile"}
    assert len(found) == 3


def test_painting_out_fills_the_grown_boxes_and_nothing_else() -> None:
    rgb = np.arange(100 * 200 * 3, dtype=np.uint32).reshape(100, 200, 3).astype(np.uint8)
    fill = np.array([1, 2, 3], np.uint8)
    out = painted_out(rgb, [(50.0, 20.0, 90.0, 60.0)], margin=0.25, fill=fill)
    painted = np.zeros((100, 200), bool)
    painted[10:70, 40:100] = True  # 40 x 40 box grown by 10 px on each side
    assert (out[painted] == fill).all()
    assert np.array_equal(out[~painted], rgb[~painted])
    assert np.array_equal(rgb, np.arange(100 * 200 * 3, dtype=np.uint32).reshape(100, 200, 3).astype(np.uint8))
    # Boxes past the image's edges are clipped to it.
    assert (painted_out(rgb, [(-50.0, -50.0, 300.0, 300.0)], 0.0, fill) == fill).all()
    assert mean_colour(np.full((64, 64, 3), 7, np.uint8)).tolist() == [7, 7, 7]


@pytest.mark.parametrize("name", ["rocket", "cell", "retina", "brick"])
def test_a_photo_with_nobody_gets_nobody(estimators: EstimatorPool, search: CrowdSearch, name: str) -> None:
    """rocket, cell and retina each gave tile poses with high scores before people found in
    tiles had to be found again on a crop around them."""
    for rgb in (background(name), background_canvas(name, CANVAS)):
        assert search.find(rgb) == ()
        assert len(estimators(CROWD).detect(rgb)) == 0  # plain mode agrees: nobody


def test_never_more_than_max_poses_keeping_the_best(
    estimators: EstimatorPool, group: Scene, group_found: tuple[FoundPerson, ...]
) -> None:
    two = CrowdSearch(estimators, PoseSettings(model="full", max_poses=2)).find(group.rgb)
    assert len(two) == 2
    best = sorted(group_found, key=lambda p: -p.score)[:2]
    assert sorted(p.score for p in two) == pytest.approx(sorted(p.score for p in best), abs=0.05)


def test_pose_similarity_tells_the_same_person_from_a_neighbour(
    group: Scene, group_found: tuple[FoundPerson, ...]
) -> None:
    a, b, _ = (p.pose for p in group_found)
    assert pose_similarity(a, a) == pytest.approx(1.0)
    assert pose_similarity(a, b) == pytest.approx(pose_similarity(b, a))
    assert pose_similarity(a, b) < CrowdSettings().merge_similarity / 3
    # The same pose moved by 1/10 of its torso (shoulder width) is still the same person.
    shoulder_width = abs(a.landmarks[11, 0] - a.landmarks[12, 0])
    moved = PoseResult(
        landmarks=a.landmarks + np.array([0.1 * shoulder_width, 0.0, 0.0], np.float32),
        visibility=a.visibility,
        presence=a.presence,
        world_landmarks=a.world_landmarks,
        image_size=a.image_size,
    )
    assert 0.5 < pose_similarity(a, moved) < 1.0


@pytest.mark.parametrize(
    ("size", "count", "smallest"),
    [
        ((1920, 1080), 17, 486),  # 2 image-high tiles and 5 x 3 of 0.45: the time is set here
        ((3840, 2160), 17, 972),  # the same layout at any size from 900 px high
        ((1280, 720), 49, 216),  # under 900 px high: 0.3 tiles too (8 x 4)
        ((640, 427), 38, 128),  # COCO's usual size: 0.3 tiles just above min_tile_px
        ((512, 512), 25, 154),  # square: no image-high tiles (the whole image is one)
        ((480, 360), 14, 162),  # 0.3 tiles would be 108 px: under min_tile_px
        ((200, 150), 2, 150),
        ((100, 80), 0, None),
    ],
)
def test_tile_layout_follows_the_image_size(size: tuple[int, int], count: int, smallest: int | None) -> None:
    """Tiles scale with the short side, so a 16:9 photo costs the same at any resolution
    from 900 px high; a smaller picture, whose people have fewer pixels, also gets finer
    tiles; tiles under CrowdSettings.min_tile_px are skipped."""
    width, height = size
    tiles = tile_grid(width, height)
    assert len(tiles) == count
    assert min((y1 - y0 for _, y0, _, y1 in tiles), default=None) == smallest
    covered = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in tiles:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert (x0, y0, x1, y1) != (0, 0, width, height)
        covered[y0:y1, x0:x1] = True
    assert covered.all() or not tiles


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="tile_fractions"):
        CrowdSettings(tile_fractions=(2.0,))
    with pytest.raises(ValueError, match="fine_fraction"):
        CrowdSettings(fine_fraction=0.05)
    with pytest.raises(ValueError, match="overlap"):
        CrowdSettings(overlap=0.95)
    with pytest.raises(ValueError, match="skip_painted_tile"):
        CrowdSettings(skip_painted_tile=0.0)
    with pytest.raises(ValueError, match="rescue"):
        CrowdSettings(rescue_scale=0.5)


def test_the_search_imports_neither_mediapipe_nor_streamlit() -> None:
    code = "import sys, pose_core.crowd; print(sorted({'mediapipe', 'streamlit'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
