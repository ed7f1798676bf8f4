"""Benchmark: the resident memory of the real app server while browsers use it (issue #12, item 7).

What is measured: the resident set size (RSS) of ``streamlit run streamlit_app.py`` and every
process below it, summed from ``VmRSS`` in ``/proc/<pid>/status`` (children found through
``/proc/<pid>/task/*/children``, or by walking ``/proc`` where that file is missing). A background
thread samples it every 100 ms; the report gives the value at the end of each step and the peak
(highest sample, so a spike shorter than 100 ms can be missed) over each scenario. ``RssAnon``
(heap: images, arrays, caches) and ``RssFile`` (mapped libraries and model files) are reported
beside it, to show where the memory goes.

How: each scenario starts a fresh server on a free localhost port (``POSELAB_MODEL_DIR`` set to a
temporary directory, the rest of the environment passed through, so e.g. ``MALLOC_ARENA_MAX`` can be
tried), waits for ``/_stcore/health``, and drives it with Playwright in Debian's Chromium
(``/usr/bin/chromium``). Nothing is downloaded and nothing but localhost is contacted: the photos
and clips are made here from pictures that installed packages ship (scikit-image's astronaut,
coffee, rocket, chelsea and camera; matplotlib's Grace Hopper), each one different (crop, scale,
position, background, mirror, brightness, grain) so that no cache can share them.

- ``photos``: one session on /image_analysis uploads N different ~1920x1280 JPEGs (every third one
  1280x1920) one after another, the new photo replacing the previous one in the uploader (the
  uploader takes several files and adds new ones to those it holds, so the previous one is removed
  first, as a user would), waiting each time for the photo, the skeleton and the 3D chart.
  Targets: peak <= 600 MB, no growth after the first 20 photos.
- ``videos``: three sessions on /video_analysis each upload a different 10 s 720p 30 fps clip at the
  same time and wait for the annotated video and the chart. Target: peak <= 700 MB.
- ``batch``: one session uploads 12 photos of 6000x4000 at once and downloads "All as ZIP". The app
  may refuse such a batch with a message about its limits; the message is then recorded.

    python bench/bench_memory.py [--scenario photos|videos|batch|all] [--photos 50] [--keep]

(``--keep`` keeps the generated files and the server logs.) The app's errors, warnings and the
server log's tracebacks are printed as notes under each table: figures from a page that failed
half-way do not measure the whole page.

It is a benchmark, not a test: it prints a table with the issue's targets beside the figures and
exits 0 whether or not they are met (and also when a scenario fails: the error is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.helpers, as the other benchmarks do
from tests.helpers import CHROMIUM_ARGS, free_port, wait_until_healthy  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
MB = 1024 * 1024
SAMPLE_INTERVAL_S = 0.1
SERVER_START_TIMEOUT_S = 120.0
PAGE_TIMEOUT_MS = 60_000
PHOTO_TIMEOUT_S = 180.0  # one photo: upload, detect, draw, render
VIDEO_TIMEOUT_S = 900.0  # three 10 s clips on a small machine
BATCH_TIMEOUT_S = 900.0
PHOTO_TARGET_MB = 600
VIDEO_TARGET_MB = 700
PHOTO_CHECKPOINTS = (1, 10, 20, 30, 40, 50)
GROWTH_FROM = 20  # "no growth after the first 20 photos"
GROWTH_NOISE_MB = 10
CLIP_SIZE = (1280, 720)
CLIP_FPS = 30
CLIP_SECONDS = 10
BATCH_COUNT = 12
BATCH_SIZE = (6000, 4000)

# ---------------------------------------------------------------- memory of the server


def _status_kb(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon, RssFile, RssShmem of one process, in kB (empty if it has gone)."""
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return values


def _children(pid: int) -> list[int]:
    """Direct children, from /proc/<pid>/task/*/children; by walking /proc where that file is missing."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    try:
        for tid in tasks:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                kids.extend(int(c) for c in f.read().split())
        return kids
    except FileNotFoundError:
        pass  # a kernel without CONFIG_PROC_CHILDREN, or a thread that just ended: walk /proc
    except OSError:
        return kids
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()  # after "(comm)", which may hold spaces
        if len(fields) > 1 and fields[1] == str(pid):
            kids.append(int(entry))
    return kids


def process_tree(root: int, limit: int = 256) -> list[int]:
    """The root and all its descendants (bounded)."""
    seen: list[int] = []
    todo = [root]
    while todo and len(seen) < limit:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(_children(pid))
    return seen


@dataclass(frozen=True)
class Sample:
    t: float  # time.monotonic()
    rss: int  # bytes, the whole tree
    anon: int
    file: int
    processes: int


def sample_tree(root: int) -> Sample:
    total = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    pids = process_tree(root)
    for pid in pids:
        status = _status_kb(pid)
        for key in total:
            total[key] += status.get(key, 0)
    return Sample(time.monotonic(), total["VmRSS"] * 1024, total["RssAnon"] * 1024, total["RssFile"] * 1024, len(pids))


class RssSampler:
    """Samples the server's tree every ``interval`` seconds in a daemon thread."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL_S) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.now()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def now(self) -> Sample:
        """A fresh sample, also kept for the peaks."""
        sample = sample_tree(self.pid)
        with self._lock:
            self.samples.append(sample)
        return sample

    def peak(self, since: float = 0.0, until: float = float("inf")) -> Sample:
        with self._lock:
            window = [s for s in self.samples if since <= s.t <= until and s.rss > 0]
        return max(window, key=lambda s: s.rss) if window else Sample(time.monotonic(), 0, 0, 0, 0)


def mb(n: int) -> float:
    return n / MB


# ---------------------------------------------------------------- the server


@contextlib.contextmanager
def app_server(log_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``streamlit run streamlit_app.py`` on a free port; killed on the way out, whatever happened."""
    port = free_port()
    model_dir = Path(tempfile.mkdtemp(prefix="poselab-models-", dir=log_dir))
    log_path = log_dir / f"server-{port}.log"
    env = {**os.environ, "POSELAB_MODEL_DIR": str(model_dir), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        # A deployed server: no reloading of modules when someone edits the sources mid-run.
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, server, SERVER_START_TIMEOUT_S, log_path, poll_s=0.25)
            yield url, server, log_path
        finally:
            _stop_tree(server)


def _stop_tree(server: subprocess.Popen[bytes]) -> None:
    """Terminate the server and any process it started (by their ids), then kill what is left."""
    descendants = [p for p in process_tree(server.pid) if p != server.pid]
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    for pid in descendants:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


# ---------------------------------------------------------------- pictures made here


@dataclass(frozen=True)
class Sources:
    people: tuple[np.ndarray, ...]  # RGB uint8
    backgrounds: tuple[np.ndarray, ...]


def load_sources() -> Sources:
    """Photos that installed packages ship: no download (scikit-image's are in its wheel)."""
    import matplotlib
    from PIL import Image
    from skimage import data

    hopper_path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    with Image.open(hopper_path) as im:
        hopper = np.asarray(im.convert("RGB"))
    camera = data.camera()
    backgrounds = (data.coffee(), data.rocket(), data.chelsea(), np.dstack([camera] * 3))
    return Sources(people=(data.astronaut(), hopper), backgrounds=backgrounds)


def _cover(image: np.ndarray, width: int, height: int, rng: np.random.Generator, zoom: float) -> np.ndarray:
    """A random crop of ``image`` with the target's aspect, resized to exactly (width, height)."""
    import cv2

    h, w = image.shape[:2]
    scale = max(width / w, height / h) * zoom
    crop_w, crop_h = min(w, round(width / scale)), min(h, round(height / scale))
    x0 = int(rng.integers(0, w - crop_w + 1))
    y0 = int(rng.integers(0, h - crop_h + 1))
    return cv2.resize(image[y0 : y0 + crop_h, x0 : x0 + crop_w], (width, height), interpolation=cv2.INTER_CUBIC)


def _paste(canvas: np.ndarray, person: np.ndarray, x0: int, y0: int, feather: int = 24) -> None:
    """Paste ``person`` into ``canvas`` at (x0, y0) with soft edges, clipped to the canvas."""
    ph, pw = person.shape[:2]
    ch, cw = canvas.shape[:2]
    ramp_x = np.clip(np.minimum(np.arange(pw), np.arange(pw)[::-1]) / feather, 0, 1)
    ramp_y = np.clip(np.minimum(np.arange(ph), np.arange(ph)[::-1]) / feather, 0, 1)
    alpha = (ramp_y[:, None] * ramp_x[None, :])[..., None]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(cw, x0 + pw), min(ch, y0 + ph)
    if dx1 <= dx0 or dy1 <= dy0:
        return
    src = person[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0].astype(np.float32)
    a = alpha[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
    region = canvas[dy0:dy1, dx0:dx1].astype(np.float32)
    canvas[dy0:dy1, dx0:dx1] = np.clip(region * (1 - a) + src * a, 0, 255).astype(np.uint8)


def make_photo(sources: Sources, index: int, width: int, height: int) -> np.ndarray:
    """One composite: a person from a real portrait on a real background; every index differs."""
    import cv2

    rng = np.random.default_rng(1000 + index)
    background = sources.backgrounds[index % len(sources.backgrounds)]
    canvas = _cover(background, width, height, rng, zoom=float(rng.uniform(1.0, 1.6)))
    if rng.random() < 0.5:
        canvas = canvas[:, ::-1]
    canvas = np.ascontiguousarray(canvas)
    person = sources.people[(index // len(sources.backgrounds)) % len(sources.people)]
    ph, pw = person.shape[:2]
    trim = rng.integers(0, 40, 4)  # a slightly different crop of the portrait each time
    person = person[trim[0] : ph - trim[1], trim[2] : pw - trim[3]]
    if rng.random() < 0.5:
        person = person[:, ::-1]
    scale = height * float(rng.uniform(0.55, 0.95)) / person.shape[0]
    person = cv2.resize(person, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    x0 = int(rng.integers(-person.shape[1] // 6, max(1, width - person.shape[1] * 5 // 6)))
    y0 = height - person.shape[0] + int(rng.integers(0, max(1, person.shape[0] // 10)))
    _paste(canvas, person, x0, y0)
    gain = float(rng.uniform(0.75, 1.25))
    grain = rng.normal(0, 2.5, canvas.shape[:2])[..., None]  # sensor-like texture, so JPEGs have real sizes
    return np.clip(canvas.astype(np.float32) * gain + grain, 0, 255).astype(np.uint8)


def write_jpeg(rgb: np.ndarray, path: Path, quality: int = 90) -> Path:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"could not encode {path.name}")
    path.write_bytes(buf.tobytes())
    return path


def make_photos(sources: Sources, count: int, out_dir: Path, size: tuple[int, int] = (1920, 1280)) -> list[Path]:
    """``count`` different photos; every third is portrait (long side stays ``size[0]``)."""
    paths = []
    for i in range(count):
        width, height = size if i % 3 != 2 else size[::-1]
        paths.append(write_jpeg(make_photo(sources, i, width, height), out_dir / f"photo_{i + 1:03d}.jpg"))
    return paths


def make_clip(sources: Sources, index: int, path: Path) -> Path:
    """A 720p clip: a person walking and zooming across a slowly panning real background (PyAV, H.264)."""
    import av
    import cv2

    width, height = CLIP_SIZE
    rng = np.random.default_rng(2000 + index)
    background = sources.backgrounds[index % len(sources.backgrounds)]
    wide = _cover(background, width * 5 // 4, height, rng, zoom=1.0)  # room to pan
    person = sources.people[index % len(sources.people)]
    if index % 2:
        person = np.ascontiguousarray(person[:, ::-1])
    frames = CLIP_SECONDS * CLIP_FPS
    speed = float(rng.uniform(0.6, 1.0)) * (1 if index % 2 == 0 else -1)
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=CLIP_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        for i in range(frames):
            pan = int((wide.shape[1] - width) * i / frames)
            canvas = np.ascontiguousarray(wide[:, pan : pan + width])
            scale = height * (0.7 + 0.12 * np.sin(i / 20 + index)) / person.shape[0]
            body = cv2.resize(person, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            travel = width - body.shape[1]
            progress = i / frames if speed > 0 else 1 - i / frames
            x0 = int(travel * (0.1 + 0.8 * progress * abs(speed)))
            y0 = height - body.shape[0] + int(6 * np.sin(i / 4))  # a little bounce, like steps
            _paste(canvas, body, x0, y0)
            grain = np.random.default_rng(i + 97 * index).normal(0, 2.0, canvas.shape[:2])[..., None]
            rgb = np.clip(canvas + grain, 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


# ---------------------------------------------------------------- the browser


# True when the page has finished a run: no "Running..." widget, no spinner, no stale elements.
IDLE_JS = """() => {
  const q = (s) => document.querySelector(s);
  return !q("[data-testid='stStatusWidget'] button") && !q("[data-testid='stSpinner']")
    && !q("[data-stale='true']") && !!q("[data-testid='stApp']");
}"""

# The photo page's state: 'done' (photo, skeleton and 3D chart), 'error', or 'busy'.
PHOTO_STATE_JS = """(name) => {
  const q = (s) => document.querySelector(s);
  const all = (s) => Array.from(document.querySelectorAll(s));
  if (q("[data-testid='stStatusWidget'] button") || q("[data-testid='stSpinner']") || q("[data-stale='true']")) {
    return "busy";
  }
  const names = all("[data-testid='stFileChipName'], [data-testid='stFileUploaderFileName']").map(
    (e) => e.textContent.trim());
  if (!names.includes(name)) return "busy";
  if (q("[data-testid='stException']") || q("[data-testid='stAlertContentError']")) return "error";
  if (all("[data-testid='stImage']").length === 2 && q("[data-testid='stPlotlyChart']")) return "done";
  if (q("[data-testid='stAlertContentWarning']") && all("[data-testid='stImage']").length === 2) return "done";
  return "busy";
}"""

# The video page's state: 'done' (annotated video and a chart), 'error', or 'busy'.
VIDEO_STATE_JS = """() => {
  const q = (s) => document.querySelector(s);
  if (q("[data-testid='stException']") || q("[data-testid='stAlertContentError']")) return "error";
  if (q("[data-testid='stStatusWidget'] button") || q("[data-testid='stSpinner']") || q("[data-stale='true']")) {
    return "busy";
  }
  if (q("[data-testid='stProgress']")) return "busy";
  if (q("video") && q("[data-testid='stPlotlyChart']")) return "done";
  return "busy";
}"""

# Texts of the errors, warnings and exceptions on the page (not its info boxes).
ALERTS_JS = """() => Array.from(document.querySelectorAll(
  "[data-testid='stAlertContentError'], [data-testid='stAlertContentWarning'], [data-testid='stException']"
)).map((e) => (e.querySelector("[data-testid='stMarkdownContainer']") || e).innerText.trim()).filter((t) => t)"""
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(poll_s)


def wait_idle(page: Any, timeout_s: float = 60.0) -> None:
    time.sleep(0.3)  # let a rerun that was just triggered begin
    page.wait_for_function(IDLE_JS, timeout=timeout_s * 1000, polling=100)


def open_page(browser: Any, url: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url, timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector("[data-testid='stFileUploaderDropzone']", timeout=PAGE_TIMEOUT_MS)
    wait_idle(page)
    return page


def uploader_input(page: Any) -> Any:
    return page.locator("[data-testid='stFileUploaderDropzone'] input[type=file]").first


def alerts(page: Any, limit: int = 240) -> list[str]:
    """The page's alert and exception texts, each on one line, shortened, without repeats."""
    try:
        texts = page.evaluate(ALERTS_JS)
    except Exception as exc:  # noqa: BLE001 - only a report; the page may be gone
        return [f"(could not read the page: {exc})"]
    out: list[str] = []
    for text in texts:
        line = " ".join(text.split("Traceback:")[0].split())
        line = line if len(line) <= limit else line[: limit - 3] + "..."
        if line not in out:
            out.append(line)
    return out


def grouped(errors: dict[str, list[int]], what: str) -> list[str]:
    """'photos 1-5, 8: message' lines from {message: [numbers]}."""
    lines = []
    for message, numbers in errors.items():
        spans: list[str] = []
        for n in numbers:
            if spans and spans[-1].split("-")[-1] == str(n - 1):
                spans[-1] = f"{spans[-1].split('-')[0]}-{n}"
            else:
                spans.append(str(n))
        lines.append(f"the app showed, at {what} {', '.join(spans)}: {message}")
    return lines


def clear_uploader(page: Any, limit: int = 20) -> None:
    """Remove the files in the uploader: its new files are added to, not swapped for, the ones it holds
    (``accept_multiple_files``), so replacing a photo is removing it, then dropping the next."""
    for _ in range(limit):
        delete = page.locator(
            "[data-testid='stFileChipDeleteBtn'] button, [data-testid='stFileUploaderDeleteBtn'] button"
        )
        if delete.count() == 0:
            return
        delete.first.click()
        wait_idle(page)
    raise RuntimeError("the uploader kept its files")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# ---------------------------------------------------------------- scenarios


@dataclass
class Report:
    name: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (step, figure, target)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, step: str, sample: Sample, target: str = "") -> None:
        self.rows.append(
            (step, f"{mb(sample.rss):7.0f} MB  (anon {mb(sample.anon):5.0f}, file {mb(sample.file):4.0f})", target)
        )

    def add_text(self, step: str, figure: str, target: str = "") -> None:
        self.rows.append((step, figure, target))

    def print(self) -> None:
        print(f"\n== {self.name} ({self.seconds:.0f} s) ==")
        width = max([len(r[0]) for r in self.rows] + [10])
        fig_width = max([len(r[1]) for r in self.rows] + [10])
        print(f"{'step':<{width}}  {'server RSS':<{fig_width}}  target")
        for step, figure, target in self.rows:
            print(f"{step:<{width}}  {figure:<{fig_width}}  {target}".rstrip())
        for note in self.notes:
            print(f"  note: {note}")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def baseline(report: Report, sampler: RssSampler) -> None:
    time.sleep(2.0)  # the server settles after the health check
    report.add("idle server, before any page", sampler.now())


def scenario_photos(browser: Any, url: str, sampler: RssSampler, report: Report, photos: list[Path]) -> None:
    baseline(report, sampler)
    page = open_page(browser, f"{url}/image_analysis")
    report.add("after the first page load", sampler.now())
    start = time.monotonic()
    after: dict[int, Sample] = {}
    durations: list[float] = []
    errors: dict[str, list[int]] = {}
    for n, path in enumerate(photos, start=1):
        t0 = time.monotonic()
        clear_uploader(page)
        uploader_input(page).set_input_files(str(path))
        state = "busy"
        deadline = time.monotonic() + PHOTO_TIMEOUT_S
        while time.monotonic() < deadline:
            state = page.evaluate(PHOTO_STATE_JS, path.name)
            if state != "busy":
                break
            time.sleep(0.1)
        if state == "busy":
            raise TimeoutError(f"photo {n} ({path.name}) showed no result within {PHOTO_TIMEOUT_S:.0f} s")
        if state == "error":
            errors.setdefault(" | ".join(alerts(page)), []).append(n)
        after[n] = sampler.now()
        durations.append(time.monotonic() - t0)
        if n in PHOTO_CHECKPOINTS or n == len(photos):
            print(f"  photo {n:3d}: {mb(after[n].rss):6.0f} MB  ({durations[-1]:.1f} s)", flush=True)
    end = time.monotonic()
    for n in sorted(set(PHOTO_CHECKPOINTS) | {len(photos)}):
        if n in after:
            report.add(f"after photo {n}", after[n])
    peak = sampler.peak(start, end)
    report.add(
        f"peak over {len(photos)} photos", peak, f"<= {PHOTO_TARGET_MB} MB: {_verdict(mb(peak.rss) <= PHOTO_TARGET_MB)}"
    )
    if GROWTH_FROM in after and len(photos) > GROWTH_FROM:
        last = len(photos)
        growth = mb(after[last].rss - after[GROWTH_FROM].rss)
        tail = [mb(after[n].rss) for n in range(GROWTH_FROM, last + 1)]
        slope = float(np.polyfit(np.arange(len(tail)), tail, 1)[0])
        flat = growth <= GROWTH_NOISE_MB and slope <= GROWTH_NOISE_MB / len(tail)
        report.add_text(
            f"growth photo {GROWTH_FROM} -> {last}",
            f"{growth:+7.0f} MB  (trend {slope:+.1f} MB a photo)",
            f"no growth: {_verdict(flat)} ({GROWTH_NOISE_MB} MB allowed for noise)",
        )
        highest = max(after[n].rss for n in range(GROWTH_FROM + 1, last + 1))
        report.add_text(
            f"highest after photos {GROWTH_FROM + 1}-{last}",
            f"{mb(highest):7.0f} MB  (photo {GROWTH_FROM}: {tail[0]:.0f})",
        )
    report.add_text(
        "time a photo, incl. removing the last (median, max)", f"{np.median(durations):7.1f} s, {max(durations):.1f} s"
    )
    if errors:
        report.notes.extend(grouped(errors, "photo"))
    time.sleep(3.0)
    report.add("3 s after the last photo", sampler.now())
    page.context.close()


def scenario_videos(browser: Any, url: str, sampler: RssSampler, report: Report, clips: list[Path]) -> None:
    baseline(report, sampler)
    pages = [open_page(browser, f"{url}/video_analysis") for _ in clips]
    report.add(f"after {len(pages)} page loads", sampler.now())
    start = time.monotonic()
    for page, clip in zip(pages, clips, strict=True):
        uploader_input(page).set_input_files(str(clip))
    finished: dict[int, tuple[float, str]] = {}
    deadline = start + VIDEO_TIMEOUT_S
    time.sleep(1.0)
    while len(finished) < len(pages) and time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if i in finished:
                continue
            state = page.evaluate(VIDEO_STATE_JS)
            if state != "busy":
                finished[i] = (time.monotonic() - start, state)
                print(
                    f"  video {i + 1} {state} after {finished[i][0]:.0f} s: {mb(sampler.now().rss):.0f} MB", flush=True
                )
        time.sleep(0.5)
    end = time.monotonic()
    if len(finished) < len(pages):
        report.notes.append(f"only {len(finished)} of {len(pages)} videos finished within {VIDEO_TIMEOUT_S:.0f} s")
    report.add("when the last video showed", sampler.now())
    peak = sampler.peak(start, end)
    report.add(
        f"peak, {len(pages)} videos at once",
        peak,
        f"<= {VIDEO_TARGET_MB} MB: {_verdict(mb(peak.rss) <= VIDEO_TARGET_MB)}",
    )
    for i, (seconds, state) in sorted(finished.items()):
        report.add_text(f"video {i + 1} ({clips[i].name})", f"{state} after {seconds:.0f} s")
        if state == "error":
            report.notes.append(f"video {i + 1}: {' | '.join(alerts(pages[i]))}")
    time.sleep(3.0)
    report.add("3 s after", sampler.now())
    for page in pages:
        page.context.close()
    time.sleep(2.0)
    report.add("sessions closed, 2 s later", sampler.now())


def scenario_batch(browser: Any, url: str, sampler: RssSampler, report: Report, photos: list[Path]) -> None:
    baseline(report, sampler)
    page = open_page(browser, f"{url}/image_analysis")
    report.add("after the first page load", sampler.now())
    start = time.monotonic()
    uploader_input(page).set_input_files([str(p) for p in photos])
    zip_button = page.get_by_role("button", name="All as ZIP")

    chips = page.locator("[data-testid='stFileChip'], [data-testid='stFileUploaderFile']")
    quiet_since = [0.0]

    def settled() -> bool:
        """Idle with every file uploaded, and the ZIP button or an error shown; or idle with only
        warnings (a refused batch) for 5 s."""
        if not page.evaluate(IDLE_JS) or chips.count() < len(photos):
            quiet_since[0] = 0.0
            return False
        if zip_button.count() > 0 or page.locator(ERRORS).count() > 0:
            return True
        if not alerts(page):
            return False
        quiet_since[0] = quiet_since[0] or time.monotonic()
        return time.monotonic() - quiet_since[0] > 5.0

    time.sleep(1.0)
    wait_until(settled, BATCH_TIMEOUT_S, "the batch's summary", poll_s=0.5)
    analysed = time.monotonic()
    report.add(f"after analysing {len(photos)} photos", sampler.now())
    report.add_text("time to analyse the batch", f"{analysed - start:7.0f} s")
    analysis_peak = sampler.peak(start, analysed)
    report.add("peak while analysing", analysis_peak)
    messages = alerts(page, limit=600)
    if messages:
        report.notes.extend(f"the app says: {m}" for m in messages)
    if zip_button.count() == 0:
        report.notes.append("no 'All as ZIP' button: the batch was refused or failed (see the message above)")
    else:
        with page.expect_download(timeout=BATCH_TIMEOUT_S * 1000) as info:
            zip_button.first.click()
        download = info.value
        size = Path(download.path()).stat().st_size
        report.add_text("ZIP downloaded", f"{mb(size):7.0f} MB in {time.monotonic() - analysed:.0f} s")
        report.add("after the ZIP", sampler.now())
        report.add("peak while building the ZIP", sampler.peak(analysed, time.monotonic()))
    end = time.monotonic()
    report.add(f"peak, batch of {len(photos)} and its ZIP", sampler.peak(start, end))
    time.sleep(3.0)
    report.add("3 s after", sampler.now())
    page.context.close()


# ---------------------------------------------------------------- main


def _git(*args: str) -> str:
    """A read-only git query about the app's checkout."""
    done = subprocess.run(["git", "-C", str(REPO), *args], check=False, capture_output=True, text=True, timeout=10)
    return done.stdout.strip()


def machine() -> list[str]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total = next((line.split()[1] for line in meminfo if line.startswith("MemTotal:")), "0")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"date      {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine   {platform.machine()}, {cpus} CPUs (nproc), {int(total) / 1024 / 1024:.1f} GB RAM, "
        f"{platform.system()} {platform.release()}",
        f"python    {platform.python_version()}",
    ]
    cgroup = Path("/sys/fs/cgroup/memory.max")
    if cgroup.exists() and (limit := cgroup.read_text().strip()) != "max":
        lines.append(f"cgroup    memory.max {int(limit) / MB:.0f} MB")
    with contextlib.suppress(Exception):
        import streamlit

        lines.append(f"streamlit {streamlit.__version__}")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        lines.append(f"app       commit {head}{' with uncommitted changes' if dirty else ''}")
    if arenas := os.environ.get("MALLOC_ARENA_MAX"):
        lines.append(f"env       MALLOC_ARENA_MAX={arenas}")
    return lines


def log_errors(log_path: Path, limit: int = 5) -> list[str]:
    """The server log's tracebacks, one line each (their exception), without repeats."""
    lines = log_path.read_text(errors="replace").splitlines()
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((lines[j] for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()), "?")
            found[tail.strip()] = found.get(tail.strip(), 0) + 1
    notes = [f"server log: {n} x {message[:300]}" for message, n in list(found.items())[:limit]]
    if len(found) > limit:
        notes.append(f"server log: {len(found) - limit} more kinds of traceback")
    return notes


def run_scenario(name: str, args: argparse.Namespace, sources: Sources, tmp: Path) -> Report:
    report = Report(name)
    started = time.monotonic()
    try:
        made = time.monotonic()
        if name == "photos":
            out = tmp / "photos"
            out.mkdir(exist_ok=True)
            inputs = make_photos(sources, args.photos, out)
        elif name == "videos":
            out = tmp / "videos"
            out.mkdir(exist_ok=True)
            inputs = [make_clip(sources, i, out / f"clip_{i + 1}.mp4") for i in range(3)]
        else:
            out = tmp / "batch"
            out.mkdir(exist_ok=True)
            inputs = make_photos(sources, BATCH_COUNT, out, size=BATCH_SIZE)
        sizes = sum(p.stat().st_size for p in inputs)
        print(f"  made {len(inputs)} files ({mb(sizes):.1f} MB) in {time.monotonic() - made:.0f} s", flush=True)
        started = time.monotonic()
        with app_server(tmp) as (url, server, log_path), RssSampler(server.pid) as sampler, chromium() as browser:
            try:
                if name == "photos":
                    scenario_photos(browser, url, sampler, report, inputs)
                elif name == "videos":
                    scenario_videos(browser, url, sampler, report, inputs)
                else:
                    scenario_batch(browser, url, sampler, report, inputs)
            finally:
                report.add("peak of the whole run (server start to end)", sampler.peak())
                report.notes.extend(log_errors(log_path))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports its failure and goes on
        traceback.print_exc()
        report.notes.append(f"FAILED: {type(exc).__name__}: {exc}")
    report.seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["photos", "videos", "batch", "all"], default="all")
    parser.add_argument("--photos", type=int, default=50, help="photos uploaded in the photos scenario (default 50)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and the server logs")
    args = parser.parse_args(argv)
    args.photos = max(1, min(args.photos, 500))
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium); nothing measured")
        return 0
    header = machine()
    print("\n".join(header), flush=True)
    names = ["photos", "videos", "batch"] if args.scenario == "all" else [args.scenario]
    sources = load_sources()
    reports = []
    tmp_dir = tempfile.mkdtemp(prefix="poselab-bench-memory-")
    tmp = Path(tmp_dir)
    try:
        for name in names:
            print(f"\n-- {name}: a fresh server", flush=True)
            reports.append(run_scenario(name, args, sources, tmp))
    finally:
        if args.keep:
            print(f"\nfiles and server logs kept in {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    print("\n" + "=" * 100)
    print("PoseLab server memory (RSS of the streamlit process and its children, sampled every 100 ms)")
    print("\n".join(header))
    for report in reports:
        report.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
