"""pose_core.evaluation: COCO's keypoint similarity, matching, and reading annotations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pose_core.evaluation import (
    COCO_INDEX,
    COCO_SIGMAS,
    AnnotatedPerson,
    AnnotationError,
    Tally,
    load_coco_keypoints,
    match,
    oks,
)
from pose_core.types import PoseResult

SIZE = (640, 480)


def pose_with(coco_xy: np.ndarray) -> PoseResult:
    """A pose whose 17 COCO keypoints sit at ``coco_xy`` (17, 2) pixels, the rest at 0."""
    landmarks = np.zeros((33, 3), np.float32)
    landmarks[COCO_INDEX, :2] = coco_xy / np.array(SIZE)
    ones = np.ones(33, np.float32)
    return PoseResult(landmarks, ones, ones, np.zeros((33, 3), np.float32), SIZE)


def person_at(coco_xy: np.ndarray, area: float = 10_000.0, labelled: np.ndarray | None = None) -> AnnotatedPerson:
    labelled = np.ones(17, bool) if labelled is None else labelled
    (x0, y0), (x1, y1) = coco_xy.min(axis=0), coco_xy.max(axis=0)
    return AnnotatedPerson(coco_xy.astype(np.float64), labelled, area, (x0, y0, x1, y1))


RNG = np.random.default_rng(0)
BODY = RNG.uniform(100, 300, size=(17, 2))  # a person's 17 keypoints, pixels


def test_oks_is_one_on_the_annotated_points_and_follows_cocos_formula():
    assert oks(pose_with(BODY), person_at(BODY)) == pytest.approx(1.0)
    shifted = BODY + [3.0, 4.0]  # every point 5 px off
    expected = np.mean(np.exp(-25.0 / (2 * 10_000.0 * (2 * COCO_SIGMAS) ** 2)))
    assert oks(pose_with(shifted), person_at(BODY)) == pytest.approx(expected)


def test_oks_counts_only_labelled_keypoints():
    labelled = np.zeros(17, bool)
    labelled[:5] = True  # the head only
    wrong_below_the_head = BODY.copy()
    wrong_below_the_head[5:] += 200.0
    assert oks(pose_with(wrong_below_the_head), person_at(BODY, labelled=labelled)) == pytest.approx(1.0)
    assert oks(pose_with(BODY), person_at(BODY, labelled=np.zeros(17, bool))) == 0.0


def test_a_larger_person_tolerates_a_larger_distance():
    off = pose_with(BODY + 10.0)
    assert oks(off, person_at(BODY, area=40_000.0)) > oks(off, person_at(BODY, area=2_500.0))


def test_match_is_one_to_one_best_first():
    near, far = person_at(BODY), person_at(BODY + 150.0)
    poses = [pose_with(BODY + 150.0), pose_with(BODY + 1.0), pose_with(BODY + 2.0)]
    pairs = match(poses, [near, far])
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 1), (1, 0)]  # the closer of the two near poses wins


def test_tally_counts_a_missed_person_as_zero_and_a_stray_pose_against_precision():
    tally = Tally()
    tally.add([pose_with(BODY), pose_with(BODY + 400.0)], [person_at(BODY), person_at(BODY - 90.0)])
    assert (tally.people, tally.matched, tally.found, tally.true_found) == (2, 1, 2, 1)
    assert tally.recall == 0.5 and tally.precision == 0.5
    assert tally.mean_oks == pytest.approx(0.5, abs=0.01)  # 1.0 and (nearly) 0
    empty = Tally()
    empty.add([], [])
    assert np.isnan(empty.recall) and np.isnan(empty.precision)


def coco_doc() -> dict:
    keypoints = [v for x, y in BODY for v in (float(x), float(y), 2)]
    return {
        "images": [
            {"id": 1, "file_name": "two.jpg", "width": 640, "height": 480},
            {"id": 2, "file_name": "crowd.jpg", "width": 640, "height": 480},
            {"id": 3, "file_name": "empty.jpg", "width": 640, "height": 480},
        ],
        "annotations": [
            {"image_id": 1, "category_id": 1, "keypoints": keypoints, "area": 900.0, "bbox": [10, 20, 30, 60]},
            {"image_id": 1, "category_id": 1, "keypoints": keypoints},  # no area, no box: from the points
            {"image_id": 2, "category_id": 1, "iscrowd": 1, "keypoints": [0] * 51},
            {"image_id": 2, "category_id": 1, "keypoints": [0] * 51, "num_keypoints": 0},
            {"image_id": 3, "category_id": 18},  # a dog
        ],
    }


def test_load_coco_keypoints_scores_people_with_keypoints_and_sets_the_rest_aside(tmp_path):
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps(coco_doc()))
    two, crowd, empty = load_coco_keypoints(path)
    assert [image.file_name for image in (two, crowd, empty)] == ["two.jpg", "crowd.jpg", "empty.jpg"]
    assert len(two.people) == 2 and two.people[0].area == 900.0 and two.people[0].height == 60.0
    np.testing.assert_allclose(two.people[1].keypoints, BODY)
    (x0, y0), (x1, y1) = BODY.min(axis=0), BODY.max(axis=0)
    assert two.people[1].bbox == pytest.approx((x0, y0, x1, y1))
    assert two.people[1].area == pytest.approx(0.5 * (x1 - x0) * (y1 - y0))  # about half its box
    assert not crowd.people and crowd.others == 2 and not crowd.nobody  # someone is there, unscored
    assert empty.nobody  # a dog is nobody


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        ({"annotations": []}, "no 'images' list"),
        ({"images": [{"id": 1}]}, "file_name"),
        ({"images": [], "annotations": [{"image_id": 1, "keypoints": [1, 2, 2]}]}, "51 keypoint numbers"),
        ({"images": [], "annotations": [{"keypoints": [0] * 51}]}, "annotation 0"),
    ],
)
def test_a_file_that_is_not_coco_keypoints_gets_a_clear_error(doc, says):
    with pytest.raises(AnnotationError, match=says):
        load_coco_keypoints(doc)


def test_unreadable_json_is_an_annotation_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(AnnotationError, match="cannot read"):
        load_coco_keypoints(path)
