"""Benchmark: the HTTP API under 8 concurrent clients against the bare landmarker, in
the same run, on the same photo.

- ``bare``: one Tasks landmarker in this process, decode (``mp.Image.create_from_file``)
  + ``detect``, one photo after another: the throughput of one landmarker (one core);
- ``api``: ``python -m pose_core serve`` on a free loopback port; 8 client threads each
  POST the photo to ``/v1/analyze`` ``--requests`` times (upload, queue, decode,
  inference, the CLI's JSON, download). Reports requests/s, p50/p95 latency, 429s.

Loopback only (127.0.0.1); the loop is bounded by the request count and a time limit.

    python bench/bench_api.py [--requests 15] [--clients 8] [--workers 2] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import requests
from mediapipe.tasks.python import vision
from PIL import Image

from pose_core.models import resolve_model

TIME_LIMIT_S = 300


def _photo(size: tuple[int, int]) -> bytes:
    from skimage import data  # noqa: PLC0415 - only the benchmark needs scikit-image

    width, height = size
    canvas = np.full((height, width, 3), 90, np.uint8)
    person = cv2.resize(data.astronaut(), (height, height), interpolation=cv2.INTER_CUBIC)
    canvas[:, (width - height) // 2 : (width - height) // 2 + height] = person
    noise = np.random.default_rng(0).normal(0, 9, canvas.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(canvas + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bare_per_s(path: Path, model_path: Path, n: int) -> float:
    options = vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(model_path)), running_mode=vision.RunningMode.IMAGE
    )
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        landmarker.detect(mp.Image.create_from_file(str(path)))
        start = time.perf_counter()
        for _ in range(n):
            landmarker.detect(mp.Image.create_from_file(str(path)))
        return n / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=15, help="requests per client (default 15)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="the server's --workers (default 2)")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--model", default="full", choices=["lite", "full", "heavy"])
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    photo = _photo(size)  # type: ignore[arg-type]
    total = args.requests * args.clients
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        path.write_bytes(photo)
        bare = _bare_per_s(path, resolve_model(args.model).path, total)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "pose_core", "serve", "--port", str(port), "--workers", str(args.workers)]
        + ["--max-queue", str(args.clients)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/v1/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        files = [("images", ("photo.jpg", photo))]
        form = {"model": args.model}
        requests.post(f"{url}/v1/analyze", files=files, data=form, timeout=60).raise_for_status()  # warm-up
        latencies: list[float] = []
        busy = 0
        lock = threading.Lock()
        stop_at = time.monotonic() + TIME_LIMIT_S

        def client() -> None:
            nonlocal busy
            with requests.Session() as session:
                for _ in range(args.requests):
                    if time.monotonic() > stop_at:
                        return
                    start = time.perf_counter()
                    reply = session.post(f"{url}/v1/analyze", files=files, data=form, timeout=120)
                    with lock:
                        if reply.status_code == 429:
                            busy += 1
                        else:
                            reply.raise_for_status()
                            latencies.append(time.perf_counter() - start)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    done = len(latencies)
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[18]
    print(
        f"{args.clients} clients x {args.requests} requests, one {args.size} JPEG each, model {args.model}, "
        f"server --workers {args.workers}"
    )
    print(f"bare landmarker (decode + detect, one after another): {bare:.1f} photos/s")
    print(
        f"api: {done / elapsed:.1f} requests/s = {done / elapsed / bare:.2f}x bare; "
        f"latency p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; {busy} answered 429"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
