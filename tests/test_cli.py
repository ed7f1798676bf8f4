"""The command line: folders in, JSON/CSV/overlays out, bad files reported, no tracebacks."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pose_core.cli import main
from pose_core.mp4 import faststart
from tests.helpers import REPO, encode, encode_clip, gradient_frames, stage


@pytest.fixture
def photo_dir(tmp_path, astronaut_rgb, hopper_jpeg, no_person_rgb):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "astronaut.png").write_bytes(encode(astronaut_rgb, "PNG"))
    (folder / "hopper.jpg").write_bytes(hopper_jpeg)
    (folder / "landscape.jpg").write_bytes(encode(no_person_rgb))
    (folder / "notes.txt").write_text("not an image, and not picked up from a folder")
    return folder


def test_a_folder_gives_json_csv_and_overlays(photo_dir, tmp_path, capsys):
    out_json, out_csv, overlays = tmp_path / "out.json", tmp_path / "out.csv", tmp_path / "overlays"
    code = main(
        [
            "analyze",
            str(photo_dir),
            "--model",
            "lite",
            "--json",
            str(out_json),
            "--csv",
            str(out_csv),
            "--overlay-dir",
            str(overlays),
        ]
    )
    assert code == 0
    doc = json.loads(out_json.read_text())
    assert [img["source"].rsplit("/", 1)[-1] for img in doc["images"]] == [
        "astronaut.png",
        "hopper.jpg",
        "landscape.jpg",
    ]
    assert [len(img["poses"]) for img in doc["images"]] == [1, 1, 0]
    assert doc["model"]["variant"] == "lite"
    assert out_csv.read_text().count("\n") == 1 + 2 * 33
    assert sorted(p.name for p in overlays.iterdir()) == [
        "astronaut.overlay.png",
        "hopper.overlay.png",
        "landscape.overlay.png",
    ]
    assert "3 image(s), 2 pose(s) found, 0 unreadable" in capsys.readouterr().err


def test_unreadable_inputs_are_reported_and_the_rest_still_go_through(photo_dir, tmp_path, capsys):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    code = main(
        [
            "analyze",
            str(photo_dir / "astronaut.png"),
            str(tmp_path / "broken.jpg"),
            str(tmp_path / "missing.png"),
            "--json",
            "-",
        ]
    )
    assert code == 2
    out, err = capsys.readouterr()
    images = json.loads(out)["images"]
    assert [len(i["poses"]) for i in images] == [1, 0, 0]
    assert images[1]["error"] and images[2]["error"].startswith("cannot read")
    assert "\n" not in images[1]["error"]
    assert "broken.jpg:" in err and "Traceback" not in err


def test_options_reach_the_settings(photo_dir, capsys):
    assert (
        main(
            [
                "analyze",
                str(photo_dir / "hopper.jpg"),
                "--max-poses",
                "3",
                "--min-detection-confidence",
                "0.4",
                "--json",
                "-",
            ]
        )
        == 0
    )
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert settings["max_poses"] == 3 and settings["min_detection_confidence"] == 0.4


def test_bad_option_values_fail_with_a_message(photo_dir, capsys):
    assert main(["analyze", str(photo_dir), "--max-poses", "0"]) == 1
    assert "max_poses must be 1..10" in capsys.readouterr().err


def test_a_real_process_exits_cleanly_without_tracebacks(photo_dir, tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    proc = subprocess.run(
        [sys.executable, "-m", "pose_core", "analyze", str(photo_dir), str(tmp_path / "empty.jpg"), "--json", "-"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Exception" not in proc.stderr
    assert len(json.loads(proc.stdout)["images"]) == 4


def test_video_gives_json_csv_and_an_annotated_mp4(tmp_path, astronaut_rgb, capsys):
    clip = tmp_path / "slide.mp4"
    clip.write_bytes(encode_clip([stage(astronaut_rgb, t) for t in range(8)]))
    out_json, out_csv, out_mp4 = tmp_path / "v.json", tmp_path / "v.csv", tmp_path / "v.mp4"
    code = main(
        [
            "video",
            str(clip),
            "--model",
            "lite",
            "--json",
            str(out_json),
            "--csv",
            str(out_csv),
            "--output",
            str(out_mp4),
            "--stride",
            "2",
            "--smoothing",
            "butterworth",
        ]
    )
    assert code == 0
    doc = json.loads(out_json.read_text())
    assert doc["video"]["source"] == str(clip) and doc["video"]["frames"] == 8
    assert [f["index"] for f in doc["frames"]] == [0, 2, 4, 6]
    assert doc["smoothing"]["method"] == "butterworth" and doc["stride"] == 2
    assert out_csv.read_text().splitlines()[0].startswith("source,frame,time_s,person,index,name")
    assert out_mp4.read_bytes()[4:8] == b"ftyp"
    assert "4 frame(s) analysed" in capsys.readouterr().err


def test_a_broken_video_is_reported_in_one_line(tmp_path, capsys):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 but then nothing useful")
    assert main(["video", str(bad), "--json", "-"]) == 2
    err = capsys.readouterr().err
    assert "holiday.mp4" in err and "Traceback" not in err


def test_an_output_that_cannot_be_written_is_an_error_not_a_traceback(photo_dir, tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder" / "out.json"
    assert main(["analyze", str(photo_dir / "hopper.jpg"), "--json", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "out.json" in err


def test_a_bug_is_not_dressed_up_as_a_one_line_error(photo_dir, monkeypatch):
    """Only PoseLab's own errors become 'error: ...' lines; anything else is a bug and
    must reach the user (and us) with its traceback."""

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ValueError("a bug inside PoseLab")

    monkeypatch.setattr("pose_core.cli.to_json", broken)
    with pytest.raises(ValueError, match="a bug inside PoseLab"):
        main(["analyze", str(photo_dir / "hopper.jpg"), "--json", "-"])


def test_overlays_of_inputs_with_the_same_name_never_overwrite_each_other(tmp_path, hopper_jpeg, astronaut_rgb):
    for folder, name, data in (
        ("a", "pose.jpg", hopper_jpeg),
        ("a", "pose.png", encode(astronaut_rgb, "PNG")),
        ("b", "pose.jpg", encode(astronaut_rgb)),
    ):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_bytes(data)
    out_json, overlays = tmp_path / "out.json", tmp_path / "overlays"
    inputs = [str(tmp_path / "a" / "pose.jpg"), str(tmp_path / "a" / "pose.png"), str(tmp_path / "b" / "pose.jpg")]
    assert main(["analyze", *inputs, "--model", "lite", "--json", str(out_json), "--overlay-dir", str(overlays)]) == 0
    written = sorted(p.name for p in overlays.iterdir())
    assert written == ["pose-2.overlay.png", "pose-3.overlay.png", "pose.overlay.png"]
    mapping = {img["source"]: img["overlay"] for img in json.loads(out_json.read_text())["images"]}
    assert mapping == {
        inputs[0]: str(overlays / "pose.overlay.png"),
        inputs[1]: str(overlays / "pose-2.overlay.png"),
        inputs[2]: str(overlays / "pose-3.overlay.png"),
    }


@pytest.mark.parametrize("name", ["=HYPERLINK(x).jpg", "+SUM(1+1).jpg", "-2+3.jpg", "@cmd.jpg", "\tTAB.jpg"])
def test_file_names_a_spreadsheet_would_run_are_neutralised_in_the_csv(tmp_path, hopper_jpeg, name, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the name as given is the CSV's source cell
    (tmp_path / name).write_bytes(hopper_jpeg)
    assert main(["analyze", "--model", "lite", "--csv", "out.csv", "--json", "out.json", "--", name]) == 0
    with (tmp_path / "out.csv").open(newline="") as f:
        assert {row["source"] for row in csv.DictReader(f)} == {"'" + name}  # text, not a formula
    assert json.loads((tmp_path / "out.json").read_text())["images"][0]["source"] == name  # JSON is data: as is


def test_an_empty_video_file_says_it_is_empty(tmp_path, capsys):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert main(["video", str(empty)]) == 2
    assert "empty.mp4: the file is empty (0 bytes)" in capsys.readouterr().err


def test_a_video_cut_short_is_written_as_far_as_it_goes_with_its_own_exit_status(tmp_path, capsys):
    whole = faststart(encode_clip(gradient_frames(64, 48, 40)))
    clip = tmp_path / "cut.mp4"
    clip.write_bytes(whole[: int(len(whole) * 0.6)])
    out_json = tmp_path / "cut.json"
    assert main(["video", str(clip), "--model", "lite", "--json", str(out_json)]) == 3
    video = json.loads(out_json.read_text())["video"]
    assert video["complete"] is False and video["header_frames"] == 40 and 0 < video["frames"] < 40
    assert "only partly analysed" in capsys.readouterr().err


def test_crowd_mode_finds_a_group_numbers_it_left_to_right_and_says_so(tmp_path):
    from pose_core.inference import PoseEstimator  # noqa: PLC0415
    from pose_core.types import PoseSettings  # noqa: PLC0415
    from tests.scenes import group_scene, reference_poses  # noqa: PLC0415

    with PoseEstimator(PoseSettings()) as plain:
        references = reference_poses(plain.detect)
    canvas = group_scene(references).rgb
    (tmp_path / "group.jpg").write_bytes(encode(canvas))

    def people(*options: str) -> tuple[dict, list[dict]]:
        out = tmp_path / "out.json"
        assert main(["analyze", str(tmp_path / "group.jpg"), "--max-poses", "6", *options, "--json", str(out)]) == 0
        doc = json.loads(out.read_text())
        return doc["settings"], doc["images"][0]["poses"]

    settings, crowd = people("--crowd")
    assert settings["crowd"] is True and len(crowd) == 3
    assert [p["person"] for p in crowd] == [1, 2, 3]
    centres = [(p["bbox"][0] + p["bbox"][2]) / 2 for p in crowd]
    assert centres == sorted(centres) and all(0 < p["confidence"] <= 1 for p in crowd)
    settings, plain_people = people()
    assert settings["crowd"] is False and len(plain_people) < 3


def test_the_installed_poselab_command_is_the_same_command_line():
    """`pip install -e .` (requirements-dev.txt does it) puts `poselab` on the PATH."""
    poselab = shutil.which("poselab") or str(Path(sys.executable).with_name("poselab"))
    proc = subprocess.run([poselab, "--help"], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: poselab")
    assert "analyze" in proc.stdout and "video" in proc.stdout


# ---------------------------------------------------------------- postures and compare


def test_every_pose_has_a_posture_and_a_taught_classifier_replaces_the_rules(photo_dir, tmp_path, capsys):
    from pose_core.postures import teach_classifier
    from tests.helpers import BODY_STANDING, body_pose

    rules = tmp_path / "rules.json"
    assert main(["analyze", str(photo_dir / "astronaut.png"), "--json", str(rules)]) == 0
    posture = json.loads(rules.read_text())["images"][0]["poses"][0]["posture"]
    assert posture["label"] == "unknown" and posture["reason"], "a portrait: no legs to stand on, and it says so"

    reaching = body_pose({**BODY_STANDING, "left_wrist": (0.7, -0.5, 0.0)})
    classifier = teach_classifier([("upright", body_pose(), "a"), ("reaching", reaching, "b")])
    (tmp_path / "taught.json").write_text(classifier.to_json())
    taught = tmp_path / "taught-out.json"
    args = ["analyze", str(photo_dir / "astronaut.png"), "--classifier", str(tmp_path / "taught.json")]
    assert main([*args, "--json", str(taught)]) == 0
    posture = json.loads(taught.read_text())["images"][0]["poses"][0]["posture"]
    assert posture["label"] in {"upright", "reaching"} and "taught classifier" in posture["reason"]

    (tmp_path / "broken.json").write_text("{not json")
    capsys.readouterr()
    assert main(["analyze", str(photo_dir), "--classifier", str(tmp_path / "broken.json")]) == 1
    err = capsys.readouterr().err
    assert "not a readable posture classifier" in err and "Traceback" not in err


def test_compare_two_videos_writes_score_alignment_and_joints(tmp_path, astronaut_rgb, capsys):
    (tmp_path / "teacher.mp4").write_bytes(encode_clip([stage(astronaut_rgb, t) for t in range(8)]))
    (tmp_path / "student.mp4").write_bytes(encode_clip([stage(astronaut_rgb, t // 2) for t in range(16)]))
    out, table = tmp_path / "compare.json", tmp_path / "joints.csv"
    clips = [str(tmp_path / "teacher.mp4"), str(tmp_path / "student.mp4")]
    assert main(["compare", *clips, "--json", str(out), "--csv", str(table)]) == 0
    doc = json.loads(out.read_text())
    assert doc["kind"] == "videos" and 0 <= doc["score"] <= 100
    pairs = doc["alignment"]["pairs"]
    assert pairs[0] == [0, 0] and pairs[-1] == [7, 15], "the warp runs corner to corner"
    assert table.read_text().splitlines()[0] == "name,reference_degrees,other_degrees,difference_degrees"
    assert "of 100" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (("astronaut.png", "hopper.jpg"), "seen clearly in both"),
        (("astronaut.png", "clip.mp4"), "two photos or two videos"),
        (("astronaut.png", "landscape.jpg"), "nobody was found"),
    ],
)
def test_compare_refuses_what_it_cannot_compare_in_one_line(photo_dir, files, message, capsys):
    (photo_dir / "clip.mp4").write_bytes(b"never read")
    capsys.readouterr()
    assert main(["compare", *(str(photo_dir / f) for f in files)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
