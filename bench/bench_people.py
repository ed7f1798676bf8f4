"""Benchmark: "find everyone" (pose_core.crowd) against plain mode, in one run.

Canvases are 1920x1080 (or ``--size``) real backgrounds (scikit-image photos with nobody in them) with
real people pasted on them: head-and-torso crops of scikit-image's astronaut and
matplotlib's Grace Hopper portraits (the only photos of people the packages ship; both
upper-body), so "height" is the height of that crop, about 40% of a standing person with
the same head size. The reference keypoints are the landmarker's own pose on each whole
portrait, carried along with the crop (see tests/scenes.py). Nothing is downloaded.

Reports, for plain mode and crowd mode with the same model and max people:
- recall (a pasted person matched by a pose at OKS >= 0.5), mean OKS (unmatched = 0) and
  precision (found poses that match a pasted person) per crop height;
- false people on photos with no person (the backgrounds, at their own size and the canvases');
- time per 1080p JPEG (decode + search) and its ratio to plain mode (decode + one call);
  crowd mode searches its tiles on ``--lanes`` landmarkers at once (default: one per core,
  up to pose_core.analysis.MAX_SEARCH_LANES, as the command line does), and is also timed
  on one ("crowd, 1 lane": the same people, so the same recall).

The video scenario (``--scenario video``) is a surveillance-style clip: 480x360, 10 fps,
people walking on rows across a real background (scikit-image's gravel), some passing
each other, one stepping in part-way and one leaving (tests/scenes.py's make_clip and
surveillance_walkers), encoded as H.264 and decoded as the product decodes it. The same
decoded frames go through plain VIDEO mode (VideoPoseEstimator) and through
pose_core.tracking.CrowdTracker, each followed by pose_core.series.IdentityTracker, as
analyze_video uses them. Reported: share of frames with at least one person found, mean
people found per frame (and how many of them match a person present at OKS >= 0.5)
against people present, identity switches (a person matched to another identity slot than
the last time they were matched) and time per frame (model calls only, decoding excluded)
as a ratio to plain VIDEO mode (the crowd tracker on ``--lanes`` landmarkers, and on one).
The issue's targets: at least one person in 90 % of the frames and at least two people
per frame on average.

Run from the repository's root as a module (it shares tests/scenes.py with the tests):

    python -m bench.bench_people [--scenario photos|video|both] [--canvases 4] [--people 3]
        [--max-poses 6] [--model full] [--lanes N] [--ablation] [--size 1920x1080] [--clip-people 5]
        [--clip-heights 50,70] [--clip-frames 60] [--clip-seeds 3]
    python -m bench.bench_people --clip FILE [--clip-frames N]   # a real clip of your own

``--clip FILE`` runs a real video (no annotations: people found per frame, not recall)
through plain VIDEO mode and the crowd tracker: the way to check the surveillance target
on footage the project cannot ship.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from pose_core import evaluation
from pose_core.analysis import EstimatorPool, search_lanes
from pose_core.crowd import CrowdSearch, CrowdSettings
from pose_core.evaluation import RECALL_OKS, match
from pose_core.images import load_image
from pose_core.inference import VideoPoseEstimator
from pose_core.series import IdentityTracker
from pose_core.tracking import CrowdTracker
from pose_core.types import PoseResult, PoseSettings
from pose_core.video_io import FrameReader
from tests.helpers import encode_clip
from tests.scenes import (
    BACKGROUNDS,
    Clip,
    Scene,
    background,
    background_canvas,
    make_clip,
    make_scene,
    reference_poses,
    surveillance_walkers,
)

HEIGHTS = (40, 60, 80, 120, 160, 240, 320, 400)  # crop heights in pixels on a 1080p canvas


def _heights(size: tuple[int, int]) -> tuple[int, ...]:
    """HEIGHTS on a canvas of ``size``: the people scaled along with the picture, so each
    row is the same scene at another resolution (fewer pixels per person)."""
    return tuple(max(12, round(h * size[1] / 1080)) for h in HEIGHTS)


@dataclass
class Tally(evaluation.Tally):
    """Recall, precision and mean OKS (pose_core.evaluation), and the time per canvas."""

    ms: list[float] = field(default_factory=list)

    def row(self) -> str:
        return f"{self.recall:6.2f} {self.precision:9.2f} {self.mean_oks:8.2f}"


def _decode(jpeg: bytes) -> np.ndarray:
    """The product's decoder (EXIF-aware, as plain mode uses it), for both modes."""
    return load_image(jpeg).rgb


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def _timed(run: Callable[[np.ndarray], Sequence[PoseResult]], jpeg: bytes) -> tuple[Sequence[PoseResult], float]:
    start = time.perf_counter()
    poses = run(_decode(jpeg))
    return poses, (time.perf_counter() - start) * 1000.0


def run(args: argparse.Namespace) -> None:
    settings = PoseSettings(model=args.model, max_poses=args.max_poses)
    estimators = EstimatorPool()
    references = reference_poses(estimators(replace(settings, max_poses=1)).detect)
    rng = np.random.default_rng(args.seed)
    canvas_bgs = [b for b in BACKGROUNDS if background(b).shape[0] >= 256]  # small ones upscale too blurry
    heights = _heights(args.size)
    scenes: dict[int, list[tuple[Scene, bytes]]] = {h: [] for h in heights}
    for height in heights:
        for i in range(args.canvases):
            scene = make_scene(
                rng, references, [height] * args.people, args.size, background_name=canvas_bgs[i % len(canvas_bgs)]
            )
            scenes[height].append((scene, _jpeg(scene.rgb)))

    variants: dict[str, CrowdSettings] = {"crowd": CrowdSettings()}
    if args.ablation:
        variants |= {
            "no confirm crop": replace(CrowdSettings(), confirm=False),
            "keep refined": replace(CrowdSettings(), keep_refined=True),
            "min score 0.3": replace(CrowdSettings(), min_score=0.3),
            "one scale (0.75)": replace(CrowdSettings(), tile_fractions=(0.75,)),
            "tiles 1.0 + 0.6": replace(CrowdSettings(), tile_fractions=(1.0, 0.6)),  # the layout before 0.45
            "no fine tiles": replace(CrowdSettings(), fine_fraction=None),  # only pictures under 900 px high have them
            "no tile skipped": replace(CrowdSettings(), skip_painted_tile=None),
            "cut poses dropped": replace(CrowdSettings(), rescue_cut=0),  # no second look at them
            "no ghost filters": replace(CrowdSettings(), min_score=0.0, edge_margin=-1.0, limb_ratio_range=(0, 1e9)),
        }
    plain = estimators(settings)
    modes: dict[str, Callable[[np.ndarray], Sequence[PoseResult]]] = {"plain": plain.detect}
    searches = {name: CrowdSearch(estimators, settings, crowd, lanes=args.lanes) for name, crowd in variants.items()}
    if args.lanes > 1:
        searches["crowd, 1 lane"] = CrowdSearch(estimators, settings)
    for name, search in searches.items():
        modes[name] = lambda rgb, s=search: [p.pose for p in s.find(rgb)]

    # Warm up every estimator once so creation and first-call costs are not timed.
    for mode in modes.values():
        mode(scenes[heights[0]][0][0].rgb)

    tallies = {name: {h: Tally() for h in heights} for name in modes}
    calls_before = {name: search.calls for name, search in searches.items()}
    for height in heights:
        for scene, jpeg in scenes[height]:
            for name, mode in modes.items():  # interleaved, so drift in machine speed hits all modes alike
                poses, ms = _timed(mode, jpeg)
                tallies[name][height].add(poses, scene.people)
                tallies[name][height].ms.append(ms)

    canvas_calls = {
        name: (search.calls - calls_before[name]) / (len(heights) * args.canvases) for name, search in searches.items()
    }
    ghost_images = [(b, background(b)) for b in BACKGROUNDS] + [
        (f"{b}@{args.size[0]}x{args.size[1]}", background_canvas(b, args.size)) for b in BACKGROUNDS
    ]
    ghosts = {name: 0 for name in modes}
    ghost_where: dict[str, list[str]] = {name: [] for name in modes}
    for label, rgb in ghost_images:
        for name, mode in modes.items():
            n = len(mode(rgb))
            ghosts[name] += n
            if n:
                ghost_where[name].append(f"{label}:{n}")

    print(
        f"# bench_people: model {args.model}, max people {args.max_poses}, {args.canvases} canvases x "
        f"{args.people} people per height, {args.size[0]}x{args.size[1]}, seed {args.seed}, "
        f"crowd on {args.lanes} lane(s)"
    )
    print(_machine_line())
    print("# people are head-and-torso crops of two real portraits (astronaut, Grace Hopper);")
    print("# 'height' = crop height in px (a standing person with that head would be ~2.5x taller)")
    print()
    print(f"{'height':>6} | " + " | ".join(f"{name:^26}" for name in modes))
    print(f"{'':>6} | " + " | ".join(f"{'recall precision meanOKS':^26}" for _ in modes))
    for height in heights:
        print(f"{height:>6} | " + " | ".join(f"{tallies[name][height].row():^26}" for name in modes))
    total = {name: Tally() for name in modes}
    for name in modes:
        for t in tallies[name].values():
            total[name] += t
            total[name].ms += t.ms
    print(f"{'all':>6} | " + " | ".join(f"{total[name].row():^26}" for name in modes))
    print()
    print(f"false people on {len(ghost_images)} no-person images ({len(BACKGROUNDS)} photos, native and canvas size):")
    for name in modes:
        print(f"  {name:>18}: {ghosts[name]:3d}  {' '.join(ghost_where[name])}")
    print()
    plain_ms = statistics.median(total["plain"].ms)
    print(f"time per {args.size[0]}x{args.size[1]} JPEG (decode + search), median over all canvases:")
    for name in modes:
        ms = statistics.median(total[name].ms)
        calls = f", {canvas_calls[name]:.1f} landmarker calls" if name in searches else ""
        print(f"  {name:>18}: {ms:7.1f} ms  = {ms / plain_ms:4.1f}x plain{calls}")
    estimators.close()


@dataclass
class VideoTally:
    frames: int = 0
    frames_with_someone: int = 0
    found: int = 0  # poses reported, summed over frames
    matched: int = 0  # of them, matching a person present at OKS >= RECALL_OKS
    present: int = 0  # people in the frame, summed over frames (hidden ones included)
    switches: int = 0
    ms: float = 0.0  # model time, summed over frames

    def add_clip(self, clip: Clip, rows: Sequence[Sequence[PoseResult | None]], ms: float) -> None:
        last_slot: dict[int, int] = {}
        for t, row in enumerate(rows):
            present = [(w, p) for w, p in enumerate(clip.people[t]) if p is not None]
            poses = [(s, p) for s, p in enumerate(row) if p is not None]
            self.frames += 1
            self.frames_with_someone += bool(poses)
            self.found += len(poses)
            self.present += len(present)
            for i, j, score in match([p for _, p in poses], [p for _, p in present]):
                if score < RECALL_OKS:
                    continue
                self.matched += 1
                walker, slot = present[j][0], poses[i][0]
                self.switches += walker in last_slot and last_slot[walker] != slot
                last_slot[walker] = slot
        self.ms += ms

    def row(self, name: str, plain_ms: float) -> str:
        n = max(self.frames, 1)
        per_frame = self.ms / n
        return (
            f"{name:>13} | {self.frames_with_someone / n:8.0%} | {self.found / n:5.2f} ({self.matched / n:4.2f}) "
            f"of {self.present / n:4.2f} | {self.switches:9d} | {per_frame:7.1f} ms = {per_frame / plain_ms:5.1f}x"
        )


def _warm_up(settings: PoseSettings, estimators: EstimatorPool, frames: Sequence[np.ndarray], lanes: int) -> None:
    """Untimed frames through each mode, so that neither mode's timing includes loading
    the library or making landmarkers (~0.1 s each): the crowd tracker's are made on first
    use and kept by ``estimators``, which the timed tracker then shares. A few frames, so
    that people are found and then followed on every lane."""
    with VideoPoseEstimator(settings) as plain:
        plain.detect(frames[0], 0)
    size = (frames[0].shape[1], frames[0].shape[0])
    with CrowdTracker(estimators, settings, image_size=size, lanes=lanes) as tracker:
        for t, rgb in enumerate(frames[:_WARM_UP_FRAMES]):
            tracker.detect(rgb, t * 100)


_WARM_UP_FRAMES = 5


def _crowd_lanes(lanes: int) -> dict[str, int]:
    """The crowd tracker's runs, named, with their lanes: on ``lanes``, and on one too."""
    return {"crowd": lanes} | ({"crowd, 1 lane": 1} if lanes > 1 else {})


def _run_clip(
    clip_frames: Sequence[np.ndarray],
    detect: Callable[[np.ndarray, int], tuple[PoseResult, ...]],
    slots: int,
    fps: float,
) -> tuple[list[list[PoseResult | None]], float]:
    identities = IdentityTracker(slots, (clip_frames[0].shape[1], clip_frames[0].shape[0]))
    rows = []
    ms = 0.0
    for t, rgb in enumerate(clip_frames):
        start = time.perf_counter()
        poses = detect(rgb, round(t * 1000.0 / fps))
        ms += (time.perf_counter() - start) * 1000.0
        rows.append(identities.assign(poses))
    return rows, ms


def run_video(args: argparse.Namespace) -> None:
    settings = PoseSettings(model=args.model, max_poses=args.max_poses)
    size, fps = (480, 360), 10.0
    heights = tuple(int(h) for h in args.clip_heights.split(","))
    estimators = EstimatorPool()
    references = reference_poses(estimators(replace(settings, max_poses=1)).detect)
    lanes = _crowd_lanes(args.lanes)
    tallies = {"plain": VideoTally()} | {name: VideoTally() for name in lanes}
    calls = searches = 0
    for seed in range(args.clip_seeds):
        walkers = surveillance_walkers(np.random.default_rng(seed), args.clip_people, heights, args.clip_frames, size)
        clip = make_clip(references, walkers, args.clip_frames, size, background_name=args.clip_background)
        frames = [frame.rgb for frame in FrameReader(encode_clip(list(clip.frames), fps=round(fps)))]
        _warm_up(settings, estimators, frames, args.lanes)
        with VideoPoseEstimator(settings) as plain:
            rows, ms = _run_clip(frames, plain.detect, settings.max_poses, fps)
        tallies["plain"].add_clip(clip, rows, ms)
        for name, lane_count in lanes.items():
            with CrowdTracker(estimators, settings, image_size=size, lanes=lane_count) as tracker:
                rows, ms = _run_clip(frames, tracker.detect, settings.max_poses, fps)
                if name == "crowd":
                    calls += tracker.calls
                    searches += tracker.searches
            tallies[name].add_clip(clip, rows, ms)
    estimators.close()
    plain_ms = tallies["plain"].ms / max(tallies["plain"].frames, 1)
    print(
        f"# bench_people video: model {args.model}, max people {args.max_poses}, {args.clip_seeds} clips x "
        f"{args.clip_frames} frames, {size[0]}x{size[1]} at {fps:.0f} fps, {args.clip_people} people walking "
        f"on {args.clip_background}, crowd on {args.lanes} lane(s)"
    )
    print(_machine_line())
    print(
        f"# people: head-and-torso crops {heights[0]}-{heights[1]} px tall (a standing person with that head "
        f"would be ~{round(2.5 * heights[0])}-{round(2.5 * heights[1])} px)"
    )
    print()
    print("         mode | >=1 found | found/frame (matched) of present | id switches | time per frame")
    for name, tally in tallies.items():
        print(tally.row(name, plain_ms))
    frames = tallies["crowd"].frames
    print()
    print(f"crowd: {calls / frames:.1f} landmarker calls per frame, a full search in {searches / frames:.0%} of frames")


def _machine_line() -> str:
    return (
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def run_file_clip(args: argparse.Namespace) -> None:
    """A real clip of your own (no annotations, so no recall): people found per frame by
    plain VIDEO mode and by the crowd tracker, and the time ratio."""
    settings = PoseSettings(model=args.model, max_poses=args.max_poses)
    reader = itertools.islice(FrameReader(args.clip), args.clip_frames)  # None: every frame
    frames = [(frame.time_s, frame.rgb) for frame in reader]
    if not frames:
        raise SystemExit(f"no frames in {args.clip}")
    size = (frames[0][1].shape[1], frames[0][1].shape[0])
    estimators = EstimatorPool()
    _warm_up(settings, estimators, [rgb for _, rgb in frames], args.lanes)
    counts: dict[str, list[int]] = {}
    ms: dict[str, float] = {}
    lanes = _crowd_lanes(args.lanes)
    calls = searches = 0

    def run_mode(name: str, detect: Callable[[np.ndarray, int], tuple[PoseResult, ...]]) -> None:
        counts[name], ms[name] = [], 0.0
        for time_s, rgb in frames:
            start = time.perf_counter()
            counts[name].append(len(detect(rgb, round(time_s * 1000))))
            ms[name] += (time.perf_counter() - start) * 1000.0

    with VideoPoseEstimator(settings) as plain:
        run_mode("plain", plain.detect)
    for name, lane_count in lanes.items():
        with CrowdTracker(estimators, settings, image_size=size, lanes=lane_count) as tracker:
            run_mode(name, tracker.detect)
            if name == "crowd":
                calls, searches = tracker.calls, tracker.searches
    estimators.close()
    n = len(frames)
    print(
        f"# bench_people clip: {args.clip}, {n} frames of {size[0]}x{size[1]}, model {args.model}, "
        f"max people {args.max_poses}, crowd on {args.lanes} lane(s)"
    )
    print(_machine_line())
    print()
    print("         mode | >=1 found | found/frame | time per frame")
    for name, per_frame in counts.items():
        found = np.array(per_frame)
        print(
            f"{name:>13} | {(found > 0).mean():8.0%} | {found.mean():11.2f} | {ms[name] / n:7.1f} ms = "
            f"{ms[name] / ms['plain']:5.1f}x"
        )
    print()
    print(f"crowd: {calls / n:.1f} landmarker calls per frame, a full search in {searches / n:.0%} of frames")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvases", type=int, default=4, help="canvases per person height")
    parser.add_argument("--people", type=int, default=3, help="people per canvas")
    parser.add_argument("--max-poses", type=int, default=6)
    parser.add_argument("--model", default="full")
    parser.add_argument(
        "--lanes", type=int, default=search_lanes(), help="landmarkers crowd mode searches on at once (default: cores)"
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--size",
        type=lambda text: tuple(int(v) for v in text.lower().split("x")),
        default=(1920, 1080),
        metavar="WxH",
        help="canvas size for --scenario photos (people scaled with it; default 1920x1080)",
    )
    parser.add_argument("--ablation", action="store_true", help="also run variants of the crowd settings")
    parser.add_argument("--scenario", choices=["photos", "video", "both"], default="both")
    parser.add_argument("--clip-people", type=int, default=5, help="people walking in each clip")
    parser.add_argument("--clip-heights", default="50,70", help="low,high head-and-torso crop heights in px")
    parser.add_argument("--clip-frames", type=int, help="frames per clip (default 60; --clip: all)")
    parser.add_argument("--clip-seeds", type=int, default=3, help="clips (one per seed)")
    parser.add_argument("--clip-background", default="gravel")
    parser.add_argument(
        "--clip", metavar="FILE", help="instead: a real video file of your own (people found per frame, no recall)"
    )
    args = parser.parse_args(argv)
    if args.clip:
        run_file_clip(args)
        return
    args.clip_frames = args.clip_frames or 60
    if args.scenario in {"photos", "both"}:
        run(args)
    if args.scenario == "both":
        print()
    if args.scenario in {"video", "both"}:
        run_video(args)


if __name__ == "__main__":
    main()
