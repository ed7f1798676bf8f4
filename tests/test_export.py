"""Exports: tidy table, CSV and JSON with the manifest, all from the schema."""

import dataclasses
import io
import json
import math

import numpy as np
import pandas as pd

from pose_core.export import LANDMARK_COLUMNS, ImageRecord, poses_table, to_csv, to_json
from pose_core.models import resolve_model
from pose_core.types import ImageAnalysis, PoseSettings


def _record(estimator, rgb, source="astronaut.png"):
    poses = estimator.detect(rgb)
    return ImageRecord(source=source, analysis=ImageAnalysis(width=rgb.shape[1], height=rgb.shape[0], poses=poses))


def test_the_landmark_table_has_one_row_per_person_and_landmark(astronaut_rgb, estimator):
    record = _record(estimator, astronaut_rgb)
    df = poses_table(record.poses, "astronaut.png")
    assert list(df.columns) == list(LANDMARK_COLUMNS)
    assert len(df) == 33 and df["index"].tolist() == list(range(33))
    nose = df.iloc[0]
    assert (nose["name"], nose["region"], nose["side"], nose["person"]) == ("nose", "face", "center", 1)
    assert math.isclose(nose["x_px"], nose["x"] * 512, rel_tol=1e-6)


def test_csv_round_trips(astronaut_rgb, estimator, no_person_rgb):
    records = [
        _record(estimator, astronaut_rgb),
        _record(estimator, no_person_rgb, "empty.png"),
        ImageRecord(source="bad.jpg", analysis=None, error="not an image"),
    ]
    df = pd.read_csv(io.StringIO(to_csv(records)))
    assert len(df) == 33 and set(df["source"]) == {"astronaut.png"}


def test_json_follows_the_documented_schema(astronaut_rgb, estimator, no_person_rgb):
    records = [
        _record(estimator, astronaut_rgb),
        _record(estimator, no_person_rgb, "empty.png"),
        ImageRecord(source="bad.jpg", analysis=None, error="not an image"),
    ]
    doc = json.loads(to_json(records, PoseSettings(), resolve_model("full")))
    assert doc["pose_core_version"] and doc["mediapipe_version"]
    assert doc["model"]["variant"] == "full" and len(doc["model"]["sha256"]) == 64
    assert doc["settings"]["max_poses"] == 1
    assert {d["name"] for d in doc["angle_definitions"]} >= {"left_elbow", "trunk_inclination"}
    first, empty, bad = doc["images"]
    assert (first["source"], first["width"], first["height"], first["error"]) == ("astronaut.png", 512, 512, None)
    pose = first["poses"][0]
    assert len(pose["landmarks"]) == 33 and len(pose["world_landmarks"]) == 33
    assert set(pose["landmarks"][0]) == {"index", "name", "x", "y", "z", "visibility", "presence"}
    assert set(pose["world_landmarks"][0]) == {"index", "name", "x", "y", "z"}
    assert set(pose["angles"][0]) == {"name", "degrees_2d", "degrees_3d", "confidence"}
    assert empty["poses"] == [] and empty["error"] is None
    assert bad == {"source": "bad.jpg", "width": None, "height": None, "error": "not an image", "poses": []}


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
