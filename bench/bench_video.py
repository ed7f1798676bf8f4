"""Benchmark: end-to-end video frames per second against the bare VIDEO-mode landmarker.

All in this process, on the same model and the same clip per size:
- ``model``: ``detect_for_video`` alone on frames decoded beforehand;
- ``bare``: PyAV decoding + ``detect_for_video``, the least a correct script must do
  (NOTE: PyAV pads rows when width * 3 is not a multiple of 32, e.g. 854 px; MediaPipe
  reads such a strided array wrongly and finds nobody, so the frame is made contiguous);
- ``cli``: ``python -m pose_core video IN --output OUT.mp4 --json FILE`` run in-process:
  decode, track, smooth, draw, encode H.264 and write the JSON.
Clips: the astronaut photo sliding and zooming across a stage, 30 fps, at 480p and 720p.

    python bench/bench_video.py [--seconds 5] [--repeats 3] [--smoothing one-euro]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision

from pose_core.cli import main as cli_main
from pose_core.models import resolve_model
from pose_core.smoothing import METHODS

SIZES = {"480p": (854, 480), "720p": (1280, 720)}
FPS = 30


def stage_frame(person: np.ndarray, i: int, size: tuple[int, int], sway_divisor: int) -> np.ndarray:
    """Frame ``i`` of ``person`` (the astronaut photo) swaying 1/``sway_divisor`` of the width either
    side and zooming slowly on a grey stage, with sensor-like noise: (H, W, 3) uint8 RGB.
    The live benchmark makes its frames here too."""
    width, height = size
    scale = height / 512 * (0.8 + 0.15 * np.sin(i / 25))
    scaled = cv2.resize(person, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    canvas = np.full((height, width, 3), 90, np.uint8)
    x0 = int((width - scaled.shape[1]) / 2 + width / sway_divisor * np.sin(i / 40))
    h, w = min(height, scaled.shape[0]), min(width - x0, scaled.shape[1])
    canvas[:h, x0 : x0 + w] = scaled[:h, :w]
    noise = np.random.default_rng(i).normal(0, 3, canvas.shape)  # sensor-like texture
    return np.clip(canvas + noise, 0, 255).astype(np.uint8)


def make_clip(size: tuple[int, int], seconds: float) -> bytes:
    from skimage import data  # noqa: PLC0415 - only the benchmark needs scikit-image

    width, height = size
    person = data.astronaut()
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * FPS)):
            rgb = stage_frame(person, i, size, sway_divisor=6)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _landmarker(model_path: Path) -> vision.PoseLandmarker:
    options = vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(model_path)), running_mode=vision.RunningMode.VIDEO
    )
    return vision.PoseLandmarker.create_from_options(options)


def time_model(model_path: Path, frames: list[np.ndarray]) -> float:
    with _landmarker(model_path) as landmarker:
        start = time.perf_counter()
        for i, rgb in enumerate(frames):
            landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), i * 1000 // FPS)
        return len(frames) / (time.perf_counter() - start)


def time_bare(model_path: Path, clip: Path) -> float:
    with _landmarker(model_path) as landmarker, av.open(str(clip)) as container:
        start = time.perf_counter()
        n = 0
        for n, frame in enumerate(container.decode(video=0), start=1):
            rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            landmarker.detect_for_video(image, (n - 1) * 1000 // FPS)
        return n / (time.perf_counter() - start)


def time_cli(clip: Path, frames: int, model: str, smoothing: str, out_dir: Path) -> float:
    args = [
        "video",
        str(clip),
        "--model",
        model,
        "--smoothing",
        smoothing,
        "--output",
        str(out_dir / "out.mp4"),
        "--json",
        str(out_dir / "out.json"),
    ]
    start = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(args)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"the command line failed with exit status {code}")
    return frames / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length (default 5 s = 150 frames)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the median is reported")
    parser.add_argument("--model", default="full", choices=["lite", "full", "heavy"])
    parser.add_argument("--smoothing", nargs="+", default=["one-euro", "butterworth"], choices=list(METHODS))
    args = parser.parse_args()
    model_path = resolve_model(args.model).path
    print(f"model {args.model}, {args.seconds:.0f} s clips at {FPS} fps, median of {args.repeats} rounds")
    print(
        f"{'size':>5} {'smoothing':>12} {'model fps':>10} {'bare fps':>9} {'cli fps':>8} {'cli/bare':>9} "
        f"{'cli/model':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            clip = Path(tmp) / f"{label}.mp4"
            clip.write_bytes(make_clip(size, args.seconds))
            with av.open(str(clip)) as container:
                frames = [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
            for smoothing in args.smoothing:
                time_cli(clip, len(frames), args.model, smoothing, Path(tmp))  # warm-up
                fps = {"model": [], "bare": [], "cli": []}
                for _ in range(args.repeats):  # interleaved, so drift hits every side alike
                    fps["model"].append(time_model(model_path, frames))
                    fps["bare"].append(time_bare(model_path, clip))
                    fps["cli"].append(time_cli(clip, len(frames), args.model, smoothing, Path(tmp)))
                m = {k: statistics.median(v) for k, v in fps.items()}
                print(
                    f"{label:>5} {smoothing:>12} {m['model']:>10.1f} {m['bare']:>9.1f} {m['cli']:>8.1f} "
                    f"{m['cli'] / m['bare']:>8.2f}x {m['cli'] / m['model']:>9.2f}x",
                    flush=True,
                )
            del frames
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
