"""Benchmark: ``analyze --workers N`` against ``--workers 1`` and the bare landmarker,
in the same run, on the same photos.

- ``bare``: one Tasks landmarker in this process, ``mp.Image.create_from_file`` +
  ``detect`` per photo (one core: a landmarker takes one call at a time);
- ``workers 1`` / ``workers N``: what ``analyze`` runs, :func:`pose_core.parallel.analyze_sources`
  (decode, inference, overlays off), in this process or in N spawned worker processes.
  "all" counts the whole batch, worker start-up included; "steady" counts from the first
  result on (a long batch's rate);
- the whole command ``python -m pose_core analyze FOLDER --json FILE --workers N`` for
  the same folder, as a subprocess, and whether its JSON equals one worker's.

Photos: the astronaut scaled into 1080p frames with sensor-like noise.

    python bench/bench_parallel.py [--images 120] [--workers 2] [--model full]
"""

from __future__ import annotations

import argparse
import io
import os
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

from pose_core.models import resolve_model
from pose_core.parallel import analyze_sources
from pose_core.types import PoseSettings


def _photo(seed: int, size: tuple[int, int] = (1920, 1080)) -> bytes:
    from skimage import data  # noqa: PLC0415 - only the benchmark needs scikit-image

    width, height = size
    person = data.astronaut()
    resized = cv2.resize(person, (height, height), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((height, width, 3), 90, np.uint8)
    x0 = (width - height) // 2 + (seed % 5 - 2) * 60
    canvas[:, x0 : x0 + height] = resized
    noise = np.random.default_rng(seed).normal(0, 9, canvas.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(canvas + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _cli_seconds(folder: Path, model: str, workers: int, out: Path) -> float:
    command = [sys.executable, "-m", "pose_core", "analyze", str(folder), "--model", model, "--json", str(out)]
    start = time.perf_counter()
    subprocess.run([*command, "--workers", str(workers)], check=True, capture_output=True)
    return time.perf_counter() - start


def _pool_rates(paths: list[Path], model: str, workers: int) -> tuple[float, float]:
    """(photos/s over the whole batch, photos/s from the first result on)."""
    sources = [str(p) for p in paths]
    start = time.perf_counter()
    first = 0.0
    for n, _ in enumerate(analyze_sources(sources, PoseSettings(model=model), workers=workers)):
        if n == 0:
            first = time.perf_counter()
    end = time.perf_counter()
    return len(sources) / (end - start), (len(sources) - 1) / (end - first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--model", default="full", choices=["lite", "full", "heavy"])
    args = parser.parse_args()
    model = resolve_model(args.model)
    n = args.images
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        paths = []
        for i in range(n):
            paths.append(folder / f"{i:03d}.jpg")
            paths[-1].write_bytes(_photo(i))
        options = vision.PoseLandmarkerOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=str(model.path)), running_mode=vision.RunningMode.IMAGE
        )
        with vision.PoseLandmarker.create_from_options(options) as bare:
            bare.detect(mp.Image.create_from_file(str(paths[0])))
            start = time.perf_counter()
            for path in paths:
                bare.detect(mp.Image.create_from_file(str(path)))
            bare_rate = n / (time.perf_counter() - start)
        one = _pool_rates(paths, args.model, 1)
        many = _pool_rates(paths, args.model, args.workers)
        one_cli = n / _cli_seconds(folder, args.model, 1, Path(tmp) / "one.json")
        many_cli = n / _cli_seconds(folder, args.model, args.workers, Path(tmp) / "many.json")
        same = (Path(tmp) / "one.json").read_bytes() == (Path(tmp) / "many.json").read_bytes()
    print(f"{n} photos 1080p, model {args.model}, {os.cpu_count()} CPUs; photos/s (ratio to bare)")
    print(f"{'':>12} {'all':>13} {'steady':>13} {'command':>13}")
    print(f"{'bare':>12} {bare_rate:6.1f} (1.00)")
    print(
        f"{'workers 1':>12} {one[0]:6.1f} ({one[0] / bare_rate:.2f}) {one[1]:6.1f} ({one[1] / bare_rate:.2f})"
        f" {one_cli:6.1f} ({one_cli / bare_rate:.2f})"
    )
    w = f"workers {args.workers}"
    print(
        f"{w:>12} {many[0]:6.1f} ({many[0] / bare_rate:.2f}) {many[1]:6.1f} ({many[1] / bare_rate:.2f})"
        f" {many_cli:6.1f} ({many_cli / bare_rate:.2f})"
    )
    print(
        f"{w} / workers 1: all {many[0] / one[0]:.2f}x, steady {many[1] / one[1]:.2f}x, "
        f"command {many_cli / one_cli:.2f}x; JSON identical: {same}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
