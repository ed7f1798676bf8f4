"""A batch of photos on a Ray cluster (or a local Ray): Ray Data's ``map_batches`` over
an actor pool, each actor holding its own landmarkers.

Same results as :func:`pose_core.parallel.analyze_sources`, in input order. Ray is an
optional extra (``pip install 'poselab[ray]'``): nothing else in PoseLab imports it.

On a cluster every node runs the same PoseLab (install it, or use one image for all of
them), and the photos' paths must be readable on every node (a shared filesystem
mounted at the same path): actors read the files themselves, so the photos never pass
through the driver. Results (poses, and overlays when asked for) come back to the
driver, which writes the JSON, CSV and overlay files.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from pose_core.analysis import EstimatorPool
from pose_core.errors import PoseLabError, SettingsError
from pose_core.parallel import SourceResult, analyze_source, check_workers, refrozen
from pose_core.types import PoseSettings

RAY_MISSING = "--engine ray needs Ray: pip install 'poselab[ray]' (or pip install 'ray[data]')"


class RayUnavailableError(PoseLabError, RuntimeError):
    """Ray is not installed, or the cluster cannot be reached; the message says which."""


class PhotoAnalyzer:
    """One Ray actor's state: its landmarkers, built once when the actor starts.

    Called by Ray Data with batches of ``{"index", "source"}`` rows; returns each row's
    :class:`SourceResult`, pickled (it holds numpy arrays, and Arrow tables do not).
    """

    def __init__(self, settings: dict[str, Any], overlays: bool) -> None:
        self.settings = PoseSettings(**settings)
        self.overlays = overlays
        self.estimators = EstimatorPool()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [
            pickle.dumps(analyze_source(str(source), self.settings, self.estimators, overlay=self.overlays))
            for source in batch["source"]
        ]
        return {"index": batch["index"], "result": np.array(results, dtype=object)}


def _start_ray(address: str | None) -> bool:
    """Connect to the cluster at ``address``, or start a local Ray; True when this call
    started it (and so should shut it down)."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(RAY_MISSING) from None
    if ray.is_initialized():
        return False
    # Ray's own chatter (start-up, token notice, progress) is not ours to show; its errors are.
    logging.getLogger("ray").setLevel(logging.ERROR)
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,  # an actor's exception still reaches us, with its traceback
            configure_logging=False,
        )
    except (ConnectionError, TimeoutError) as exc:
        raise RayUnavailableError(f"cannot connect to the Ray cluster at {address}: {exc}") from None
    return True


def ray_analyze_sources(
    sources: Sequence[str],
    settings: PoseSettings,
    *,
    workers: int | None = None,
    overlays: bool = False,
    address: str | None = None,
) -> Iterator[SourceResult]:
    """Each source's :class:`SourceResult`, in input order, as soon as it and those
    before it are ready, from a pool of ``workers`` Ray actors (default: one per CPU
    of the cluster, at most one per source). ``address``: the cluster to join (e.g.
    ``ray://head:10001`` or ``auto``); None starts a local Ray for this call."""
    if workers is not None:
        check_workers(workers)
    if not sources:
        return
    started = _start_ray(address)
    import ray
    import ray.data

    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # Ray Data sets up its own logger on import
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = min(size, len(sources))
        if size < 1:
            raise SettingsError("the Ray cluster has no CPUs")
        rows = [{"index": i, "source": source} for i, source in enumerate(sources)]
        # One block per photo, so that actors share the batch evenly.
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            PhotoAnalyzer,
            fn_constructor_kwargs={"settings": settings.as_dict(), "overlays": overlays},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=size),
            num_cpus=1,
        )
        waiting: dict[int, SourceResult] = {}
        next_index = 0
        for row in dataset.iter_rows():
            waiting[int(row["index"])] = refrozen(pickle.loads(row["result"]))
            while next_index in waiting:  # in input order, as soon as the order allows
                yield waiting.pop(next_index)
                next_index += 1
    finally:
        if started:
            ray.shutdown()
