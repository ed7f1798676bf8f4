"""The README's documented output against the real command line's output, so the two
cannot drift apart: every key the README's ```jsonc blocks show is in the JSON, every
key in the JSON is shown there, and each CSV column list is the real header.

The README's ```jsonc blocks are JSON plus ``//`` and ``/* */`` comments and ``...``
("more items like the one before", in a list). Values are examples; only keys and the
kind of value (text, number, true/false, list, object) are checked. A list is checked
item by item against its one documented item.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pose_core.cli import main
from tests.helpers import REPO, encode, encode_clip, stage

README = (REPO / "README.md").read_text(encoding="utf-8")


def _jsonc_to_json(text: str) -> str:
    """README JSON (comments, ``...`` and ``... 33`` list items) as plain JSON."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':  # a string, copied as it is
            end = i + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif text.startswith("...", i):
            if stack[-1] != "[":
                raise ValueError(f"'...' outside a list at {text[max(0, i - 40) : i + 3]!r}: list every key")
            i += 3
            while i < len(text) and (text[i].isdigit() or text[i] in " \t"):
                i += 1  # "... 33": how many there are
        else:
            if ch in "[{":
                stack.append(ch)
            elif ch in "]}":
                stack.pop()
            out.append(ch)
            i += 1
    plain = "".join(out)
    plain = re.sub(r",(\s*,)+", ",", plain)  # an item left out between two commas
    return re.sub(r",\s*([\]}])", r"\1", plain)  # or at the end of a list


def documented_json(command: str) -> dict:
    """The ```jsonc block that follows the README's ``python -m pose_core <command>`` example."""
    start = README.index(f"python -m pose_core {command} ")
    block = re.search(r"```jsonc\n(.*?)```", README[start:], re.DOTALL)
    assert block, f"no ```jsonc block after the {command} example"
    return json.loads(_jsonc_to_json(block.group(1)))


def documented_csv_columns() -> list[list[str]]:
    """Each "The CSV has one row per ...: `a, b, c`" sentence's column list, in README order."""
    return [
        [c.strip() for c in columns.split(",")]
        for columns in re.findall(r"The CSV has one row per [^:]*:\s*`([^`]*)`", README)
    ]


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "text", list: "list", dict: "object"}[type(value)]


def mismatches(documented: object, real: object, path: str = "$") -> list[str]:
    """Where ``real`` has keys the README does not show, lacks keys it shows, or holds
    another kind of value. A real null matches anything (missing values are null)."""
    if real is None or documented is None:
        return []
    if _kind(documented) != _kind(real):
        return [f"{path}: README shows {_kind(documented)}, output has {_kind(real)}"]
    found: list[str] = []
    if isinstance(documented, dict):
        assert isinstance(real, dict)
        found += [f"{path}.{k}: in the output, not in the README" for k in real.keys() - documented.keys()]
        found += [f"{path}.{k}: in the README, not in the output" for k in documented.keys() - real.keys()]
        for key in documented.keys() & real.keys():
            found += mismatches(documented[key], real[key], f"{path}.{key}")
    elif isinstance(documented, list) and documented and isinstance(documented[0], dict):
        assert isinstance(real, list)
        for item in real:
            found += mismatches(documented[0], item, f"{path}[*]")
    return found


def test_the_readme_jsonc_reader_understands_comments_and_ellipses():
    text = '{"a": [{"b": 1}, ... 33], "c": "x // not a comment", // a comment\n "d": [ /* as above */ ], "e": [1, ...]}'
    assert json.loads(_jsonc_to_json(text)) == {"a": [{"b": 1}], "c": "x // not a comment", "d": [], "e": [1]}
    with pytest.raises(ValueError, match="list every key"):
        _jsonc_to_json('{"a": 1, ...}')
    assert set(mismatches({"a": 1, "b": [{"c": "x"}], "e": 0}, {"a": 2, "b": [{"c": "y"}, {"c": 3, "d": 4}]})) == {
        "$.e: in the README, not in the output",
        "$.b[*].d: in the output, not in the README",
        "$.b[*].c: README shows text, output has number",
    }


@pytest.fixture(scope="module")
def photo_outputs(tmp_path_factory, astronaut_rgb, no_person_rgb) -> tuple[dict, str]:
    """``analyze`` (with overlays) on the astronaut, an unreadable file and a picture of nobody."""
    folder = tmp_path_factory.mktemp("readme-photos")
    (folder / "astronaut.png").write_bytes(encode(astronaut_rgb, "PNG"))
    (folder / "broken.jpg").write_bytes(b"not a picture")
    (folder / "wall.png").write_bytes(encode(no_person_rgb, "PNG"))
    json_path, csv_path, overlays = folder / "out.json", folder / "out.csv", folder / "overlays"
    args = ["analyze", str(folder), "--json", str(json_path), "--csv", str(csv_path), "--overlay-dir", str(overlays)]
    assert main(args) == 2  # one unreadable
    return json.loads(json_path.read_text()), csv_path.read_text()


@pytest.fixture(scope="module")
def video_outputs(tmp_path_factory, astronaut_rgb) -> tuple[dict, str]:
    """``video`` on six frames of the astronaut sliding across a stage."""
    folder = tmp_path_factory.mktemp("readme-video")
    clip = folder / "slide.mp4"
    clip.write_bytes(encode_clip([stage(astronaut_rgb, t) for t in range(6)]))
    json_path, csv_path = folder / "out.json", folder / "out.csv"
    assert main(["video", str(clip), "--json", str(json_path), "--csv", str(csv_path)]) == 0
    return json.loads(json_path.read_text()), csv_path.read_text()


def test_the_analyze_json_has_exactly_the_documented_keys(photo_outputs):
    doc, _ = photo_outputs
    images = {Path(image["source"]).name: image for image in doc["images"]}
    assert images["astronaut.png"]["poses"] and images["broken.jpg"]["error"] and images["wall.png"]["poses"] == []
    found = mismatches(documented_json("analyze"), doc)
    assert not found, "README and output disagree:\n" + "\n".join(sorted(set(found)))


def test_the_video_json_has_exactly_the_documented_keys(photo_outputs, video_outputs):
    """The README shows the video JSON as the manifest of ``analyze`` plus its own keys,
    and each frame's poses "as in analyze"."""
    analyze, video = documented_json("analyze"), documented_json("video")
    assert video["frames"][0]["poses"] == [], "documented by reference to analyze"
    video["frames"][0]["poses"] = analyze["images"][0]["poses"]
    documented = {**{k: v for k, v in analyze.items() if k != "images"}, **video}
    doc, _ = video_outputs
    assert doc["frames"] and doc["frames"][0]["poses"] and doc["range_of_motion"], "nothing left unchecked"
    found = mismatches(documented, doc)
    assert not found, "README and output disagree:\n" + "\n".join(sorted(set(found)))


def test_the_documented_csv_columns_are_the_real_ones_for_photos_and_video(photo_outputs, video_outputs):
    photo_columns, video_columns = documented_csv_columns()
    assert photo_outputs[1].splitlines()[0].split(",") == photo_columns
    assert video_outputs[1].splitlines()[0].split(",") == video_columns


def test_the_compare_json_has_exactly_the_documented_keys(tmp_path, astronaut_rgb, photo_outputs):
    """Photos: the document compare writes, from poses whose comparison is known (two real
    portraits show too little body to compare); videos: the real command on real footage,
    whose alignment and extra lists the README describes in words."""
    from pose_core.compare import compare_poses
    from tests.helpers import BODY_STANDING, body_pose

    manifest = {k: v for k, v in documented_json("analyze").items() if k != "images"}
    documented = {**manifest, **documented_json("compare")}
    reach = {**BODY_STANDING, "right_wrist": (-0.2, -0.5, 0.5)}
    photos = {k: v for k, v in photo_outputs[0].items() if k != "images"}
    photos |= {"kind": "photos", "reference": "a.jpg", "other": "b.jpg"}
    photos |= compare_poses(body_pose(), body_pose(reach)).as_dict()
    found = mismatches(documented, photos)
    assert not found, "README and output disagree:\n" + "\n".join(sorted(set(found)))

    for name, frames in (("teacher.mp4", range(8)), ("student.mp4", [t // 2 for t in range(16)])):
        (tmp_path / name).write_bytes(encode_clip([stage(astronaut_rgb, t) for t in frames]))
    out = tmp_path / "compare.json"
    assert main(["compare", str(tmp_path / "teacher.mp4"), str(tmp_path / "student.mp4"), "--json", str(out)]) == 0
    videos = json.loads(out.read_text())
    span = {"label": "0.0-2.0 s", "start_s": 0.0, "end_s": 2.0, "score": 90.0}
    documented |= {
        "kind": "videos",
        "alignment": {"method": "dynamic time warping", "window_frames": 90, "pairs": [[0, 0]]},
        "segments": [span],
        "repetitions": [span],
    }
    assert videos["kind"] == "videos" and videos["segments"] and videos["joints"], "nothing left unchecked"
    found = mismatches(documented, videos)
    assert not found, "README and output disagree:\n" + "\n".join(sorted(set(found)))


def test_the_live_recording_json_has_exactly_the_documented_keys(astronaut_rgb):
    """The Live page's recording: the manifest of ``analyze`` plus the keys the README's
    *Live camera* section shows, each frame's poses as in analyze."""
    from pose_core.live import LivePipeline, live_json_dict

    block = re.search(r"```jsonc\n(.*?)```", README[README.index("## Live camera") :], re.DOTALL)
    assert block, "no ```jsonc block in the Live camera section"
    live = json.loads(_jsonc_to_json(block.group(1)))
    analyze = documented_json("analyze")
    live["frames"][0]["poses"] = analyze["images"][0]["poses"]
    documented = {**{k: v for k, v in analyze.items() if k != "images"}, **live}
    with LivePipeline() as pipeline:
        pipeline.start_recording()
        for t in range(3):
            pipeline.submit(stage(astronaut_rgb, t), t / 10)
    doc = json.loads(json.dumps(live_json_dict(pipeline.recording())))
    assert doc["frames"] and doc["frames"][0]["poses"], "nothing left unchecked"
    found = mismatches(documented, doc)
    assert not found, "README and output disagree:\n" + "\n".join(sorted(set(found)))
