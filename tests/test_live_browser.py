"""The Live page end to end: Chromium's camera is a real clip (the astronaut sliding on a
stage, written as a y4m file), WebRTC carries it to `streamlit run`, and the skeleton
comes back as the live picture.

NOTE: WebRTC needs each side to offer a network address that is not loopback (Chromium
and aiortc both leave 127.0.0.1 out), and this machine's only other address is on a
network no test may send to. So the server and the browser run in a private network
namespace of this test's own, whose loopback device also gets 127.0.0.2: aiortc offers
that, and Chromium offers its loopback addresses with --allow-loopback-in-peer-connection.
No STUN or TURN server is asked: the page passes an empty ICE server list.
"""

from __future__ import annotations

import ctypes
import io
import os
import re
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pose_core.drawing import DrawStyle
from tests.helpers import CHROMIUM_ARGS, FPS, running_app, stage

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CLONE_NEWNET = 0x40000000
LIVE_CHROMIUM_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
JOINT = np.array(DrawStyle().joint_color)
SIZE = (640, 480)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int) -> None:
    """RGB frames as an uncompressed YUV4MPEG2 (4:2:0) file, which Chromium's fake camera plays in a loop."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())


def camera_frames(astronaut: np.ndarray) -> list[np.ndarray]:
    """The slide at 640x480, there and back, so the loop has no jump."""
    steps = list(range(12)) + list(range(12, 0, -1))
    return [cv2.resize(stage(astronaut, t), SIZE, interpolation=cv2.INTER_AREA) for t in steps]


def joint_pixels(rgb: np.ndarray) -> np.ndarray:
    """(N, 2) x, y of pixels near the joint colour (the video codec shifts colours a little)."""
    close = np.abs(rgb.astype(int) - JOINT).max(axis=2) <= 60
    ys, xs = np.nonzero(close)
    return np.stack([xs, ys], axis=1)


@pytest.fixture(scope="module")
def private_network() -> Iterator[None]:
    """This thread (and what it starts) in a network namespace with only loopback."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        os.close(home)
        pytest.skip(f"no private network namespace here ({os.strerror(ctypes.get_errno())}); WebRTC stays untested")
    try:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "addr", "add", "127.0.0.2/8", "dev", "lo"], check=True)
        yield
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("live-streamlit") / "server.log"


@pytest.fixture(scope="module")
def live_app(private_network, server_log) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POSELAB_TURN_URLS", "POSELAB_STUN_URLS")}
    with running_app(server_log, env) as url:
        yield url


@pytest.fixture(scope="module")
def camera_file(tmp_path_factory, astronaut_rgb) -> Path:
    path = tmp_path_factory.mktemp("camera") / "slide.y4m"
    write_y4m(path, camera_frames(astronaut_rgb), FPS)
    return path


def _readout(page) -> tuple[float, str]:  # noqa: ANN001
    text = page.locator("[data-testid='stMainBlockContainer']").inner_text()
    found = re.search(r"([\d.]+) fps · (\S+) ms per frame · (nobody found|\d+ people found|1 person found)", text)
    return (float(found.group(1)), found.group(3)) if found else (0.0, "")


def _dropped(console_line: str) -> bool:
    """streamlit-webrtc's log line for a connection that was made and then lost."""
    return "connectionstatechange disconnected" in console_line or "connectionstatechange failed" in console_line


def _fail_saying_what_was_seen(page, console: list[str], server_log: Path, tmp_path: Path, what: str) -> None:  # noqa: ANN001
    """Fail with a screenshot, the browser console's and the server log's last lines: a live
    failure is timing-dependent, and rarely comes back when run again."""
    page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
    server = server_log.read_text(errors="replace").splitlines()[-30:]
    report = [f"{what}; screenshot: {tmp_path / 'failed.png'}", "browser console:", *console[-20:], "server log:"]
    pytest.fail("\n".join([*report, *server]))


@pytest.mark.parametrize("width", [1280, 420])
def test_the_camera_shows_her_skeleton_live_with_fps_and_a_person_found(
    live_app, server_log, camera_file, astronaut_rgb, width, tmp_path
):
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*LIVE_CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera_file}"],
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000}, accept_downloads=True)
            console: list[str] = []  # for the failure message below
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.goto(f"{live_app}/live")
            stream = page.frame_locator("iframe[title*='streamlit_webrtc']")
            start = stream.get_by_role("button", name="Start the camera")
            start.click(timeout=60_000)
            deadline, restarted = time.monotonic() + 60, False
            while (reading := _readout(page)) and not (reading[0] > 0 and reading[1] == "1 person found"):
                if time.monotonic() > deadline:
                    _fail_saying_what_was_seen(page, console, server_log, tmp_path, "no fps and person readout in 60 s")
                if not restarted and any(_dropped(line) for line in console):
                    # NOTE: Chromium sometimes drops a connection it has just made, before the
                    # first readout: once in CI, once in ~25 full runs here, and in 3 of 16 runs of
                    # this module beside a full suite on 2 cores, where the server's event loop
                    # never stalled over 0.6 s. A person presses Start again; so does the test,
                    # once, and says so. A second drop fails.
                    warnings.warn("the live connection dropped once and was started again", stacklevel=1)
                    restarted, deadline = True, time.monotonic() + 60
                    page.mouse.move(0, 0)  # the pointer is where Freeze's help now opens, over Start
                    start.click(timeout=60_000)
                page.wait_for_timeout(500)
            page.wait_for_timeout(1000)  # a few more frames
            video = stream.locator("video")
            picture = np.asarray(Image.open(io.BytesIO(video.screenshot())).convert("RGB"))
            page.screenshot(path=str(tmp_path / f"live-{width}.png"), full_page=True)

            # Her skeleton: joint-colour pixels that are not in the camera's frame (the
            # closest of the clip's frames; mirror view is on by default), on her.
            scale = picture.shape[1] / SIZE[0]
            size = picture.shape[1::-1]
            shown = [
                np.asarray(Image.fromarray(f[:, ::-1]).resize(size)).astype(int) for f in camera_frames(astronaut_rgb)
            ]
            camera = min(shown, key=lambda f: np.abs(f - picture).mean())
            drawn = np.abs(picture.astype(int) - camera).max(axis=2) > 60
            joints = joint_pixels(np.where(drawn[..., None], picture, 0))
            assert len(joints) > 100 * scale**2, f"only {len(joints)} joint-colour pixels were drawn"
            x0, x1 = (SIZE[0] - 400 - 8 * 12) * scale, (SIZE[0] - 133) * scale  # where she slides, mirrored
            assert x0 <= np.median(joints[:, 0]) <= x1 and 50 * scale <= np.median(joints[:, 1]) <= 400 * scale
            if width == 420:
                assert page.evaluate("document.documentElement.scrollWidth") <= 420, "no sideways scrolling"
                return

            # Freeze: the frame and its landmarks in the full image view below.
            page.get_by_role("button", name="Freeze this moment").click()
            page.get_by_text("Frozen frame", exact=True).wait_for(timeout=30_000)
            page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=30_000)  # the 3D skeleton

            # Record two seconds, stop the camera, then download them: the recording
            # outlives the stream, and a stopped page is not being refreshed (a download
            # clicked while the readouts refresh every 0.4 s can be lost under load).
            page.get_by_text("Record landmarks").click()
            page.wait_for_timeout(2500)
            page.screenshot(path=str(tmp_path / "live-frozen.png"), full_page=True)
            stream.get_by_role("button", name="Stop").click()
            page.get_by_text("Press Start the camera", exact=False).wait_for(timeout=30_000)
            page.wait_for_timeout(1000)
            csv_button = page.get_by_role("button", name="Recording (CSV)")
            csv_button.wait_for(timeout=60_000)
            try:
                with page.expect_download(timeout=60_000) as download_info:
                    csv_button.click()
            except playwright_api.TimeoutError:
                # Seen in 3 of 11 full runs before downloads stopped rerunning the page (ui.state.DOWNLOAD_CLICK).
                _fail_saying_what_was_seen(page, console, server_log, tmp_path, "no download 60 s after the click")
            lines = Path(download_info.value.path()).read_text().splitlines()
            assert lines[0].startswith("source,frame,time_s,person,index,name")
            assert len(lines) > 1 + 33 * 5, "a few frames of 33 landmarks"
        finally:
            browser.close()
