"""Benchmark: movement analysis against analysing the clip, in the same run.

- ``analyse``: ``VideoJob.render(video=False)`` on a 60 s, 30 fps clip (decode, model,
  tracking, smoothing): what the model costs, the baseline of the ratios;
- ``compare``: comparing two such clips end to end with their landmarks cached
  (cleaning both clips' angles, repetitions of the reference, DTW alignment, a pose
  score per matched pair, segments and repetitions), as a ratio to ``analyse``;
- ``side by side``: drawing the synced side-by-side MP4 from the app's previews;
- ``reps``: cleaning and counting repetitions over 10 minutes of landmarks (the
  analysed clip repeated ten times).

Clips: the astronaut photo (scikit-image, public domain) sliding back and forth across a
stage at 480x360 (tests/helpers.py's stage), the second at another pace.

    python bench/bench_motion.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.helpers, as the other benchmarks do

from pose_core.compare import compare_series, side_by_side_video  # noqa: E402
from pose_core.drawing import draw_overlay  # noqa: E402
from pose_core.images import decode_preview  # noqa: E402
from pose_core.motion import clean_angles  # noqa: E402
from pose_core.repetitions import count_repetitions  # noqa: E402
from pose_core.series import PoseSeries  # noqa: E402
from pose_core.smoothing import Smoothing  # noqa: E402
from pose_core.video import VideoJob  # noqa: E402
from tests.helpers import encode_clip, stage  # noqa: E402

FPS = 30


def make_clip(seconds: float, period_s: float) -> bytes:
    from skimage import data  # noqa: PLC0415

    astronaut = data.astronaut()
    n = round(seconds * FPS)
    # back and forth over 25 steps of the stage, one trip per period_s
    steps = (12 + 12 * np.sin(2 * np.pi * np.arange(n) / (period_s * FPS))).round().astype(int)
    return encode_clip([stage(astronaut, int(s)) for s in steps], fps=FPS)


def tiled(series: PoseSeries, times: int) -> PoseSeries:
    """The series repeated ``times`` times, one after another."""
    n = len(series)
    dt = float(series.time_s[1] - series.time_s[0])
    return PoseSeries(
        frame_index=np.arange(n * times),
        time_s=np.arange(n * times) * dt,
        landmarks=np.tile(series.landmarks, (times, 1, 1, 1)),
        visibility=np.tile(series.visibility, (times, 1, 1)),
        presence=np.tile(series.presence, (times, 1, 1)),
        world_landmarks=np.tile(series.world_landmarks, (times, 1, 1, 1)),
        image_size=series.image_size,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    clips = [make_clip(args.seconds, 4.0), make_clip(args.seconds, 5.0)]
    jobs = [VideoJob(preview_side=384) for _ in clips]
    started = time.perf_counter()
    reference = jobs[0].render(clips[0], video=False).series
    analyse_s = time.perf_counter() - started
    other = jobs[1].render(clips[1], video=False).series

    started = time.perf_counter()
    reps = count_repetitions(clean_angles(reference, Smoothing(method="none")))
    result = compare_series(reference, other, reference_repetitions=reps)
    compare_s = time.perf_counter() - started

    def preview(job: VideoJob, series: PoseSeries, t: int) -> np.ndarray:
        rgb = decode_preview(job.previews[t])
        h, w = rgb.shape[:2]
        return draw_overlay(rgb, [p.resized(w, h) for p in series.poses_at(t)])

    started = time.perf_counter()
    pairs = (
        (preview(jobs[0], reference, t), preview(jobs[1], other, result.other_frame_for(t)))
        for t in range(len(reference))
    )
    mp4 = side_by_side_video(pairs, FPS)
    video_s = time.perf_counter() - started

    ten_minutes = tiled(jobs[0].analysis.raw, max(1, round(600 / args.seconds)))  # type: ignore[union-attr]
    started = time.perf_counter()
    angles = clean_angles(ten_minutes)
    clean_s = time.perf_counter() - started
    started = time.perf_counter()
    count = count_repetitions(angles).count
    count_s = time.perf_counter() - started

    print(f"{platform.machine()}, {platform.python_version()}, {args.seconds:g} s clips at {FPS} fps, 480x360")
    print(f"analyse one clip (model):       {analyse_s:7.2f} s  ({len(reference) / analyse_s:.0f} frames/s)")
    print(f"compare two, landmarks cached:  {compare_s:7.3f} s  = {compare_s / analyse_s:.3f}x analysing one")
    print(f"  score {result.score:.1f}, {len(result.path)} matched pairs, window {result.window_frames} frames")
    print(f"side-by-side MP4 from previews: {video_s:7.2f} s  = {video_s / analyse_s:.2f}x ({len(mp4) / 1e6:.1f} MB)")
    print(
        f"10 min of landmarks ({len(ten_minutes)} frames): clean {clean_s * 1000:.0f} ms, count {count_s * 1000:.1f} ms"
    )
    print(f"  {count} repetitions of {count_repetitions(angles).angle}")


if __name__ == "__main__":
    main()
