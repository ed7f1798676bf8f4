"""The real Pose Landmarker on real photos, through PoseLab's types."""

import subprocess
import sys

import mediapipe as mp
import numpy as np
import pytest
from mediapipe.tasks.python import BaseOptions, vision

from pose_core.images import load_image
from pose_core.inference import PoseEstimator
from pose_core.models import ModelError, resolve_model
from pose_core.types import PoseSettings
from tests.conftest import REPO


def test_the_astronaut_has_one_pose_with_33_landmarks_in_the_right_places(astronaut_rgb, estimator):
    (pose,) = estimator.detect(astronaut_rgb)
    assert pose.landmarks.shape == (33, 3) and pose.world_landmarks.shape == (33, 3)
    assert pose.visibility.shape == pose.presence.shape == (33,)
    assert pose.image_size == (512, 512)
    nose, l_sh, r_sh = pose.landmarks_px[[0, 11, 12]]
    assert 180 < nose[0] < 280 and 100 < nose[1] < 180  # her face, upper middle
    assert l_sh[0] > nose[0] > r_sh[0]  # her left shoulder is on the image's right
    assert l_sh[1] > nose[1] and r_sh[1] > nose[1]
    assert pose.visibility[0] > 0.9 and pose.presence[0] > 0.9
    # World landmarks: metres around the hip centre; the nose is 0.4-0.8 m above the hips.
    assert -0.8 < pose.world_landmarks[0, 1] < -0.4
    assert np.all(np.abs(pose.world_landmarks) < 1.5)


def test_grace_hopper_is_found_too(hopper_jpeg, estimator):
    image = load_image(hopper_jpeg)
    (pose,) = estimator.detect(image.rgb)
    assert pose.image_size == (image.width, image.height) == (512, 600)


def test_no_person_is_an_empty_result_not_an_error(no_person_rgb, estimator):
    assert estimator.detect(no_person_rgb) == ()


def test_two_people_apart_are_two_poses_when_max_poses_allows(astronaut_rgb, hopper_jpeg, estimator):
    hopper = load_image(hopper_jpeg).rgb[44:556]  # 512 rows, like the astronaut
    gap = np.full((512, 256, 3), 255, np.uint8)  # touching portraits are often seen as one person
    pair = np.concatenate([astronaut_rgb, gap, hopper], axis=1)
    with PoseEstimator(PoseSettings(max_poses=2)) as est:
        poses = est.detect(pair)
    assert len(poses) == 2
    assert sorted(p.landmarks_px[0, 0] < 640 for p in poses) == [False, True]  # one nose on each side
    assert len(estimator.detect(pair)) == 1  # max_poses=1 caps it


def test_our_results_equal_the_bare_tasks_landmarker_on_the_same_pixels(astronaut_png, estimator):
    """Nothing in PoseLab's pre-processing changes what the model sees."""
    loaded = load_image(astronaut_png)
    (ours,) = estimator.detect(loaded.rgb)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve_model("full").path)),
        running_mode=vision.RunningMode.IMAGE,
    )
    with vision.PoseLandmarker.create_from_options(options) as bare:
        result = bare.detect(mp.Image.create_from_file(_write_tmp(astronaut_png)))
    theirs = np.array([(p.x, p.y, p.z) for p in result.pose_landmarks[0]], np.float32)
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks[0]], np.float32)
    np.testing.assert_array_equal(ours.landmarks, theirs)
    np.testing.assert_array_equal(ours.world_landmarks, world)
    np.testing.assert_array_equal(ours.visibility, [p.visibility for p in result.pose_landmarks[0]])


def _write_tmp(data: bytes) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
        f.write(data)
    return f.name


def test_segmentation_masks_come_back_at_image_size_when_asked(astronaut_rgb):
    with PoseEstimator(PoseSettings(model="lite", segmentation_masks=True)) as est:
        (pose,) = est.detect(astronaut_rgb)
    mask = pose.segmentation_mask
    assert mask is not None and mask.shape == (512, 512) and mask.dtype == np.uint8
    assert mask[300, 250] > 200  # her suit
    assert mask[20, 480] < 50  # the background, top right


def test_analyze_decodes_and_times_each_stage(astronaut_png, lite_estimator):
    image, analysis = lite_estimator.analyze(astronaut_png)
    assert (analysis.width, analysis.height) == (512, 512) and len(analysis.poses) == 1
    assert set(analysis.timings_ms) == {"decode", "inference"} and all(v >= 0 for v in analysis.timings_ms.values())
    assert image.rgb.shape == (512, 512, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "ultra"}, "choose one of: lite, full, heavy"),
        ({"max_poses": 0}, "max_poses"),
        ({"min_detection_confidence": 1.5}, "min_detection_confidence"),
    ],
)
def test_bad_settings_say_what_is_allowed(kwargs, message):
    with pytest.raises((ModelError, ValueError), match=message):
        PoseSettings(**kwargs)


def test_detect_rejects_arrays_that_are_not_rgb(estimator):
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        estimator.detect(np.zeros((10, 10), np.uint8))


def test_a_pose_can_be_redrawn_on_a_smaller_preview(astronaut_rgb):
    with PoseEstimator(PoseSettings(model="lite", segmentation_masks=True)) as est:
        (pose,) = est.detect(astronaut_rgb)
    small = pose.resized(256, 256)
    assert small.image_size == (256, 256) and small.segmentation_mask.shape == (256, 256)
    np.testing.assert_allclose(small.landmarks_px * 2, pose.landmarks_px, rtol=1e-6)
    assert pose.resized(512, 512) is pose


def test_an_estimator_left_open_does_not_print_a_traceback_at_exit():
    code = (
        "import numpy as np; from pose_core.inference import PoseEstimator; "
        "kept = PoseEstimator(); kept.detect(np.zeros((8, 8, 3), np.uint8))"  # alive until shutdown, like a cache
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr


def test_strided_frames_give_the_same_poses_as_contiguous_ones(astronaut_rgb, estimator):
    padded = np.zeros((512, 520, 3), np.uint8)  # like a video decoder's padded rows
    padded[:, :512] = astronaut_rgb
    view = padded[:, :512]
    assert not view.flags["C_CONTIGUOUS"]
    (from_view,) = estimator.detect(view)
    (from_copy,) = estimator.detect(astronaut_rgb)
    np.testing.assert_array_equal(from_view.landmarks, from_copy.landmarks)
