"""``analyze --engine ray``: Ray Data actors on a local Ray (2 CPUs here) write the same
JSON and CSV as one process. Run as a subprocess with a time limit: a local Ray starts
a dozen processes (~3 s, ~1.5 GB), and a stuck start must fail the test, not hang CI."""

import subprocess
import sys

import pytest

from pose_core.cli import main
from tests.helpers import encode

pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'poselab[ray]'")

RAY_RUN_TIMEOUT_S = 240


def test_ray_actors_write_what_one_process_writes(tmp_path, astronaut_rgb, hopper_jpeg):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "astronaut.png").write_bytes(encode(astronaut_rgb, "PNG"))
    (photos / "broken.jpg").write_bytes(b"not a picture")
    (photos / "hopper.jpg").write_bytes(hopper_jpeg)
    (photos / "mirrored.jpg").write_bytes(encode(astronaut_rgb[:, ::-1]))
    common = ["analyze", "photos", "--model", "lite"]
    ray_run = subprocess.run(
        [sys.executable, "-m", "pose_core", *common, "--json", "ray.json", "--csv", "ray.csv"]
        + ["--engine", "ray", "--workers", "2", "--overlay-dir", "overlays"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RAY_RUN_TIMEOUT_S,
        check=False,
    )
    assert ray_run.returncode == 2, ray_run.stderr  # the broken file is reported, the rest go through
    assert "broken.jpg: this is not an image PoseLab can read" in ray_run.stderr
    assert "Traceback" not in ray_run.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert main([*common, "--json", "one.json", "--csv", "one.csv"]) == 2
    one_json = (tmp_path / "one.json").read_text()
    ray_json = (tmp_path / "ray.json").read_text().replace('"overlays/', '"').replace('.overlay.png"', '"')
    for name in ("astronaut", "hopper", "mirrored"):  # overlays asked for only in the Ray run
        ray_json = ray_json.replace(f'"overlay": "{name}"', '"overlay": null')
    assert ray_json == one_json
    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert sorted(p.name for p in (tmp_path / "overlays").iterdir()) == [
        "astronaut.overlay.png",
        "hopper.overlay.png",
        "mirrored.overlay.png",
    ]


def test_without_ray_installed_the_engine_is_a_one_line_error(tmp_path, astronaut_rgb):
    """Simulated by hiding the package: the dashboard's install has no Ray."""
    (tmp_path / "a.png").write_bytes(encode(astronaut_rgb, "PNG"))
    script = (
        "import sys; sys.modules['ray'] = None\n"
        "from pose_core.cli import main\n"
        f"sys.exit(main(['analyze', {str(tmp_path / 'a.png')!r}, '--engine', 'ray']))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: --engine ray needs Ray: pip install 'poselab[ray]' (or pip install 'ray[data]')"
    )
