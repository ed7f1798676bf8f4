"""PoseLab's own data types (pose_core.types): plain, MediaPipe-free, read-only, and
people numbered left to right."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pose_core.errors import SettingsError
from pose_core.inference import PoseEstimator
from pose_core.schema import index_of
from pose_core.types import PoseResult, PoseSettings, is_present, left_to_right, to_pixels
from tests.helpers import REPO, STICK_FIGURE, figure_at, make_pose, shifted

MEDIAPIPE_FREE = (
    "pose_core.types",
    "pose_core.angles",
    "pose_core.drawing",
    "pose_core.plots",
    "pose_core.export",
    "pose_core.series",
    "pose_core.motion",
)


def test_importing_the_library_without_the_model_does_not_load_mediapipe():
    """One fresh interpreter imports each module in turn and notes what it brought in."""
    code = textwrap.dedent(
        f"""
        import importlib, json, sys
        loaded = {{}}
        for name in {list(MEDIAPIPE_FREE)!r}:
            importlib.import_module(name)
            loaded[name] = sorted(m for m in sys.modules if m.partition(".")[0] == "mediapipe")
        print(json.dumps(loaded))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert list(loaded) == list(MEDIAPIPE_FREE), "every module was imported"
    assert {name: found for name, found in loaded.items() if found} == {}, "these load MediaPipe"


POSE_ARRAYS = ("landmarks", "visibility", "presence", "world_landmarks", "segmentation_mask")


@pytest.fixture(scope="module")
def detected(astronaut_rgb) -> PoseResult:
    """The astronaut as the real landmarker finds her, with her segmentation mask."""
    with PoseEstimator(PoseSettings(model="lite", segmentation_masks=True)) as est:
        (pose,) = est.detect(astronaut_rgb)
    return pose


@pytest.mark.parametrize("name", POSE_ARRAYS)
def test_a_detected_pose_is_read_only(detected, name):
    """The app caches results and shares them between sessions: nobody may change one in place."""
    array = getattr(detected, name)
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 0


def test_a_resized_pose_is_read_only_too(detected):
    small = detected.resized(128, 128)
    for name in POSE_ARRAYS:
        with pytest.raises(ValueError, match="read-only"):
            getattr(small, name)[0] = 0


def test_a_pose_made_from_a_view_does_not_change_when_the_viewed_array_does():
    frames = np.zeros((2, 33, 3), np.float32)
    pose = PoseResult(frames[0], np.ones(33), np.ones(33), frames[0], (100, 100))
    frames[0] = 0.5  # the caller still owns (and may reuse) its buffer
    assert np.all(pose.landmarks == 0) and np.all(pose.world_landmarks == 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("landmarks", np.zeros((17, 3))), ("visibility", np.ones(32)), ("world_landmarks", np.zeros((33, 2)))],
)
def test_a_pose_of_the_wrong_shape_is_refused(field, value):
    arrays = {
        "landmarks": np.zeros((33, 3)),
        "visibility": np.ones(33),
        "presence": np.ones(33),
        "world_landmarks": np.zeros((33, 3)),
    }
    with pytest.raises(SettingsError, match=f"PoseResult.{field} must have shape"):
        PoseResult(**{**arrays, field: value}, image_size=(10, 10))


def test_normalised_coordinates_become_pixels_of_width_and_height():
    assert to_pixels(np.array([[0.5, 0.25, 9.0]]), (640, 480)).tolist() == [[320.0, 120.0]]
    pose = make_pose({"nose": (30, 40)}, (256, 512))
    assert pose.landmarks_px[index_of("nose")].tolist() == [30.0, 40.0]


def test_a_pose_is_present_unless_it_is_missing_throughout():
    there, gone = make_pose().landmarks, np.full((33, 3), np.nan)
    assert is_present(np.stack([there, gone])).tolist() == [True, False]


# ---------------------------------------------------------------- left to right


def test_people_are_numbered_left_to_right_by_their_torso():
    middle, left, right = figure_at(900), figure_at(200), figure_at(1500)
    assert left_to_right([middle, left, right]) == (left, middle, right)


def test_the_torso_decides_not_an_outstretched_arm():
    """A person whose arm reaches far to the left still stands where their torso is."""
    reaching = make_pose({**shifted(STICK_FIGURE, 1200), "right_wrist": (10, 150)}, (2000, 1000))  # torso at 1250
    beside = figure_at(1220)  # torso 30 px further left; by the mean of all points, she would be right of him
    assert left_to_right([reaching, beside]) == (beside, reaching)


def test_without_a_torso_the_other_landmarks_place_a_person():
    head_only = make_pose({"nose": (700, 100), "left_ear": (710, 90)}, (2000, 1000))
    assert left_to_right([head_only, figure_at(1200), figure_at(300)])[1] is head_only
