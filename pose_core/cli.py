"""The command line.

``python -m pose_core analyze PATH [PATH ...]``: photos in, JSON/CSV/overlays out.
``python -m pose_core video IN``: a video in, JSON/CSV/annotated MP4 out.

Exit status: 0 when every input was read, 2 when some (or the video) were not, 3 when a
video could be read only in part (damaged or cut short; what was read is written), 1 when
nothing could run at all (bad options, model unavailable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from pose_core import __version__
from pose_core.analysis import search_lanes
from pose_core.drawing import DrawStyle
from pose_core.errors import (
    ImageLoadError,
    ModelCorruptError,
    ModelNotDownloadedError,
    OutputError,
    PoseLabError,
    VideoLoadError,
)
from pose_core.export import ImageRecord, series_table, table_csv, to_csv, to_json, unique_names, video_json
from pose_core.images import SUPPORTED_EXTENSIONS
from pose_core.models import VARIANTS, ResolvedModel, download_model, get_variant, resolve_model
from pose_core.parallel import analyze_sources
from pose_core.postures import ClassifierError, PostureClassifier
from pose_core.quiet import quiet_native_logs
from pose_core.smoothing import METHODS, Smoothing
from pose_core.types import CONFIDENCE_FIELDS, MAX_POSES_LIMIT, PoseSettings

DEFAULTS = PoseSettings()
EXIT_PARTIAL = 3


class Progress:
    """A one-line progress bar on a terminal; silent when stderr is not one."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        # sys.stderr looked up now, not at import: the quiet entry point (run) replaces it.
        self.total, self.label, self.stream = total, label, stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.start = time.perf_counter()

    def update(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        total = total or self.total
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        if not total:  # length unknown: a count, no bar
            self.stream.write(f"\r{self.label} {done} ({rate:.1f}/s)")
        else:
            bar = "#" * int(done / total * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{total} ({rate:.1f}/s)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def expand_inputs(paths: list[str]) -> Iterator[str]:
    """Each path as given; a folder becomes its image files, sorted."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from (
                str(p) for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
            )
        else:
            yield given


def _write(target: str | Path, data: str | bytes) -> None:
    """Write a result where the user asked ("-" is stdout for text); a failure is an
    :class:`OutputError` naming the target."""
    if target == "-" and isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        return
    try:
        if isinstance(data, str):
            Path(target).write_text(data, encoding="utf-8")
        else:
            Path(target).write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _resolve_or_download(name: str) -> ResolvedModel:
    """The model, downloading it first when it is downloadable and missing or damaged."""
    try:
        return resolve_model(name)
    except ModelNotDownloadedError:
        print(f"Downloading the {name} model (first use only)...", file=sys.stderr)
    except ModelCorruptError as exc:
        if get_variant(name).url is None:
            raise
        print(f"The cached {name} model is damaged ({exc}); downloading it again...", file=sys.stderr)
    bar = Progress(0, f"{name} model")
    try:
        return download_model(name, progress=lambda done, total: bar.update(done // 2**20, (total or 0) // 2**20))
    finally:
        bar.close()


def _settings(args: argparse.Namespace) -> PoseSettings:
    return PoseSettings(
        model=args.model,
        max_poses=args.max_poses,
        **{name: getattr(args, name) for name in CONFIDENCE_FIELDS},
        crowd=args.crowd,
    )


def _classifier(args: argparse.Namespace) -> PostureClassifier | None:
    """The taught posture classifier of --classifier, read before any analysis runs."""
    if not args.classifier:
        return None
    try:
        text = Path(args.classifier).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassifierError(f"cannot read the classifier {args.classifier}: {exc}") from exc
    return PostureClassifier.from_json(text)


def analyze(args: argparse.Namespace) -> int:
    settings = _settings(args)
    classifier = _classifier(args)
    model = _resolve_or_download(settings.model)
    sources = list(expand_inputs(args.paths))
    if not sources:
        print("error: no images found in the given paths", file=sys.stderr)
        return 2
    if args.overlay_dir:
        try:
            args.overlay_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {args.overlay_dir}: {exc.strerror or exc}") from exc
    records: list[ImageRecord] = []
    overlay_names = unique_names(sources, ".overlay.png")
    progress = Progress(len(sources), "analyze")
    overlays = bool(args.overlay_dir)
    if args.engine == "ray":
        from pose_core.cluster import ray_analyze_sources  # Ray is an optional extra

        results = ray_analyze_sources(
            sources, settings, workers=args.workers, overlays=overlays, address=args.ray_address
        )
    else:
        workers = 1 if args.workers is None else args.workers
        results = analyze_sources(sources, settings, workers=workers, overlays=overlays)
    for n, result in enumerate(results, start=1):  # in input order, from any engine
        record = result.record
        if result.overlay_png is not None:
            overlay_path = args.overlay_dir / overlay_names[n - 1]
            _write(overlay_path, result.overlay_png)
            record = replace(record, overlay=str(overlay_path))
        records.append(record)
        progress.update(n)
    progress.close()

    if args.json:
        _write(args.json, to_json(records, settings, model, classifier))
    if args.csv:
        _write(args.csv, to_csv(records))
    failed = [r for r in records if r.error]
    found = sum(len(r.poses) for r in records)
    print(f"{len(records)} image(s), {found} pose(s) found, {len(failed)} unreadable", file=sys.stderr)
    for record in failed:
        print(f"  {record.source}: {record.error}", file=sys.stderr)
    return 2 if failed else 0


def video(args: argparse.Namespace) -> int:
    # Imported here: PyAV (and, for Butterworth, scipy) cost memory `analyze` does not need.
    from pose_core.video import VideoJob

    settings = _settings(args)
    classifier = _classifier(args)
    _resolve_or_download(settings.model)
    smoothing = Smoothing(method=args.smoothing)
    job = VideoJob(settings, stride=args.stride, lanes=search_lanes() if settings.crowd else 1)
    bar = Progress(0, "video")
    try:
        render = job.render(
            args.input,
            smoothing,
            DrawStyle(),
            video=bool(args.output),
            progress=lambda done, total, fps: bar.update(done, total),
        )
    finally:
        bar.close()
    analysis = job.analysis
    assert analysis is not None
    if args.output and render.mp4 is not None:
        _write(args.output, render.mp4)
    if args.json:
        _write(args.json, video_json(analysis, render.series, smoothing, args.input, classifier))
    if args.csv:
        _write(args.csv, table_csv(series_table(render.series, args.input)))
    print(
        f"{len(render.series)} frame(s) analysed at {analysis.frames_per_second:.1f} frames/s, "
        f"a person in {analysis.raw.frames_with_people}; smoothing {smoothing.method}",
        file=sys.stderr,
    )
    if not analysis.complete:
        print(f"warning: {args.input}: only partly analysed: {analysis.problem}", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", choices=list(VARIANTS), default=DEFAULTS.model, help=f"model variant (default: {DEFAULTS.model})"
    )
    p.add_argument(
        "--max-poses",
        type=int,
        default=DEFAULTS.max_poses,
        metavar="N",
        help=f"people to look for, 1-{MAX_POSES_LIMIT} (default {DEFAULTS.max_poses})",
    )
    for field in CONFIDENCE_FIELDS:  # min_detection_confidence -> --min-detection-confidence
        what = field.removeprefix("min_").removesuffix("_confidence")
        p.add_argument(
            f"--{field.replace('_', '-')}",
            type=float,
            default=getattr(DEFAULTS, field),
            metavar="P",
            help=f"minimum {what} confidence, 0-1 (default {getattr(DEFAULTS, field)})",
        )
    p.add_argument(
        "--crowd",
        action="store_true",
        help="find everyone: search the picture at several scales for groups, crowds and people far away "
        "(several times slower; spread over up to 4 cores; use with --max-poses N)",
    )
    p.add_argument(
        "--classifier",
        metavar="FILE",
        help="name postures with this taught classifier (a JSON file saved by the app) instead of the rules",
    )
    p.add_argument("--json", metavar="FILE", help="write JSON here ('-' for stdout)")
    p.add_argument("--csv", metavar="FILE", help="write the landmark table as CSV here ('-' for stdout)")


def build_parser() -> argparse.ArgumentParser:
    # The same command line runs as `poselab` (installed) and `python -m pose_core`.
    prog = "poselab" if Path(sys.argv[0]).name == "poselab" else "python -m pose_core"
    parser = argparse.ArgumentParser(prog=prog, description="PoseLab pose analysis, offline.")
    parser.add_argument("--version", action="version", version=f"pose_core {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("analyze", help="detect poses in photos; write JSON, CSV and overlays")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    _add_model_options(p)
    p.add_argument(
        "--overlay-dir",
        type=Path,
        metavar="DIR",
        help="write <name>.overlay.png skeleton images here (<name>-2... when names repeat; the JSON maps them)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="analyse in N processes at once, one landmarker each (default 1; with --engine ray: "
        "N actors, default one per CPU of the cluster); the output is the same",
    )
    p.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this machine (default); ray: Ray Data actors, on a local Ray or the cluster at --ray-address "
        "(pip install 'poselab[ray]')",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --engine ray: the cluster to join (e.g. auto, ray://head:10001); default: start a local Ray",
    )
    p.set_defaults(func=analyze)

    v = commands.add_parser("video", help="track poses through a video; write JSON, CSV and an annotated MP4")
    v.add_argument("input", metavar="IN", help="a video file: mp4, mov, avi, webm, mkv")
    _add_model_options(v)
    v.add_argument("--output", metavar="OUT.mp4", help="write the annotated video (H.264 MP4) here")
    v.add_argument("--stride", type=int, default=1, metavar="N", help="analyse every N-th frame (default 1)")
    v.add_argument(
        "--smoothing",
        choices=list(METHODS),
        default=Smoothing().method,
        help=f"landmark smoothing (default {Smoothing().method}; butterworth is zero-phase but needs a second pass)",
    )
    v.set_defaults(func=video)
    _add_serve_command(commands)
    _add_compare_command(commands)
    return parser


def serve(args: argparse.Namespace) -> int:
    try:  # FastAPI is an optional extra: the dashboard and the rest of the CLI do not need it
        from pose_core.api import ServerConfig, run_server
    except ModuleNotFoundError as exc:
        if exc.name not in ("fastapi", "uvicorn", "multipart", "python_multipart"):
            raise
        raise PoseLabError(f"serve needs {exc.name}: pip install 'poselab[api]'") from None
    config = ServerConfig(workers=args.workers, max_queue=args.max_queue, api_key=args.api_key or None)
    run_server(config, host=args.host, port=args.port)
    return 0


def _add_serve_command(commands: argparse._SubParsersAction) -> None:
    s = commands.add_parser("serve", help="an HTTP API (FastAPI): POST photos or a video, get the JSON")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument(
        "--workers", type=int, default=2, metavar="N", help="requests analysed at once (default 2); the rest wait"
    )
    s.add_argument(
        "--max-queue",
        type=int,
        default=8,
        metavar="N",
        help="requests that may wait for a worker (default 8); more get 429 with Retry-After",
    )
    s.add_argument(
        "--api-key",
        default=os.environ.get("POSELAB_API_KEY"),
        metavar="KEY",
        help="require this key (header X-API-Key, or Authorization: Bearer KEY) on every route but /v1/health "
        "(default: $POSELAB_API_KEY; none: open)",
    )
    s.set_defaults(func=serve)


def compare(args: argparse.Namespace) -> int:
    """Two photos, or two videos (the other aligned to the reference in time), compared."""
    from pose_core.compare import compare_files  # noqa: PLC0415 - dtaidistance and PyAV only here

    settings = _settings(args)
    model = _resolve_or_download(settings.model)
    try:
        doc, table = compare_files(
            args.reference, args.other, settings, person=args.person, window_s=args.window_s, smoothing=Smoothing()
        )
    except (ImageLoadError, VideoLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from pose_core.export import manifest  # noqa: PLC0415

    doc = {**manifest(settings, model), **doc}
    if args.json:
        _write(args.json, json.dumps(doc, indent=1, allow_nan=False))
    if args.csv:
        _write(args.csv, table_csv(table))
    score = doc["score"]
    print(f"score {score if score is not None else 'n/a'} of 100 ({doc['kind']})", file=sys.stderr)
    return 0


def _add_compare_command(commands: argparse._SubParsersAction) -> None:
    c = commands.add_parser(
        "compare", help="compare a pose or a movement with a reference: score, joint differences, alignment"
    )
    c.add_argument("reference", metavar="REFERENCE", help="the reference: a photo, or a video")
    c.add_argument("other", metavar="OTHER", help="what to compare with it: a photo, or a video (as REFERENCE)")
    _add_model_options(c)
    c.add_argument("--person", type=int, default=1, metavar="K", help="whose pose, in both (person number, default 1)")
    c.add_argument(
        "--window-s",
        type=float,
        default=3.0,
        metavar="S",
        help="videos: how far in time (seconds) the alignment may stray from a steady pace (default 3)",
    )
    c.set_defaults(func=compare)


def run() -> int:
    """The command as installed (``poselab``) and as ``python -m pose_core``: :func:`main`
    with MediaPipe's native log chatter filtered out of stderr (:mod:`pose_core.quiet`)."""
    with quiet_native_logs():
        return main()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except VideoLoadError as exc:
        print(f"error: {args.input}: {exc}", file=sys.stderr)
        return 2
    except PoseLabError as exc:  # ours only: anything else is a bug and keeps its traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
