"""Benchmark: plain and crowd mode against photos annotated by hand, in one run.

The crowd search's targets are set on real photos with COCO-style keypoint annotations,
which the project cannot ship. This runs any such set of your own (COCO's
``person_keypoints_val2017.json`` and its images, or a file of yours in that format)
through the product's own pipeline (``pose_core.analysis.analyze_image``: decode, then
one landmarker call, or the crowd search) and scores it as the targets are stated
(``pose_core.evaluation``):

- recall at OKS 0.5 over every annotated person, mean OKS with a missed person counting
  0, and precision (poses that match someone), overall and per person height;
- mean OKS on photos with exactly one person;
- false people: poses found on photos where nobody is annotated;
- time per photo (decode + search, median) and its ratio to plain mode, crowd mode on
  ``--lanes`` landmarkers at once (default: the command line's) and on one.

    python -m bench.bench_coco ANNOTATIONS.json --images DIR [--max-poses 6] [--model full]
        [--lanes N] [--limit N] [--json OUT]

Photos listed in the annotations but missing from ``--images`` are skipped and counted.
Annotations are taken to be on the photo as it is shown (upright, after its EXIF
orientation, as PoseLab reads it); photos whose size disagrees are counted and named.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pose_core.analysis import EstimatorPool, analyze_image, search_lanes, usable_cores
from pose_core.errors import ImageLoadError
from pose_core.evaluation import AnnotatedImage, AnnotationError, Tally, load_coco_keypoints
from pose_core.types import PoseResult, PoseSettings

# Person heights (annotated box, pixels) the results are broken down by.
HEIGHT_BANDS: tuple[tuple[float, float], ...] = ((0, 50), (50, 100), (100, 200), (200, 400), (400, math.inf))


@dataclass
class ModeResult:
    """One mode's scores over the whole set."""

    everyone: Tally = field(default_factory=Tally)
    by_height: dict[str, Tally] = field(default_factory=lambda: {_band_name(b): Tally() for b in HEIGHT_BANDS})
    single: Tally = field(default_factory=Tally)  # photos with exactly one annotated person
    false_people: int = 0  # poses on photos where nobody is annotated
    false_where: list[str] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)  # per photo: decode + search

    def add(self, image: AnnotatedImage, poses: Sequence[PoseResult], ms: float) -> None:
        self.ms.append(ms)
        pairs = self.everyone.add(poses, image.people)
        if image.nobody:
            self.false_people += len(poses)
            if poses:
                self.false_where.append(f"{image.file_name}:{len(poses)}")
        if len(image.people) == 1 and not image.others:
            self.single.add(poses, image.people)
        # Per height: each person scored by the pose the whole photo's matching gave them
        # (matching within a band alone could give one pose to two people).
        scores = {j: score for _, j, score in pairs}
        for j, person in enumerate(image.people):
            band = next(b for b in HEIGHT_BANDS if b[0] <= person.height < b[1])
            self.by_height[_band_name(band)].count_person(scores.get(j, 0.0))

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms) if self.ms else math.nan

    def summary(self, plain_ms: float) -> dict[str, object]:
        return {
            "everyone": _scores(self.everyone),
            "single_person_photos": _scores(self.single),
            "by_height_px": {name: _scores(t) for name, t in self.by_height.items()},
            "false_people": self.false_people,
            "false_people_where": self.false_where,
            "median_ms": self.median_ms,
            "time_ratio": self.median_ms / plain_ms,
        }


def _scores(tally: Tally) -> dict[str, float | int | None]:
    def number(value: float) -> float | None:
        return None if math.isnan(value) else round(value, 4)  # JSON has no NaN

    return {
        "people": tally.people,
        "recall": number(tally.recall),
        "mean_oks": number(tally.mean_oks),
        "found": tally.found,
        "precision": number(tally.precision),
    }


def _band_name(band: tuple[float, float]) -> str:
    low, high = band
    return f"{low:g}-{high:g}" if math.isfinite(high) else f">={low:g}"


@dataclass
class Run:
    """What was run, besides the scores."""

    photos: list[AnnotatedImage]
    missing: int  # annotated photos not in the folder

    @property
    def nobody(self) -> int:
        """Photos where nobody is annotated."""
        return sum(1 for image in self.photos if image.nobody)

    unreadable: list[str] = field(default_factory=list)
    size_mismatch: list[str] = field(default_factory=list)


def run(args: argparse.Namespace) -> dict[str, object]:
    """Score every mode on the annotated photos; print the table, and return (and with
    ``--json`` write) the figures."""
    try:
        images = load_coco_keypoints(args.annotations)
    except AnnotationError as exc:
        raise SystemExit(f"bench_coco: {exc}") from None
    folder = Path(args.images)
    present = [image for image in images if (folder / image.file_name).is_file()]
    if args.limit:
        present = present[: args.limit]
    if not present:
        raise SystemExit(f"bench_coco: none of the {len(images)} annotated photos is in {folder}")
    done = Run(present, len(images) - len(present) if not args.limit else 0)

    plain = PoseSettings(model=args.model, max_poses=args.max_poses)
    crowd = replace(plain, crowd=True)
    modes: dict[str, tuple[PoseSettings, int]] = {"plain": (plain, 1), "crowd": (crowd, args.lanes)}
    if args.lanes > 1:
        modes["crowd, 1 lane"] = (crowd, 1)
    results = {name: ModeResult() for name in modes}
    with EstimatorPool() as pool:
        first = (folder / present[0].file_name).read_bytes()
        for settings, lanes in modes.values():  # untimed: loading the library, making landmarkers
            with contextlib.suppress(ImageLoadError):
                analyze_image(first, settings, pool, lanes=lanes)
        for image in present:
            data = (folder / image.file_name).read_bytes()
            try:
                timed = [_timed(data, settings, pool, lanes) for settings, lanes in modes.values()]
            except ImageLoadError as exc:
                done.unreadable.append(f"{image.file_name}: {exc}")
                continue
            (width, height), _, _ = timed[0]
            if all(image.size) and image.size != (width, height):
                done.size_mismatch.append(
                    f"{image.file_name}: annotated {image.size[0]}x{image.size[1]}, read {width}x{height}"
                )
            for name, (_, poses, ms) in zip(modes, timed, strict=True):
                results[name].add(image, poses, ms)

    plain_ms = results["plain"].median_ms
    report: dict[str, object] = {
        "annotations": str(args.annotations),
        "photos": len(results["plain"].ms),
        "people": results["plain"].everyone.people,
        "photos_with_nobody": done.nobody,
        "photos_missing": done.missing,
        "photos_unreadable": done.unreadable,
        "size_mismatch": done.size_mismatch,
        "settings": {"model": args.model, "max_poses": args.max_poses, "lanes": args.lanes},
        "modes": {name: result.summary(plain_ms) for name, result in results.items()},
    }
    _print(args, done, results)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _timed(
    data: bytes, settings: PoseSettings, pool: EstimatorPool, lanes: int
) -> tuple[tuple[int, int], tuple[PoseResult, ...], float]:
    """The photo's upright size, its poses and the time (decode + search, ms)."""
    start = time.perf_counter()
    _, analysis = analyze_image(data, settings, pool, lanes=lanes)
    return (analysis.width, analysis.height), analysis.poses, (time.perf_counter() - start) * 1000.0


def _print(args: argparse.Namespace, done: Run, results: dict[str, ModeResult]) -> None:
    names = list(results)
    plain = results["plain"]
    nobody = done.nobody
    print(
        f"# bench_coco: {args.annotations}: {len(plain.ms)} photos, {plain.everyone.people} people with "
        f"keypoints, {nobody} photos with nobody; model {args.model}, max people {args.max_poses}, "
        f"crowd on {args.lanes} lane(s)"
    )
    print(f"# machine: {platform.machine()}, {usable_cores()} usable cores, Python {platform.python_version()}")
    if done.missing:
        print(f"# {done.missing} annotated photos not found in {args.images}: skipped")
    for line in done.unreadable + done.size_mismatch:
        print(f"# {line}")
    print()
    print(f"{'people':>18} | " + " | ".join(f"{name:^26}" for name in names))
    print(f"{'':>18} | " + " | ".join(f"{'recall precision meanOKS':^26}" for _ in names))

    def row(label: str, tallies: list[Tally]) -> None:
        cells = [f"{t.recall:6.2f} {t.precision:9.2f} {t.mean_oks:8.2f}" for t in tallies]
        print(f"{label:>18} | " + " | ".join(f"{c:^26}" for c in cells))

    for band, tally in plain.by_height.items():
        if tally.people:
            row(f"{band} px ({tally.people})", [results[n].by_height[band] for n in names])
    row(f"all ({plain.everyone.people})", [results[n].everyone for n in names])
    row(f"alone ({plain.single.people})", [results[n].single for n in names])
    print("(height: the annotated box; precision is not split by height; alone: photos with one person)")
    print()
    print(f"false people on {nobody} photos with nobody annotated:")
    for name in names:
        print(f"  {name:>14}: {results[name].false_people:3d}  {' '.join(results[name].false_where)}")
    print()
    print("time per photo (decode + search), median:")
    for name in names:
        ms = results[name].median_ms
        print(f"  {name:>14}: {ms:7.1f} ms  = {ms / plain.median_ms:4.1f}x plain")


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("annotations", help="COCO-style keypoints JSON (images, annotations with keypoints)")
    parser.add_argument("--images", required=True, help="the folder the annotations' file_name values are in")
    parser.add_argument("--max-poses", type=int, default=6, help="people to look for (the targets use 6)")
    parser.add_argument("--model", default="full")
    parser.add_argument(
        "--lanes", type=int, default=search_lanes(), help="landmarkers crowd mode searches on at once (default: cores)"
    )
    parser.add_argument("--limit", type=int, help="only the first N photos found")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
