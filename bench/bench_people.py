"""Benchmark: "find everyone" (pose_core.crowd) against plain mode, in one run.

Canvases are 1920x1080 real backgrounds (scikit-image photos with nobody in them) with
real people pasted on them: head-and-torso crops of scikit-image's astronaut and
matplotlib's Grace Hopper portraits (the only photos of people the packages ship; both
upper-body), so "height" is the height of that crop, about 40% of a standing person with
the same head size. The reference keypoints are the landmarker's own pose on each whole
portrait, carried along with the crop (see tests/scenes.py). Nothing is downloaded.

Reports, for plain mode and crowd mode with the same model and max people:
- recall (a pasted person matched by a pose at OKS >= 0.5), mean OKS (unmatched = 0) and
  precision (found poses that match a pasted person) per crop height;
- false people on photos with no person (the backgrounds, at their own size and at 1080p);
- time per 1080p JPEG (decode + search) and its ratio to plain mode (decode + one call).

    python bench/bench_people.py [--canvases 4] [--people 3] [--max-poses 6] [--model full] [--ablation]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pose_core.crowd import CrowdSearch, CrowdSettings  # noqa: E402
from pose_core.images import load_image  # noqa: E402
from pose_core.inference import PoseEstimator  # noqa: E402
from pose_core.types import PoseResult, PoseSettings  # noqa: E402
from tests.scenes import BACKGROUNDS, Scene, background, background_canvas, make_scene, match, reference_poses  # noqa: E402

HEIGHTS = (40, 60, 80, 120, 160, 240, 320, 400)  # crop heights in pixels on a 1080p canvas
RECALL_OKS = 0.5  # the target is recall at OKS 0.5


class Estimators:
    """One estimator per settings, as the app's cache keeps them."""

    def __init__(self) -> None:
        self._by_settings: dict[PoseSettings, PoseEstimator] = {}

    def __call__(self, settings: PoseSettings) -> PoseEstimator:
        if settings not in self._by_settings:
            self._by_settings[settings] = PoseEstimator(settings)
        return self._by_settings[settings]

    def close(self) -> None:
        for estimator in self._by_settings.values():
            estimator.close()


@dataclass
class Tally:
    people: int = 0
    matched: int = 0  # people matched at OKS >= RECALL_OKS
    oks_sum: float = 0.0
    found: int = 0  # poses reported
    true_found: int = 0  # poses that matched someone at OKS >= RECALL_OKS
    ms: list[float] = field(default_factory=list)

    def add(self, poses: Sequence[PoseResult], scene: Scene) -> None:
        pairs = match(poses, scene.people)
        self.people += len(scene.people)
        self.found += len(poses)
        self.oks_sum += sum(score for _, _, score in pairs)
        good = sum(1 for _, _, score in pairs if score >= RECALL_OKS)
        self.matched += good
        self.true_found += good

    def row(self) -> str:
        recall = self.matched / self.people if self.people else float("nan")
        precision = self.true_found / self.found if self.found else float("nan")
        mean_oks = self.oks_sum / self.people if self.people else float("nan")
        return f"{recall:6.2f} {precision:9.2f} {mean_oks:8.2f}"


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
    estimators = Estimators()
    references = reference_poses(estimators(replace(settings, max_poses=1)).detect)
    rng = np.random.default_rng(args.seed)
    canvas_bgs = [b for b in BACKGROUNDS if background(b).shape[0] >= 256]  # small ones upscale too blurry
    scenes: dict[int, list[tuple[Scene, bytes]]] = {h: [] for h in HEIGHTS}
    for height in HEIGHTS:
        for i in range(args.canvases):
            scene = make_scene(rng, references, [height] * args.people, background_name=canvas_bgs[i % len(canvas_bgs)])
            scenes[height].append((scene, _jpeg(scene.rgb)))

    variants: dict[str, CrowdSettings] = {"crowd": CrowdSettings()}
    if args.ablation:
        variants |= {
            "no confirm crop": replace(CrowdSettings(), confirm=False),
            "keep refined": replace(CrowdSettings(), keep_refined=True),
            "min score 0.3": replace(CrowdSettings(), min_score=0.3),
            "one scale (0.75)": replace(CrowdSettings(), tile_fractions=(0.75,)),
            "no ghost filters": replace(CrowdSettings(), min_score=0.0, edge_margin=-1.0, limb_ratio_range=(0, 1e9)),
        }
    plain = estimators(settings)
    modes: dict[str, Callable[[np.ndarray], Sequence[PoseResult]]] = {"plain": plain.detect}
    searches = {name: CrowdSearch(estimators, settings, crowd) for name, crowd in variants.items()}
    for name, search in searches.items():
        modes[name] = lambda rgb, s=search: [p.pose for p in s.find(rgb)]

    # Warm up every estimator once so creation and first-call costs are not timed.
    for mode in modes.values():
        mode(scenes[HEIGHTS[0]][0][0].rgb)

    tallies = {name: {h: Tally() for h in HEIGHTS} for name in modes}
    calls_before = {name: search.calls for name, search in searches.items()}
    for height in HEIGHTS:
        for scene, jpeg in scenes[height]:
            for name, mode in modes.items():  # interleaved, so drift in machine speed hits all modes alike
                poses, ms = _timed(mode, jpeg)
                tallies[name][height].add(poses, scene)
                tallies[name][height].ms.append(ms)

    canvas_calls = {
        name: (search.calls - calls_before[name]) / (len(HEIGHTS) * args.canvases) for name, search in searches.items()
    }
    ghost_images = [(b, background(b)) for b in BACKGROUNDS] + [
        (f"{b}@1080p", background_canvas(b, (1920, 1080))) for b in BACKGROUNDS
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
        f"{args.people} people per height, 1920x1080, seed {args.seed}"
    )
    print(
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print("# people are head-and-torso crops of two real portraits (astronaut, Grace Hopper);")
    print("# 'height' = crop height in px (a standing person with that head would be ~2.5x taller)")
    print()
    print(f"{'height':>6} | " + " | ".join(f"{name:^26}" for name in modes))
    print(f"{'':>6} | " + " | ".join(f"{'recall precision meanOKS':^26}" for _ in modes))
    for height in HEIGHTS:
        print(f"{height:>6} | " + " | ".join(f"{tallies[name][height].row():^26}" for name in modes))
    total = {name: Tally() for name in modes}
    for name in modes:
        for t in tallies[name].values():
            total[name].people += t.people
            total[name].matched += t.matched
            total[name].oks_sum += t.oks_sum
            total[name].found += t.found
            total[name].true_found += t.true_found
            total[name].ms += t.ms
    print(f"{'all':>6} | " + " | ".join(f"{total[name].row():^26}" for name in modes))
    print()
    print(f"false people on {len(ghost_images)} no-person images ({len(BACKGROUNDS)} photos, native and 1080p):")
    for name in modes:
        print(f"  {name:>18}: {ghosts[name]:3d}  {' '.join(ghost_where[name])}")
    print()
    plain_ms = statistics.median(total["plain"].ms)
    print("time per 1080p JPEG (decode + search), median over all canvases:")
    for name in modes:
        ms = statistics.median(total[name].ms)
        calls = f", {canvas_calls[name]:.1f} landmarker calls" if name in searches else ""
        print(f"  {name:>18}: {ms:7.1f} ms  = {ms / plain_ms:4.1f}x plain{calls}")
    estimators.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvases", type=int, default=4, help="canvases per person height")
    parser.add_argument("--people", type=int, default=3, help="people per canvas")
    parser.add_argument("--max-poses", type=int, default=6)
    parser.add_argument("--model", default="full")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--ablation", action="store_true", help="also run variants of the crowd settings")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
