"""Factories the tests share: encoded images and clips, the sliding-astronaut stage, and
hand-made poses whose geometry (and so whose right answers) the tests know exactly.

Test files import from here, never from each other; fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import av
import numpy as np
from PIL import Image

from pose_core.schema import NUM_LANDMARKS, index_of
from pose_core.types import PoseResult

REPO = Path(__file__).resolve().parents[1]


def encode(rgb: np.ndarray, fmt: str = "JPEG", **params: object) -> bytes:
    """An RGB array as an image file in ``fmt`` (Pillow's format names)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **params)
    return buf.getvalue()


# ---------------------------------------------------------------- clips

FPS = 10
STEP_PX = 6  # on the stage, the person moves right by this much each frame
FRAMES = 16  # frames in the shared slide clip (conftest's ``slide_clip``)
SIZE = (480, 360)  # the stage's (width, height): 360p keeps the suite quick


def stage(astronaut: np.ndarray, t: int) -> np.ndarray:
    """Frame ``t`` of the slide: a half-size crop of the astronaut on a grey stage,
    ``STEP_PX * t`` pixels right of where she starts."""
    canvas = np.full((SIZE[1], SIZE[0], 3), 100, np.uint8)
    person = astronaut[::2, ::2][:, 28:228]  # 256x200 crop of her, half size
    x0 = 100 + STEP_PX * t
    canvas[40:296, x0 : x0 + 200] = person
    return canvas


def encode_clip(frames: list[np.ndarray], fmt: str = "mp4", codec: str = "libx264", fps: int = FPS) -> bytes:
    """RGB frames as a video file, written by PyAV (for MP4: index at the end)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def gradient_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    """``count`` frames of a moving grey gradient: for tests of reading and limits, where
    the picture does not matter and a small one keeps them fast."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    return [np.broadcast_to((x + 9 * t) % 256, (height, width, 3)).astype(np.uint8) for t in range(count)]


def audio_only_mp4() -> bytes:
    """An MP4 with one AAC track and no video."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 44100
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return buf.getvalue()


def zero_frame_video(fmt: str) -> bytes:
    """A container with an H.264 track header and no frames after it."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        out.start_encoding()
    return buf.getvalue()


# ---------------------------------------------------------------- hand-made poses

# A stick figure facing the camera, in pixels (x right, y down) on FIGURE_SIZE: her left
# is on the image's right. Straight legs and left arm hanging straight down; the right
# forearm is horizontal (a 90 degree elbow); the trunk narrows from 20 px at the
# shoulders to 16 px at the hips, so each shoulder-to-hip line leans in by 2 px over
# its 100 px. The torso (shoulder centre to hip centre) is 100 px; the hip centre is at
# (50, 200). right_foot_index is missing.
STICK_FIGURE: dict[str, tuple[float, float]] = {
    "nose": (50, 66),
    "left_ear": (55, 60),
    "right_ear": (45, 60),
    "left_shoulder": (60, 100),
    "right_shoulder": (40, 100),
    "left_elbow": (60, 150),
    "left_wrist": (60, 200),
    "right_elbow": (40, 150),
    "right_wrist": (90, 150),
    "left_hip": (58, 200),
    "right_hip": (42, 200),
    "left_knee": (58, 300),
    "right_knee": (42, 300),
    "left_ankle": (58, 400),
    "right_ankle": (42, 400),
    "left_foot_index": (78, 400),
}
FIGURE_SIZE = (256, 512)  # powers of two: pixel -> normalised -> pixel is exact in float32
FIGURE_HIP_CENTRE = (50.0, 200.0)
FIGURE_TORSO_PX = 100.0
PX_PER_M = 256.0  # the hand-made world landmarks: the same figure, this many pixels to a metre


def make_pose(
    points_px: Mapping[str, tuple[float, float]] = STICK_FIGURE,
    image_size: tuple[int, int] = FIGURE_SIZE,
    *,
    visibility: float | np.ndarray = 1.0,
    world: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> PoseResult:
    """A pose with the named landmarks at the given pixel positions on an image of
    ``image_size`` (width, height) and every other landmark missing (NaN).

    World landmarks default to the same figure in metres (PX_PER_M pixels to a metre,
    y down, z = 0) around the hip centre; ``visibility`` is one value for every
    landmark or a (33,) array; presence is 1.
    """
    px = np.full((NUM_LANDMARKS, 2), np.nan)
    for name, xy in points_px.items():
        px[index_of(name)] = xy
    landmarks = np.concatenate([px / np.array(image_size, float), np.zeros((NUM_LANDMARKS, 1))], axis=1)
    landmarks[np.isnan(px[:, 0])] = np.nan
    if world is None:
        hips = px[[index_of("left_hip"), index_of("right_hip")]].mean(axis=0)
        centre = hips if not np.isnan(hips).any() else np.zeros(2)
        world = np.concatenate([(px - centre) / PX_PER_M, np.zeros((NUM_LANDMARKS, 1))], axis=1)
        world[np.isnan(px[:, 0])] = np.nan
    return PoseResult(
        landmarks=landmarks,
        visibility=np.array(np.broadcast_to(np.asarray(visibility, np.float32), (NUM_LANDMARKS,))),
        presence=np.ones(NUM_LANDMARKS, np.float32),
        world_landmarks=world,
        image_size=image_size,
        segmentation_mask=mask,
    )


def shifted(points_px: Mapping[str, tuple[float, float]], dx: float, dy: float = 0.0) -> dict[str, tuple[float, float]]:
    """The same figure moved by (dx, dy) pixels."""
    return {name: (x + dx, y + dy) for name, (x, y) in points_px.items()}


def figure_at(hip_x: float, image_size: tuple[int, int] = (2000, 1000)) -> PoseResult:
    """The stick figure with its hip centre at x = ``hip_x`` px (torso FIGURE_TORSO_PX long)."""
    return make_pose(shifted(STICK_FIGURE, hip_x - FIGURE_HIP_CENTRE[0]), image_size)


# ---------------------------------------------------------------- hand-made 3D bodies

# A standing person in body coordinates, metres: (to their left, down, forward), hip
# centre at 0, torso (hip centre to shoulder centre) 0.5 m long. Used where a synthetic
# pose stands in for geometry only (postures and comparisons with known answers).
BODY_STANDING: dict[str, tuple[float, float, float]] = {
    "nose": (0.0, -0.62, 0.08),
    "left_ear": (0.07, -0.6, 0.0),
    "right_ear": (-0.07, -0.6, 0.0),
    "left_shoulder": (0.18, -0.5, 0.0),
    "right_shoulder": (-0.18, -0.5, 0.0),
    "left_elbow": (0.2, -0.22, 0.0),
    "right_elbow": (-0.2, -0.22, 0.0),
    "left_wrist": (0.2, 0.05, 0.0),
    "right_wrist": (-0.2, 0.05, 0.0),
    "left_hip": (0.1, 0.0, 0.0),
    "right_hip": (-0.1, 0.0, 0.0),
    "left_knee": (0.1, 0.45, 0.0),
    "right_knee": (-0.1, 0.45, 0.0),
    "left_ankle": (0.1, 0.9, 0.0),
    "right_ankle": (-0.1, 0.9, 0.0),
    "left_foot_index": (0.1, 0.92, 0.15),
    "right_foot_index": (-0.1, 0.92, 0.15),
}


def body_pose(
    joints: Mapping[str, tuple[float, float, float]] = BODY_STANDING,
    *,
    view: str = "front",
    image_size: tuple[int, int] = (512, 512),
    px_per_m: float = 200.0,
) -> PoseResult:
    """A pose from body coordinates (``joints``: metres to the person's left, down,
    forward): seen from the ``"front"`` (facing the camera, their left on the image's
    right) or the ``"side"`` (facing the image's left). World landmarks are the joints
    in camera axes; pixels are their orthographic projection around the image centre."""
    world = np.full((NUM_LANDMARKS, 3), np.nan)
    for name, (left, down, forward) in joints.items():
        world[index_of(name)] = (left, down, -forward) if view == "front" else (-forward, down, -left)
    centre = np.array(image_size, float) / 2
    px = {name: tuple(centre + world[index_of(name), :2] * px_per_m) for name in joints}
    return make_pose(px, image_size, world=world)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the app in a browser

# Headless Chromium on a closed network: without the background-networking flags it keeps
# trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def wait_until_healthy(url: str, server: subprocess.Popen, timeout_s: float, log_path: Path, poll_s: float) -> None:
    """Return once the Streamlit server at ``url`` answers its health check; RuntimeError
    when it exits or does not answer within ``timeout_s`` (its output is in ``log_path``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with {server.returncode}; see {log_path}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start in {timeout_s:.0f} s; see {log_path}") from None
            time.sleep(poll_s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_app(log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free local port, until the block ends;
    yields its URL once its health check answers (its output goes to ``log_path``)."""
    port = free_port()
    env = {
        **(env if env is not None else os.environ),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_HEADLESS": "true",
    }
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*command, "--server.address", "127.0.0.1"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, server, 90.0, log_path, poll_s=0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
