"""A batch of photos on every core: the same analysis as one process, in input order.

:func:`analyze_source` is what happens to one photo on every engine (the command line's
single process, the process pool here, Ray actors in :mod:`pose_core.cluster`);
:func:`analyze_sources` runs it over a batch in one process or in a pool of ``workers``
processes.

NOTE: one landmarker runs on one core (MediaPipe serialises calls into it; measured:
two threads on one landmarker 1.0x, two landmarkers 1.8x), so a batch uses more cores
only with more landmarkers. Each worker process builds its own, on first use: a
landmarker is a handle to native state and is never pickled. Workers are started with
``spawn``: forking a process whose MediaPipe threads are running can deadlock.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from itertools import repeat

from pose_core.analysis import EstimatorFor, EstimatorPool, analyze_image, search_lanes
from pose_core.angles import pose_angles
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.errors import ImageLoadError, SettingsError
from pose_core.export import ImageRecord
from pose_core.images import encode_png
from pose_core.types import PoseSettings

MAX_WORKERS = 64


@dataclass(frozen=True)
class SourceResult:
    """One input's outcome, and its overlay image when overlays were asked for."""

    record: ImageRecord
    overlay_png: bytes | None = None  # PNG; None when not asked for or unreadable


def analyze_source(
    source: str, settings: PoseSettings, estimator_for: EstimatorFor, *, overlay: bool, lanes: int = 1
) -> SourceResult:
    """Analyse the photo at ``source`` (a path); an unreadable one gives a record with its
    one-line ``error``. With ``overlay``, also draw the skeleton with elbow and knee
    angles, as the command line's ``--overlay-dir`` writes it. ``lanes``: see
    :func:`pose_core.analysis.analyze_image`."""
    try:
        image, analysis = analyze_image(source, settings, estimator_for, lanes=lanes)
    except ImageLoadError as exc:
        return SourceResult(ImageRecord(source=source, analysis=None, error=str(exc)))
    png = None
    if overlay:
        angles = [pose_angles(p) for p in analysis.poses]
        png = encode_png(draw_overlay(image.rgb, analysis.poses, DrawStyle(show_angles=True), angles))
    return SourceResult(ImageRecord(source, analysis), png)


def check_workers(workers: int) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        raise SettingsError(f"workers must be 1..{MAX_WORKERS}, got {workers}")
    return workers


def refrozen(result: SourceResult) -> SourceResult:
    """A result that crossed a process boundary, with its arrays read-only again
    (unpickled numpy arrays come back writable)."""
    analysis = result.record.analysis
    if analysis is None:
        return result
    poses = tuple(replace(pose) for pose in analysis.poses)  # __post_init__ makes them read-only
    return replace(result, record=replace(result.record, analysis=replace(analysis, poses=poses)))


def analyze_sources(
    sources: Sequence[str], settings: PoseSettings, *, workers: int = 1, overlays: bool = False
) -> Iterator[SourceResult]:
    """Each source's :class:`SourceResult`, in input order, as it is ready: in this
    process with ``workers=1``, else in a pool of that many processes (no more than
    there are sources). A crowd search spreads its tiles over the cores the workers
    leave (:func:`pose_core.analysis.search_lanes`). The results are the same either way."""
    check_workers(workers)
    workers = min(workers, len(sources))
    lanes = search_lanes(workers) if settings.crowd else 1
    if workers <= 1:
        with EstimatorPool() as estimators:
            for source in sources:
                yield analyze_source(source, settings, estimators, overlay=overlays, lanes=lanes)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            # chunksize 1: photos differ in size, and a worker that finishes early takes the next.
            for result in pool.map(_analyze_in_worker, sources, repeat(settings), repeat(overlays), repeat(lanes)):
                yield refrozen(result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# Each worker process's own landmarkers, built on first use and closed at its exit.
_worker_estimators: EstimatorPool | None = None


def _analyze_in_worker(source: str, settings: PoseSettings, overlay: bool, lanes: int) -> SourceResult:
    global _worker_estimators  # noqa: PLW0603 - one pool per worker process, by design
    if _worker_estimators is None:
        _worker_estimators = EstimatorPool()
    return analyze_source(source, settings, _worker_estimators, overlay=overlay, lanes=lanes)
