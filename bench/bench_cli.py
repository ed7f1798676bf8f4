"""Benchmark: the command line's time per image against the bare Tasks landmarker.

Both sides run in this process, on the same model bundle and the same JPEG files:
- ``bare``: ``mp.Image.create_from_file(path)`` + ``PoseLandmarker.detect`` (how the
  Tasks API reads a file by itself), one landmarker for all images;
- ``cli``: ``pose_core.cli.main(["analyze", folder, "--json", FILE])``, the whole command:
  EXIF-aware decoding, inference, angles and the JSON file (landmarker creation included);
- ``model``: ``detect`` alone on already-decoded pixels, for reference.

Images are the astronaut photo scaled to 720p, 1080p and 12 MP with sensor-like noise, so
they decode like real photos. Prints a table of ms/image and ratios, then memory.

    python bench/bench_cli.py [--images 8] [--repeats 3] [--model full]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from PIL import Image

from pose_core.cli import main as cli_main
from pose_core.models import resolve_model
from pose_core.types import PoseSettings

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "12MP": (4000, 3000)}


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _photo(size: tuple[int, int], seed: int) -> bytes:
    from skimage import data  # noqa: PLC0415 - only the benchmark needs scikit-image

    width, height = size
    person = data.astronaut()
    scale = height / person.shape[0]
    canvas = np.full((height, width, 3), 90, np.uint8)
    resized = cv2.resize(person, (round(person.shape[1] * scale), height), interpolation=cv2.INTER_CUBIC)
    x0 = (width - resized.shape[1]) // 2
    canvas[:, x0 : x0 + resized.shape[1]] = resized
    noise = np.random.default_rng(seed).normal(0, 9, canvas.shape)  # ~ a phone photo's file size
    buf = io.BytesIO()
    Image.fromarray(np.clip(canvas + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _time_bare(landmarker: vision.PoseLandmarker, paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        landmarker.detect(mp.Image.create_from_file(str(path)))
    return (time.perf_counter() - start) / len(paths)


def _time_model(landmarker: vision.PoseLandmarker, images: list[mp.Image]) -> float:
    start = time.perf_counter()
    for image in images:
        landmarker.detect(image)
    return (time.perf_counter() - start) / len(images)


def _time_cli(folder: Path, model: str, out: Path) -> float:
    n = len(list(folder.iterdir()))
    start = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # its one-line summary, not wanted here
        code = cli_main(["analyze", str(folder), "--model", model, "--json", str(out)])
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"the command line failed with exit status {code}")
    return elapsed / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=8, help="images per size (default 8)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the median is reported (default 3)")
    parser.add_argument("--model", default="full", choices=["lite", "full", "heavy"])
    args = parser.parse_args()

    model = resolve_model(args.model)
    settings = PoseSettings(model=args.model)
    options = vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(model.path)),
        running_mode=vision.RunningMode.IMAGE,
        num_poses=settings.max_poses,
    )
    rss_before = _rss_mb("VmRSS")
    bare = vision.PoseLandmarker.create_from_options(options)
    rss_one_model = _rss_mb("VmRSS")
    print(f"model {args.model} ({model.path.name}), {args.images} images per size, median of {args.repeats} rounds")
    print(f"{'size':>6} {'file MB':>8} {'model ms':>9} {'bare ms':>8} {'cli ms':>8} {'cli/bare':>9} {'cli/model':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            folder = Path(tmp) / label
            folder.mkdir()
            paths = []
            for i in range(args.images):
                path = folder / f"{i:02d}.jpg"
                path.write_bytes(_photo(size, seed=i))
                paths.append(path)
            decoded = [mp.Image.create_from_file(str(p)) for p in paths]
            out = Path(tmp) / f"{label}.json"
            _time_bare(bare, paths[:1])  # warm-up
            _time_cli(folder, args.model, out)
            rounds = {"model": [], "bare": [], "cli": []}
            for _ in range(args.repeats):  # interleaved, so drift hits every side alike
                rounds["model"].append(_time_model(bare, decoded))
                rounds["bare"].append(_time_bare(bare, paths))
                rounds["cli"].append(_time_cli(folder, args.model, out))
            ms = {k: statistics.median(v) * 1000 for k, v in rounds.items()}
            mb = statistics.mean(p.stat().st_size for p in paths) / 2**20
            print(
                f"{label:>6} {mb:>8.2f} {ms['model']:>9.1f} {ms['bare']:>8.1f} {ms['cli']:>8.1f} "
                f"{ms['cli'] / ms['bare']:>8.2f}x {ms['cli'] / ms['model']:>9.2f}x",
                flush=True,
            )
            del decoded
        # The command line's own peak memory, in a fresh process (its VmHWM, read at exit:
        # RUSAGE_CHILDREN would also count this parent's pages from before the exec).
        child = (
            "import sys; from pose_core.cli import main; code = main(sys.argv[1:]); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]); sys.exit(code)"
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                child,
                "analyze",
                str(Path(tmp) / "12MP"),
                "--model",
                args.model,
                "--json",
                str(Path(tmp) / "child.json"),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        cli_peak_mb = int(proc.stdout.split()[-1]) / 1024
    bare.close()
    print(
        f"memory: {rss_before:.0f} MB before the model, {rss_one_model:.0f} MB with one landmarker loaded "
        f"(+{rss_one_model - rss_before:.0f} MB)"
    )
    print(f"peak RSS of `python -m pose_core analyze` on the 12 MP folder: {cli_peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
