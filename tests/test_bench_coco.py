"""bench/bench_coco.py: the crowd targets' check on annotated photos, run on a small set
made of real photos (people pasted at known places, written as COCO keypoints) and the
real model. Figures here are the bench's output; no time is asserted."""

from __future__ import annotations

import json

import pytest

from bench import bench_coco
from pose_core.analysis import EstimatorPool
from pose_core.types import PoseSettings
from tests.scenes import background_canvas, group_scene, reference_poses, write_coco


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    """A group photo (three people plain mode partly misses), a photo of nobody, and a
    file the annotations name that is not there."""
    with EstimatorPool() as pool:
        references = reference_poses(pool(PoseSettings()).detect)
    folder = tmp_path_factory.mktemp("coco")
    group = group_scene(references)
    path = write_coco(
        folder, [("group.jpg", group.rgb, group.people), ("rocket.jpg", background_canvas("rocket", (960, 540)), ())]
    )
    doc = json.loads(path.read_text())
    doc["images"].append({"id": 99, "file_name": "not-here.jpg", "width": 10, "height": 10})
    path.write_text(json.dumps(doc))
    return folder, path


def test_scores_plain_and_crowd_mode_as_the_targets_are_stated(annotated, tmp_path, capsys):
    folder, annotations = annotated
    out = tmp_path / "figures.json"
    report = bench_coco.main([str(annotations), "--images", str(folder), "--lanes", "1", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert (report["photos"], report["people"], report["photos_with_nobody"], report["photos_missing"]) == (2, 3, 1, 1)
    plain, crowd = report["modes"]["plain"], report["modes"]["crowd"]
    assert set(report["modes"]) == {"plain", "crowd"}  # one lane: no second crowd run
    assert crowd["everyone"]["recall"] == 1.0 > plain["everyone"]["recall"]
    assert crowd["everyone"]["mean_oks"] > 0.55 and crowd["everyone"]["precision"] == 1.0
    assert sum(band["people"] for band in crowd["by_height_px"].values()) == 3
    assert plain["false_people"] == crowd["false_people"] == 0
    assert all(mode["median_ms"] > 0 and "time_ratio" in mode for mode in report["modes"].values())
    printed = capsys.readouterr().out
    assert "all (3)" in printed and "1 annotated photos not found" in printed


def test_annotations_it_cannot_read_end_the_run_with_a_message(tmp_path):
    (tmp_path / "a.json").write_text('{"annotations": []}')
    with pytest.raises(SystemExit, match="no 'images' list"):
        bench_coco.main([str(tmp_path / "a.json"), "--images", str(tmp_path)])
    (tmp_path / "b.json").write_text('{"images": [{"id": 1, "file_name": "x.jpg"}]}')
    with pytest.raises(SystemExit, match="none of the 1 annotated photos"):
        bench_coco.main([str(tmp_path / "b.json"), "--images", str(tmp_path)])
