"""The real Pose Landmarker on real photos, through PoseLab's types."""

import subprocess
import sys

import mediapipe as mp
import numpy as np
import pytest
from mediapipe.tasks.python import BaseOptions, vision

from pose_core.errors import ModelError, SettingsError
from pose_core.images import load_image
from pose_core.inference import PoseEstimator, VideoPoseEstimator
from pose_core.models import resolve_model
from pose_core.types import PoseSettings
from tests.helpers import REPO, stage


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


GAP_PX = 256  # touching portraits are often seen as one person


@pytest.fixture(scope="module")
def two_people(astronaut_rgb, hopper_jpeg):
    """The astronaut and Grace Hopper (cropped to 512 rows) side by side with a white gap,
    in both orders, and where each one's nose is when found alone."""
    hopper = load_image(hopper_jpeg).rgb[44:556]
    gap = np.full((512, GAP_PX, 3), 255, np.uint8)
    with PoseEstimator(PoseSettings(max_poses=2)) as est:
        (astronaut_alone,) = est.detect(astronaut_rgb)
        (hopper_alone,) = est.detect(hopper)
        return {
            "astronaut, hopper": est.detect(np.concatenate([astronaut_rgb, gap, hopper], axis=1)),
            "hopper, astronaut": est.detect(np.concatenate([hopper, gap, astronaut_rgb], axis=1)),
            "noses alone": (astronaut_alone.landmarks_px[0], hopper_alone.landmarks_px[0]),
        }


def test_two_people_are_numbered_left_to_right(two_people):
    astronaut_nose, hopper_nose = two_people["noses alone"]
    shift = np.array([512 + GAP_PX, 0])  # the second portrait's offset on the canvas
    first, second = two_people["astronaut, hopper"]
    np.testing.assert_allclose(first.landmarks_px[0], astronaut_nose, atol=12)
    np.testing.assert_allclose(second.landmarks_px[0], hopper_nose + shift, atol=12)


def test_swapping_two_people_swaps_their_numbers(two_people):
    astronaut_nose, hopper_nose = two_people["noses alone"]
    shift = np.array([512 + GAP_PX, 0])
    first, second = two_people["hopper, astronaut"]
    np.testing.assert_allclose(first.landmarks_px[0], hopper_nose, atol=12)
    np.testing.assert_allclose(second.landmarks_px[0], astronaut_nose + shift, atol=12)


def test_max_poses_caps_the_people_found(astronaut_rgb, hopper_jpeg, estimator):
    hopper = load_image(hopper_jpeg).rgb[44:556]
    pair = np.concatenate([astronaut_rgb, np.full((512, GAP_PX, 3), 255, np.uint8), hopper], axis=1)
    assert len(estimator.detect(pair)) == 1  # the default, max_poses=1


def test_our_results_equal_the_bare_tasks_landmarker_on_the_same_pixels(astronaut_png, estimator, tmp_path):
    """Nothing in PoseLab's pre-processing changes what the model sees."""
    loaded = load_image(astronaut_png)
    (ours,) = estimator.detect(loaded.rgb)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve_model("full").path)),
        running_mode=vision.RunningMode.IMAGE,
    )
    with vision.PoseLandmarker.create_from_options(options) as bare:
        photo = tmp_path / "astronaut.png"
        photo.write_bytes(astronaut_png)
        result = bare.detect(mp.Image.create_from_file(str(photo)))
    theirs = np.array([(p.x, p.y, p.z) for p in result.pose_landmarks[0]], np.float32)
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks[0]], np.float32)
    np.testing.assert_array_equal(ours.landmarks, theirs)
    np.testing.assert_array_equal(ours.world_landmarks, world)
    np.testing.assert_array_equal(ours.visibility, [p.visibility for p in result.pose_landmarks[0]])


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
    ("kwargs", "error", "message"),
    [
        ({"model": "ultra"}, ModelError, "choose one of: lite, full, heavy"),
        ({"max_poses": 0}, SettingsError, r"max_poses must be 1\.\.10, got 0"),
        ({"min_detection_confidence": 1.5}, SettingsError, "min_detection_confidence must be between 0 and 1"),
    ],
)
def test_bad_settings_say_what_is_allowed(kwargs, error, message):
    with pytest.raises(error, match=message):
        PoseSettings(**kwargs)


def test_detect_rejects_arrays_that_are_not_rgb(estimator):
    with pytest.raises(SettingsError, match=r"\(H, W, 3\) uint8"):
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


def test_video_mode_timestamps_must_increase(astronaut_rgb):
    frame = stage(astronaut_rgb, 0)
    with VideoPoseEstimator() as tracker:
        tracker.detect(frame, 100)
        tracker.detect(frame, 100)  # equal: nudged to 101 rather than refused by MediaPipe
        with pytest.raises(SettingsError, match="before the previous frame"):
            tracker.detect(frame, 50)
