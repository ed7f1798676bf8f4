"""The landmark schema: 33 named points, 35 bones, sides, regions, COCO mapping.

MediaPipe's own ``vision.PoseLandmark`` and ``vision.PoseLandmarksConnections`` are the
independent answer for names, indices and bones."""

import pytest
from mediapipe.tasks.python import vision

from pose_core.schema import (
    BONES,
    COCO_KEYPOINTS,
    INDEX,
    LANDMARKS,
    LIMB_BONES,
    NAMES,
    NUM_LANDMARKS,
    Region,
    Side,
    bone_side,
    index_of,
)

MEDIAPIPE_NAMES = {lm.value: lm.name.lower() for lm in vision.PoseLandmark}
MEDIAPIPE_BONES = [(c.start, c.end) for c in vision.PoseLandmarksConnections.POSE_LANDMARKS]


def _side_by_mediapipe_name(i: int) -> Side:
    """The person's side as MediaPipe's name says: LEFT_EYE, MOUTH_LEFT, ..."""
    name = MEDIAPIPE_NAMES[i]
    return Side.LEFT if "left" in name else Side.RIGHT if "right" in name else Side.CENTER


def test_the_33_landmarks_are_mediapipes_names_and_indices():
    assert len(MEDIAPIPE_NAMES) == NUM_LANDMARKS == 33
    assert [lm.index for lm in LANDMARKS] == list(range(33))
    assert dict(enumerate(NAMES)) == MEDIAPIPE_NAMES
    assert {name: i for i, name in MEDIAPIPE_NAMES.items()} == INDEX


def test_each_landmarks_side_is_the_one_its_mediapipe_name_says():
    assert [lm.side for lm in LANDMARKS] == [_side_by_mediapipe_name(i) for i in range(33)]


def test_every_left_landmark_has_a_right_mirror():
    for lm in LANDMARKS:
        if lm.side is Side.LEFT:
            mirror = LANDMARKS[index_of(lm.name.replace("left", "right"))]
            assert mirror.side is Side.RIGHT and mirror.region is lm.region
    assert LANDMARKS[0].side is Side.CENTER


def test_bones_are_mediapipes_35_pose_connections():
    assert len(MEDIAPIPE_BONES) == 35
    assert list(BONES) == MEDIAPIPE_BONES


def test_a_bone_has_a_side_when_both_its_ends_are_on_it():
    for a, b in MEDIAPIPE_BONES:
        ends = {_side_by_mediapipe_name(a), _side_by_mediapipe_name(b)}
        assert bone_side((a, b)) is (ends.pop() if len(ends) == 1 else Side.CENTER), (a, b)
    assert bone_side((INDEX["left_shoulder"], INDEX["left_elbow"])) is Side.LEFT
    assert bone_side((INDEX["left_shoulder"], INDEX["right_shoulder"])) is Side.CENTER
    assert bone_side((INDEX["mouth_left"], INDEX["mouth_right"])) is Side.CENTER


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


def test_the_limb_bones_are_the_eight_arm_and_leg_segments_of_the_skeleton():
    assert set(LIMB_BONES) <= set(BONES) and len(set(LIMB_BONES)) == 8
    ends = {NAMES[i] for bone in LIMB_BONES for i in bone}
    assert ends == {
        f"{side}_{joint}"
        for side in ("left", "right")
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    }
