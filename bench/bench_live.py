"""Benchmark: the live camera path against the bare VIDEO-mode landmarker, at 640x480.

All in this process, per model (lite, full), on the same frames:
- ``bare``: ``detect_for_video`` alone on ``mp.Image`` frames made beforehand;
- ``live``: what the Live page does with each WebRTC frame (ui.live_views.PoseVideoProcessor):
  av.VideoFrame to RGB, landmarker, identity slots, One-Euro smoothing, angles, mirror,
  overlay, and back to an av.VideoFrame.
Per-frame times are medians over the clip; the ratio is live / bare (target <= 1.3x).
Then a camera at 30 fps: frames arrive on a timer, the processor takes the newest and
drops the rest (as streamlit-webrtc's async processing does); shown frames per second,
frames dropped and latency are reported. The clip: the astronaut photo sliding and
zooming across a stage, with sensor-like noise.

    python bench/bench_live.py [--frames 150] [--repeats 3] [--camera-seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import av
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

from pose_core.live import LiveOptions
from pose_core.models import resolve_model
from pose_core.types import PoseSettings

# The Live page's processor lives app-side (ui/), which is not installed: import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_video import stage_frame  # noqa: E402
from ui.live_views import PoseVideoProcessor  # noqa: E402

SIZE = (640, 480)
CAMERA_FPS = 30


def make_frames(count: int) -> list[np.ndarray]:
    from skimage import data  # noqa: PLC0415 - only the benchmark needs scikit-image

    person = data.astronaut()
    return [stage_frame(person, i, SIZE, sway_divisor=8) for i in range(count)]


def camera_frames(frames: list[np.ndarray]) -> list[av.VideoFrame]:
    """The frames as aiortc hands them over: decoded video, yuv420p."""
    return [av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p") for f in frames]


def bare_ms(variant: str, frames: list[np.ndarray]) -> list[float]:
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve_model(variant).path)),
        running_mode=vision.RunningMode.VIDEO,
    )
    images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
    times = []
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for i, image in enumerate(images):
            start = time.perf_counter()
            landmarker.detect_for_video(image, round(i * 1000 / CAMERA_FPS))
            times.append((time.perf_counter() - start) * 1000)
    return times


def live_ms(variant: str, frames: list[np.ndarray]) -> tuple[list[float], int]:
    """Per-frame time through the Live page's processor, and frames with a person."""
    av_frames = camera_frames(frames)
    processor = PoseVideoProcessor(LiveOptions(settings=PoseSettings(model=variant), mirror=True))
    processor.pipeline.submit(frames[0])  # the landmarker is made on the first frame: not timed
    times, found = [], 0
    try:
        for frame in av_frames[1:]:
            start = time.perf_counter()
            processor.recv(frame)
            times.append((time.perf_counter() - start) * 1000)
            found += processor.pipeline.stats().people > 0
    finally:
        processor.on_ended()
    return times, found


def camera(variant: str, frames: list[np.ndarray], seconds: float) -> dict[str, float]:
    """Frames arrive at CAMERA_FPS; one worker takes the newest, the rest are dropped."""
    processor = PoseVideoProcessor(LiveOptions(settings=PoseSettings(model=variant), mirror=True))
    processor.pipeline.submit(frames[0])  # load the landmarker first, as a connection does before frames flow
    av_frames = camera_frames(frames)
    waiting: list[av.VideoFrame] = []
    ready = threading.Condition()
    stop = threading.Event()
    shown: list[float] = []

    def worker() -> None:
        while not stop.is_set():
            with ready:
                ready.wait_for(lambda: waiting or stop.is_set(), timeout=0.5)
                batch, waiting[:] = list(waiting), []
            if batch:
                processor.pipeline.count_dropped(len(batch) - 1)
                processor._picture(batch[-1])
                shown.append(time.perf_counter())

    thread = threading.Thread(target=worker)
    thread.start()
    start = time.perf_counter()
    sent = 0
    while time.perf_counter() - start < seconds:
        with ready:
            waiting.append(av_frames[sent % len(av_frames)])
            ready.notify()
        sent += 1
        time.sleep(max(0.0, start + sent / CAMERA_FPS - time.perf_counter()))
    stop.set()
    with ready:
        ready.notify()
    thread.join()
    stats = processor.pipeline.stats()
    processor.on_ended()
    return {
        "sent": sent,
        "shown_fps": len(shown) / (time.perf_counter() - start),
        "dropped_pct": 100 * stats.frames_dropped / max(1, stats.frames_in),
        "latency_ms": stats.latency_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--camera-seconds", type=float, default=5.0)
    args = parser.parse_args()
    frames = make_frames(args.frames)
    print(f"{args.frames} frames of {SIZE[0]}x{SIZE[1]}, median per frame over {args.repeats} interleaved repeats")
    for variant in ("lite", "full"):
        bare, live = [], []
        found = 0
        for _ in range(args.repeats):
            bare.append(statistics.median(bare_ms(variant, frames)))
            times, found = live_ms(variant, frames)
            live.append(statistics.median(times))
        b, lv = statistics.median(bare), statistics.median(live)
        print(
            f"{variant:5s} bare {b:6.1f} ms ({1000 / b:5.1f} fps) · live {lv:6.1f} ms ({1000 / lv:5.1f} fps) · "
            f"ratio {lv / b:.2f}x · person in {found}/{len(frames) - 1} frames"
        )
        cam = camera(variant, frames, args.camera_seconds)
        print(
            f"      camera {CAMERA_FPS} fps for {args.camera_seconds:g} s: shown {cam['shown_fps']:.1f} fps, "
            f"{cam['dropped_pct']:.0f}% dropped, latency {cam['latency_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
