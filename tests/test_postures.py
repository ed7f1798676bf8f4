"""Postures (pose_core.postures): the rule table on real photos whose posture is obvious,
and on hand-made bodies that stand in for geometry only (no full-body photo ships with
the packages we use: the astronaut and Grace Hopper are upper-body portraits); and the
k-nearest-neighbours classifier a user teaches, through its JSON file."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pytest

from pose_core.postures import (
    FEATURE_BY_NAME,
    POSTURE_RULES,
    POSTURES,
    ClassifierError,
    PostureClassifier,
    classify_posture,
    examples_from_zip,
    posture_features,
    teach_classifier,
)
from tests.helpers import BODY_STANDING, body_pose


def _with(**moved: tuple[float, float, float]) -> dict[str, tuple[float, float, float]]:
    return {**BODY_STANDING, **moved}


# Body coordinates: metres to the person's left, down, forward; hip centre at 0.
T_POSE = _with(
    left_elbow=(0.46, -0.5, 0.0),
    right_elbow=(-0.46, -0.5, 0.0),
    left_wrist=(0.74, -0.5, 0.0),
    right_wrist=(-0.74, -0.5, 0.0),
)
ARMS_RAISED = _with(
    left_elbow=(0.2, -0.78, 0.0),
    right_elbow=(-0.2, -0.78, 0.0),
    left_wrist=(0.22, -1.06, 0.0),
    right_wrist=(-0.22, -1.06, 0.0),
)
# On a chair: thighs forward and level, shins down, trunk upright.
SITTING = _with(
    left_knee=(0.1, 0.0, 0.45),
    right_knee=(-0.1, 0.0, 0.45),
    left_ankle=(0.1, 0.45, 0.45),
    right_ankle=(-0.1, 0.45, 0.45),
    left_foot_index=(0.1, 0.47, 0.6),
    right_foot_index=(-0.1, 0.47, 0.6),
)
# A squat: hips back and low, knees forward over the toes, trunk leaning 40 degrees forward.
_LEAN = (0.5 * math.cos(math.radians(40)), 0.5 * math.sin(math.radians(40)))
SQUATTING = _with(
    left_shoulder=(0.18, -_LEAN[0], _LEAN[1]),
    right_shoulder=(-0.18, -_LEAN[0], _LEAN[1]),
    nose=(0.0, -_LEAN[0] - 0.1, _LEAN[1] + 0.1),
    left_ear=(0.07, -_LEAN[0] - 0.1, _LEAN[1]),
    right_ear=(-0.07, -_LEAN[0] - 0.1, _LEAN[1]),
    left_elbow=(0.2, -0.1, 0.4),
    right_elbow=(-0.2, -0.1, 0.4),
    left_wrist=(0.2, -0.1, 0.65),
    right_wrist=(-0.2, -0.1, 0.65),
    left_knee=(0.15, 0.05, 0.43),
    right_knee=(-0.15, 0.05, 0.43),
    left_ankle=(0.12, 0.47, 0.25),
    right_ankle=(-0.12, 0.47, 0.25),
    left_foot_index=(0.12, 0.49, 0.4),
    right_foot_index=(-0.12, 0.49, 0.4),
)
# Both knees on the floor, thighs upright, shins flat behind.
KNEELING = _with(
    left_knee=(0.1, 0.45, 0.0),
    right_knee=(-0.1, 0.45, 0.0),
    left_ankle=(0.1, 0.5, -0.42),
    right_ankle=(-0.1, 0.5, -0.42),
    left_foot_index=(0.1, 0.52, -0.5),
    right_foot_index=(-0.1, 0.52, -0.5),
)
# Left foot forward with the knee at 90 degrees, right leg back, its knee near the floor.
LUNGE = _with(
    left_knee=(0.1, 0.0, 0.45),
    left_ankle=(0.1, 0.45, 0.45),
    left_foot_index=(0.1, 0.47, 0.6),
    right_knee=(-0.1, 0.35, -0.3),
    right_ankle=(-0.1, 0.45, -0.72),
    right_foot_index=(-0.1, 0.47, -0.8),
)


@pytest.mark.parametrize(
    ("joints", "view", "expected"),
    [
        (BODY_STANDING, "front", "standing"),
        (BODY_STANDING, "side", "standing"),
        (T_POSE, "front", "T-pose"),
        (ARMS_RAISED, "front", "arms raised"),
        (SITTING, "side", "sitting"),
        (SQUATTING, "side", "squatting"),
        (KNEELING, "side", "kneeling"),
        (LUNGE, "side", "lunge"),
    ],
)
def test_hand_made_bodies_get_their_posture_with_the_measurements_as_reason(joints, view, expected):
    posture = classify_posture(body_pose(joints, view=view))
    assert posture.label == expected, posture.reason
    rule = next(r for r in POSTURE_RULES if r.label == expected)
    assert FEATURE_BY_NAME[rule.conditions[0].feature].label in posture.reason
    assert "°" in posture.reason or "torso" in posture.reason


def test_every_posture_the_rules_name_is_covered_above():
    assert set(POSTURES) == {"lying", "T-pose", "arms raised", "kneeling", "lunge", "squatting", "sitting", "standing"}


def test_a_body_the_model_could_not_see_is_unknown_not_guessed():
    hidden = body_pose()
    faded = type(hidden)(
        landmarks=hidden.landmarks,
        visibility=np.full(33, 0.1, np.float32),
        presence=hidden.presence,
        world_landmarks=hidden.world_landmarks,
        image_size=hidden.image_size,
    )
    assert all(math.isnan(v) for v in posture_features(faded).values())
    assert classify_posture(faded).label == "unknown"


def test_real_photos_upright_and_on_their_side(estimator, astronaut_rgb):
    """The astronaut stands upright; turned a quarter either way, she lies. Her legs
    are out of the picture, so upright alone names no posture: PoseLab says so."""
    upright = estimator.detect(astronaut_rgb)[0]
    assert classify_posture(upright).label == "unknown"
    for turns in (1, 3):
        lying = classify_posture(estimator.detect(np.ascontiguousarray(np.rot90(astronaut_rgb, turns)))[0])
        assert lying.label == "lying", lying.reason
        assert "trunk from vertical" in lying.reason


def test_a_taught_classifier_names_new_poses_and_survives_its_json_file():
    examples = [
        (label, body_pose(joints, view=view), f"{label}-{view}.jpg")
        for label, joints in (("star", T_POSE), ("reach", ARMS_RAISED), ("seat", SITTING))
        for view in ("front", "side")
    ]
    classifier = teach_classifier(examples, k=1)
    assert classifier.classes == ("reach", "seat", "star")
    again = PostureClassifier.from_json(classifier.to_json())
    assert again.labels == classifier.labels and np.allclose(again.embeddings, classifier.embeddings, atol=1e-4)
    # A slightly different T-pose, scaled (a taller person), is still a star.
    taller = {name: (1.2 * a, 1.2 * b, 1.2 * c) for name, (a, b, c) in T_POSE.items()}
    taller["left_wrist"] = (0.9, -0.55, 0.05)
    posture = again.classify(body_pose(taller))
    assert posture.label == "star" and "nearest" in posture.reason
    assert again.classify(body_pose(SITTING, view="side")).label == "seat"
    assert len(classifier.to_json()) < 10_000, "a small file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a readable"),
        ('{"format": "something else"}', "not a PoseLab posture classifier"),
        ('{"format": "poselab-posture-classifier", "embedding": "poselab-pairs-v1", "examples": []}', "at least one"),
    ],
)
def test_a_bad_classifier_file_gets_a_clear_message(text, message):
    with pytest.raises(ClassifierError, match=message):
        PostureClassifier.from_json(text)


def test_one_class_is_not_enough_to_teach():
    with pytest.raises(ClassifierError, match="two classes"):
        teach_classifier([("only", body_pose(), "a.jpg")])


def test_a_zip_with_a_folder_per_class_gives_labelled_examples():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("poses/squat/a.jpg", b"1")
        archive.writestr("poses/squat/b.PNG", b"2")
        archive.writestr("poses/stand/c.jpg", b"3")
        archive.writestr("poses/stand/notes.txt", b"not a picture")
        archive.writestr("__MACOSX/poses/stand/._c.jpg", b"junk")
    examples = examples_from_zip(buf.getvalue())
    assert sorted((label, name) for label, name, _ in examples) == [
        ("squat", "a.jpg"),
        ("squat", "b.PNG"),
        ("stand", "c.jpg"),
    ]
    with pytest.raises(ClassifierError, match="not a ZIP"):
        examples_from_zip(b"nope")
