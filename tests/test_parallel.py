"""A batch on every core: ``analyze --workers N`` gives exactly what one process gives,
in the same order; each worker builds its own landmarker."""

import json

import pytest

from pose_core.cli import main
from pose_core.parallel import SourceResult, analyze_sources
from pose_core.types import PoseSettings
from tests.helpers import encode


@pytest.fixture(scope="module")
def batch(tmp_path_factory, astronaut_rgb, hopper_jpeg, no_person_rgb):
    """Six photos and one unreadable file, named so that sorting and arrival differ."""
    folder = tmp_path_factory.mktemp("batch")
    (folder / "a-astronaut.png").write_bytes(encode(astronaut_rgb, "PNG"))
    (folder / "b-broken.jpg").write_bytes(b"not a picture")
    (folder / "c-hopper.jpg").write_bytes(hopper_jpeg)
    (folder / "d-wall.jpg").write_bytes(encode(no_person_rgb))
    (folder / "e-astronaut-small.jpg").write_bytes(encode(astronaut_rgb[::2, ::2]))
    (folder / "f-hopper.png").write_bytes(encode(astronaut_rgb[:, ::-1], "PNG"))
    return folder


def _run(folder, out, *extra: str) -> int:
    return main(
        ["analyze", str(folder), "--model", "lite", "--json", str(out / "out.json"), "--csv", str(out / "out.csv")]
        + ["--overlay-dir", str(out / "overlays"), *extra]
    )


@pytest.mark.parametrize("mode", [[], ["--crowd"]], ids=["plain", "crowd"])
def test_two_workers_write_byte_for_byte_what_one_writes(batch, tmp_path, mode):
    """Also in crowd mode, where one process searches each photo's tiles on a landmarker
    per core and two processes on one each."""
    one, two = tmp_path / "one", tmp_path / "two"
    assert _run(batch, one, *mode) == 2  # one file unreadable, the rest through
    assert _run(batch, two, "--workers", "2", *mode) == 2
    doc = json.loads((two / "out.json").read_text().replace(str(two), str(one)))
    assert doc == json.loads((one / "out.json").read_text())
    assert [img["source"].rsplit("/", 1)[-1] for img in doc["images"]] == sorted(p.name for p in batch.iterdir())
    assert [len(img["poses"]) for img in doc["images"]] == [1, 0, 1, 0, 1, 1]
    assert (two / "out.csv").read_bytes() == (one / "out.csv").read_bytes()
    overlays = sorted(p.name for p in (one / "overlays").iterdir())
    assert overlays == sorted(p.name for p in (two / "overlays").iterdir()) and len(overlays) == 5
    for name in overlays:
        assert (two / "overlays" / name).read_bytes() == (one / "overlays" / name).read_bytes()


def test_results_from_worker_processes_are_read_only_again(batch):
    sources = [str(batch / "a-astronaut.png"), str(batch / "c-hopper.jpg")]
    results = list(analyze_sources(sources, PoseSettings(model="lite"), workers=2))
    assert [r.record.source for r in results] == sources
    assert all(isinstance(r, SourceResult) and r.overlay_png is None for r in results)
    pose = results[0].record.poses[0]
    assert not pose.landmarks.flags.writeable and not pose.visibility.flags.writeable


@pytest.mark.parametrize("workers", ["0", "65"])
def test_a_worker_count_out_of_range_is_one_line(batch, tmp_path, capsys, workers):
    assert _run(batch, tmp_path, "--workers", workers) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: workers must be 1..64, got {workers}"
