"""Exports (pose_core.export): one landmark table for photos and video, CSV and JSON with
the manifest, all from the schema."""

import csv
import dataclasses
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from pose_core.export import (
    ImageRecord,
    neutralise_formula,
    poses_table,
    safe_stem,
    series_table,
    table_csv,
    to_csv,
    to_json,
    unique_names,
    video_json_dict,
)
from pose_core.models import resolve_model
from pose_core.schema import LANDMARKS
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing
from pose_core.types import ImageAnalysis, PoseSettings
from tests.helpers import FIGURE_SIZE, FPS, FRAMES, SIZE, make_pose

# The README's column list: one set for photos and video (frame and time_s blank for photos).
DOCUMENTED_COLUMNS = [
    "source",
    "frame",
    "time_s",
    "person",
    "index",
    "name",
    "region",
    "side",
    "x_px",
    "y_px",
    "x",
    "y",
    "z",
    "world_x_m",
    "world_y_m",
    "world_z_m",
    "visibility",
    "presence",
]


def _record(estimator, rgb, source="astronaut.png"):
    poses = estimator.detect(rgb)
    return ImageRecord(source=source, analysis=ImageAnalysis(width=rgb.shape[1], height=rgb.shape[0], poses=poses))


def test_the_landmark_table_has_the_documented_columns_and_one_row_per_person_and_landmark(astronaut_rgb, estimator):
    record = _record(estimator, astronaut_rgb)
    df = poses_table(record.poses, "astronaut.png")
    assert list(df.columns) == DOCUMENTED_COLUMNS
    assert len(df) == 33 and df["index"].tolist() == list(range(33))
    nose = df.iloc[0]
    assert (nose["name"], nose["region"], nose["side"], nose["person"]) == ("nose", "face", "center", 1)
    assert math.isclose(nose["x_px"], nose["x"] * 512, rel_tol=1e-6)
    assert df[["frame", "time_s"]].isna().all(axis=None), "a photo has no frame or time"


def test_csv_round_trips(astronaut_rgb, estimator, no_person_rgb):
    found = _record(estimator, astronaut_rgb)
    (pose,) = found.poses
    records = [
        found,
        _record(estimator, no_person_rgb, "empty.png"),  # nobody: no rows
        ImageRecord(source="bad.jpg", analysis=None, error="not an image"),  # unreadable: no rows
    ]
    text = to_csv(records)
    assert text.splitlines()[0] == ",".join(DOCUMENTED_COLUMNS)
    assert text.splitlines()[1].startswith("astronaut.png,,,1,0,nose,face,center,"), "blank frame and time_s"
    df = pd.read_csv(io.StringIO(text))
    assert len(df) == 33 and set(df["source"]) == {"astronaut.png"} and set(df["person"]) == {1}
    assert df[["frame", "time_s"]].isna().all(axis=None)
    assert df["name"].tolist() == [lm.name for lm in LANDMARKS]
    assert df["region"].tolist() == [lm.region.value for lm in LANDMARKS]
    assert df["side"].tolist() == [lm.side.value for lm in LANDMARKS]
    six_decimals = 5e-7
    np.testing.assert_allclose(df[["x", "y", "z"]], pose.landmarks, atol=six_decimals)
    np.testing.assert_allclose(df[["world_x_m", "world_y_m", "world_z_m"]], pose.world_landmarks, atol=six_decimals)
    np.testing.assert_allclose(df["visibility"], pose.visibility, atol=six_decimals)
    np.testing.assert_allclose(df["presence"], pose.presence, atol=six_decimals)
    np.testing.assert_allclose(df[["x_px", "y_px"]], pose.landmarks[:, :2] * 512, atol=1e-4)  # a 512x512 photo


def test_a_video_table_has_a_row_per_present_person_and_landmark_with_frame_and_time():
    a, b = make_pose(), make_pose(visibility=0.5)
    series = PoseSeries.from_rows([0, 3, 6], [0.0, 0.1, 0.2], [[a, None], [a, b], [None, b]], FIGURE_SIZE)
    text = table_csv(series_table(series, "walk.mp4"))
    df = pd.read_csv(io.StringIO(text))
    assert list(df.columns) == DOCUMENTED_COLUMNS
    people = df.drop_duplicates(["frame", "person"])[["frame", "time_s", "person"]].to_numpy().tolist()
    assert people == [[0, 0.0, 1], [3, 0.1, 1], [3, 0.1, 2], [6, 0.2, 2]]
    assert len(df) == 4 * 33 and set(df["source"]) == {"walk.mp4"}
    second = df[(df["frame"] == 3) & (df["person"] == 2)]
    np.testing.assert_allclose(second[["x_px", "y_px"]], b.landmarks_px, atol=1e-5)
    assert set(second["visibility"]) == {0.5}


def test_json_follows_the_documented_schema(astronaut_rgb, estimator, no_person_rgb):
    records = [
        _record(estimator, astronaut_rgb),
        _record(estimator, no_person_rgb, "empty.png"),
        ImageRecord(source="bad.jpg", analysis=None, error="not an image"),
    ]
    doc = json.loads(to_json(records, PoseSettings(), resolve_model("full")))
    assert doc["pose_core_version"] and doc["mediapipe_version"]
    assert doc["model"]["variant"] == "full" and len(doc["model"]["sha256"]) == 64
    assert doc["settings"] == dataclasses.asdict(PoseSettings())
    assert {d["name"] for d in doc["angle_definitions"]} >= {"left_elbow", "trunk_inclination"}
    first, empty, bad = doc["images"]
    assert (first["source"], first["width"], first["height"], first["error"]) == ("astronaut.png", 512, 512, None)
    pose = first["poses"][0]
    assert len(pose["landmarks"]) == 33 and len(pose["world_landmarks"]) == 33
    assert set(pose["landmarks"][0]) == {"index", "name", "x", "y", "z", "visibility", "presence"}
    assert set(pose["world_landmarks"][0]) == {"index", "name", "x", "y", "z"}
    assert set(pose["angles"][0]) == {"name", "degrees_2d", "degrees_3d", "confidence"}
    assert empty["poses"] == [] and empty["error"] is None
    assert (bad["source"], bad["width"], bad["height"], bad["error"], bad["poses"]) == (
        "bad.jpg",
        None,
        None,
        "not an image",
        [],
    )


def test_nan_angles_become_null_in_json(astronaut_rgb, estimator):
    found = _record(estimator, astronaut_rgb).poses[0]
    landmarks = found.landmarks.copy()
    landmarks[27:, :] = np.nan  # the ankles and feet go missing
    pose = dataclasses.replace(found, landmarks=landmarks)
    record = ImageRecord("astronaut.png", ImageAnalysis(width=512, height=512, poses=(pose,)))
    text = to_json([record], PoseSettings(), resolve_model("full"))
    assert "NaN" not in text
    ankle = next(a for a in json.loads(text)["images"][0]["poses"][0]["angles"] if a["name"] == "left_ankle")
    assert ankle["degrees_2d"] is None


def test_a_pose_with_missing_landmarks_in_the_frame_exports_its_box_around_the_others():
    pose = make_pose()  # the stick figure: most landmarks missing, presence 1 everywhere
    record = ImageRecord("figure.png", ImageAnalysis(width=FIGURE_SIZE[0], height=FIGURE_SIZE[1], poses=(pose,)))
    doc = json.loads(to_json([record], PoseSettings(), resolve_model("full")))
    assert doc["images"][0]["poses"][0]["bbox"] == [40.0, 60.0, 90.0, 400.0]  # its leftmost, top, right, bottom


def test_video_json_describes_the_clip_and_every_analysed_frame(slide_analysis):
    doc = json.loads(
        json.dumps(video_json_dict(slide_analysis, slide_analysis.raw, Smoothing(), "clip.mp4"), allow_nan=False)
    )
    video = doc["video"]
    assert (video["source"], video["fps"], video["frames"], video["width"], video["height"], video["codec"]) == (
        "clip.mp4",
        FPS,
        FRAMES,
        *SIZE,
        "h264",
    )
    assert video["duration_s"] == pytest.approx(FRAMES / FPS)
    assert [f["index"] for f in doc["frames"]] == list(range(FRAMES))
    assert [f["time_s"] for f in doc["frames"]] == pytest.approx([t / FPS for t in range(FRAMES)])
    pose = doc["frames"][1]["poses"][0]
    assert len(pose["landmarks"]) == 33 and len(pose["angles"]) == 12
    assert doc["smoothing"] == dataclasses.asdict(Smoothing()) and doc["stride"] == 1
    assert doc["model"]["variant"] == "full"
    assert doc["range_of_motion_min_confidence"] == 0.5
    assert {r["person"] for r in doc["range_of_motion"]} == {1}


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("photos/a.jpg", "a"),
        ("..\\..\\x.jpg", "x"),  # a Windows-style path never becomes folders in a ZIP
        ("../../etc/passwd", "passwd"),
        (".hidden.png", "hidden"),
        ("bad\x00name\n.jpg", "badname"),
        ("", "image"),
        ("....", "image"),
    ],
)
def test_safe_stem_keeps_only_a_plain_file_name(name, stem):
    assert safe_stem(name) == stem


def test_unique_names_never_collide_even_across_folders_and_case():
    names = unique_names(["a/pose.jpg", "a/pose.png", "b/pose.jpg", "POSE.jpg", "other.jpg"], ".overlay.png")
    assert names == [
        "pose.overlay.png",
        "pose-2.overlay.png",
        "pose-3.overlay.png",
        "POSE-4.overlay.png",  # macOS and Windows folders ignore case
        "other.overlay.png",
    ]


@pytest.mark.parametrize("cell", ["=HYPERLINK(1)", "+SUM(1+1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not(cell):
    assert neutralise_formula(cell) == "'" + cell
    table = pd.DataFrame({"source": [cell], "x": [-2.5]})
    (row,) = csv.DictReader(io.StringIO(table_csv(table), newline=""))
    # The number stays a number; a line break inside text would split the row, so it is a space.
    assert row == {"source": "'" + cell.replace("\r", " "), "x": "-2.500000"}
    assert neutralise_formula("photo.jpg") == "photo.jpg" and neutralise_formula(-2.5) == -2.5
