"""The landmark schema: 33 named points, 35 bones, sides, regions, COCO mapping."""

import pytest

from pose_core.schema import (
    BONES,
    COCO_KEYPOINTS,
    INDEX,
    LANDMARKS,
    NAMES,
    NUM_LANDMARKS,
    Region,
    Side,
    bone_side,
    index_of,
)


def test_there_are_33_landmarks_indexed_in_order_with_unique_names():
    assert NUM_LANDMARKS == 33
    assert [lm.index for lm in LANDMARKS] == list(range(33))
    assert len(set(NAMES)) == 33
    assert (INDEX["nose"], INDEX["left_shoulder"], INDEX["right_hip"], INDEX["right_foot_index"]) == (0, 11, 24, 32)


def test_every_left_landmark_has_a_right_mirror():
    for lm in LANDMARKS:
        if lm.side is Side.LEFT:
            mirror = LANDMARKS[index_of(lm.name.replace("left", "right"))]
            assert mirror.side is Side.RIGHT and mirror.region is lm.region
    assert LANDMARKS[0].side is Side.CENTER


def test_bones_match_mediapipe_pose_connections():
    assert len(BONES) == 35 and len(set(BONES)) == 35
    assert all(0 <= a < 33 and 0 <= b < 33 and a != b for a, b in BONES)
    assert (11, 13) in BONES and (13, 15) in BONES and (23, 25) in BONES and (27, 31) in BONES
    assert bone_side((11, 13)) is Side.LEFT and bone_side((11, 12)) is Side.CENTER


def test_regions_cover_the_body():
    by_region = {r: [lm.name for lm in LANDMARKS if lm.region is r] for r in Region}
    assert len(by_region[Region.FACE]) == 11
    assert set(by_region[Region.TORSO]) == {"left_shoulder", "right_shoulder", "left_hip", "right_hip"}
    assert "left_knee" in by_region[Region.LEG] and "left_heel" in by_region[Region.FOOT]


def test_coco_mapping_has_the_17_keypoints_in_coco_order():
    assert len(COCO_KEYPOINTS) == 17
    assert COCO_KEYPOINTS[0] == ("nose", 0)
    assert COCO_KEYPOINTS[5] == ("left_shoulder", 11)
    assert COCO_KEYPOINTS[16] == ("right_ankle", 28)


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(KeyError, match="valid names: nose"):
        index_of("left_toe")
