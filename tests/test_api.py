"""The HTTP API, as another program sees it: a real server process on a free local port,
real photos, the command line's JSON byte for byte, a bounded queue, an API key, and
one-line JSON errors with 4xx codes for bad input."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from pose_core.cli import main
from tests.helpers import REPO, encode, encode_clip, stage

pytest.importorskip("fastapi", reason="the HTTP API is an optional extra: pip install 'poselab[api]'")

from pose_core.api import ServerLimits  # noqa: E402 - needs fastapi

KEY = "test-key-3f9a"
AUTH = {"X-API-Key": KEY}
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, *options: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: an access log line per request would fill a pipe nobody reads.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pose_core", "serve", "--port", str(self.port), *options],
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.stop()}")
            try:
                if requests.get(f"{self.url}/v1/health", timeout=2).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S} s")

    def stop(self) -> str:
        """Stop it as Ctrl-C would; returns what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.seek(0)
        err = self.log.read()
        self.log.close()
        return err


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One worker and a queue of 2, behind an API key from the environment."""
    running = Server("--workers", "1", "--max-queue", "2", env={"POSELAB_API_KEY": KEY})
    yield running
    stderr = running.stop()
    assert "Sparsity tensors" not in stderr and "Traceback" not in stderr, stderr


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut_rgb, hopper_jpeg) -> Path:
    folder = tmp_path_factory.mktemp("api-photos")
    (folder / "astronaut.png").write_bytes(encode(astronaut_rgb, "PNG"))
    (folder / "hopper.jpg").write_bytes(hopper_jpeg)
    (folder / "broken.jpg").write_bytes(b"not a picture")
    (folder / "notes.txt").write_text("not a video either")
    (folder / "slide.mp4").write_bytes(encode_clip([stage(astronaut_rgb, t) for t in range(6)]))
    return folder


def _files(folder: Path, *names: str, field: str = "images") -> list[tuple[str, tuple[str, bytes]]]:
    return [(field, (name, (folder / name).read_bytes())) for name in names]


def _cli_output(folder: Path, *args: str) -> bytes:
    """What the command line writes for ``args``, run where the photos are (so that the
    sources it records are the bare names the API is sent)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        main([*args, "--json", "cli.json"])
    return (folder / "cli.json").read_bytes()


def test_analyze_returns_exactly_the_command_lines_json(server, photos):
    names = ("astronaut.png", "hopper.jpg", "broken.jpg")
    reply = requests.post(
        f"{server.url}/v1/analyze", files=_files(photos, *names), data={"model": "lite"}, headers=AUTH, timeout=60
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.content == _cli_output(photos, "analyze", *names, "--model", "lite")
    doc = reply.json()
    assert [len(i["poses"]) for i in doc["images"]] == [1, 1, 0]
    assert doc["images"][2]["error"].startswith("this is not an image PoseLab can read")


def test_options_may_come_as_query_parameters(server, photos):
    reply = requests.post(
        f"{server.url}/v1/analyze?model=lite&max_poses=2&crowd=true",
        files=_files(photos, "astronaut.png"),
        headers=AUTH,
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    settings = reply.json()["settings"]
    assert (settings["model"], settings["max_poses"], settings["crowd"]) == ("lite", 2, True)


def test_video_returns_the_command_lines_json_and_the_mp4_on_request(server, photos):
    reply = requests.post(
        f"{server.url}/v1/video", files=_files(photos, "slide.mp4", field="video"), headers=AUTH, timeout=120
    )
    assert reply.status_code == 200, reply.text
    assert reply.content == _cli_output(photos, "video", "slide.mp4")
    assert len(reply.json()["frames"]) == 6
    mp4 = requests.post(
        f"{server.url}/v1/video?output=mp4",
        files=_files(photos, "slide.mp4", field="video"),
        headers=AUTH,
        timeout=120,
    )
    assert mp4.status_code == 200 and mp4.headers["content-type"] == "video/mp4"
    assert mp4.content[4:8] == b"ftyp" and b"moov" in mp4.content[:4096]  # index at the front
    assert mp4.headers["content-disposition"] == 'attachment; filename="slide.poses.mp4"'


BAD_REQUESTS = [
    # (what, path, files, form fields, status, the reason's text)
    ("not an image", "/v1/analyze", ["broken.jpg"], {}, 422, "broken.jpg: this is not an image PoseLab can read"),
    ("no images", "/v1/analyze", [], {"model": "lite"}, 422, "images: Field required"),
    ("too many people", "/v1/analyze", ["astronaut.png"], {"max_poses": "11"}, 422, "max_poses must be 1..10, got 11"),
    ("not a number", "/v1/analyze", ["astronaut.png"], {"max_poses": "two"}, 422, "max_poses: Input should be"),
    ("no such model", "/v1/analyze", ["astronaut.png"], {"model": "huge"}, 422, "unknown model variant 'huge'"),
    ("threshold", "/v1/analyze", ["astronaut.png"], {"min_detection_confidence": "2"}, 422, "between 0 and 1"),
    ("not a video", "/v1/video", ["notes.txt"], {}, 422, "this is not a video PoseLab can read"),
    ("stride", "/v1/video", ["slide.mp4"], {"stride": "0"}, 422, "stride must be 1 or more, got 0"),
    ("smoothing", "/v1/video", ["slide.mp4"], {"smoothing": "kalman"}, 422, "unknown smoothing 'kalman'"),
    ("output", "/v1/video", ["slide.mp4"], {"output": "gif"}, 422, "output: Input should be 'json' or 'mp4'"),
]


@pytest.mark.parametrize(
    ("path", "names", "form", "status", "reason"), [b[1:] for b in BAD_REQUESTS], ids=[b[0] for b in BAD_REQUESTS]
)
def test_bad_input_gets_a_4xx_with_the_one_line_reason(server, photos, path, names, form, status, reason):
    field = "video" if path == "/v1/video" else "images"
    reply = requests.post(
        f"{server.url}{path}", files=_files(photos, *names, field=field) or None, data=form, headers=AUTH, timeout=60
    )
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert list(body) == ["error"] and reason in body["error"] and "\n" not in body["error"]


def test_too_many_photos_in_one_request_are_refused(server, photos):
    tiny = encode(np.zeros((8, 8, 3), np.uint8))
    files = [("images", (f"{n}.jpg", tiny)) for n in range(21)]
    reply = requests.post(f"{server.url}/v1/analyze", files=files, headers=AUTH, timeout=60)
    assert reply.status_code == 413
    assert reply.json()["error"] == "21 images in one request; the limit is 20: send the rest in another"


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(server):
    """The declared length alone decides: nothing is uploaded."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", "/v1/analyze")
    connection.putheader("X-API-Key", KEY)
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(ServerLimits().max_request_bytes + 1))
    connection.endheaders()
    reply = connection.getresponse()
    assert reply.status == 413
    assert "a request may be up to 128 MB" in json.loads(reply.read())["error"]
    connection.close()


def test_the_api_key_is_required_everywhere_but_health(server, photos):
    assert requests.get(f"{server.url}/v1/health", timeout=10).status_code == 200
    for headers, reason in (({}, "needs an API key"), ({"X-API-Key": "wrong"}, "not the one this server expects")):
        for method, path in (
            ("post", "/v1/analyze"),
            ("post", "/v1/video"),
            ("get", "/docs"),
            ("get", "/openapi.json"),
        ):
            reply = requests.request(method, f"{server.url}{path}", headers=headers, timeout=10)
            assert reply.status_code == 401 and reason in reply.json()["error"], (path, reply.text)
    bearer = {"Authorization": f"Bearer {KEY}"}
    assert requests.get(f"{server.url}/docs", headers=bearer, timeout=10).status_code == 200
    schema = requests.get(f"{server.url}/openapi.json", headers=AUTH, timeout=10).json()
    assert {"/v1/analyze", "/v1/video", "/v1/health"} <= set(schema["paths"])


def test_a_burst_beyond_the_queue_gets_429_with_retry_after(server, photos):
    """One worker and a queue of 2 admit three requests at once; the rest of a burst of
    eight are turned away at once, and the server serves again afterwards."""
    files = _files(photos, "astronaut.png", "hopper.jpg")
    start = threading.Barrier(8)
    replies: list[requests.Response] = []

    def client() -> None:
        start.wait(timeout=30)
        replies.append(
            requests.post(f"{server.url}/v1/analyze", files=files, data={"crowd": "true"}, headers=AUTH, timeout=120)
        )

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    codes = sorted(r.status_code for r in replies)
    assert len(codes) == 8 and set(codes) <= {200, 429}, codes
    assert 1 <= codes.count(200) <= 3 and codes.count(429) >= 5, codes
    busy = next(r for r in replies if r.status_code == 429)
    assert int(busy.headers["Retry-After"]) >= 1
    assert "the server is busy" in busy.json()["error"]
    health = requests.get(f"{server.url}/v1/health", timeout=10).json()
    assert health == {
        "status": "ok",
        "pose_core_version": health["pose_core_version"],
        "workers": 1,
        "max_queue": 2,
        "in_progress": 0,
    }
    again = requests.post(f"{server.url}/v1/analyze", files=files, headers=AUTH, timeout=60)
    assert again.status_code == 200


def test_an_open_server_needs_no_key():
    open_server = Server("--workers", "1", env={"POSELAB_API_KEY": ""})
    try:
        assert requests.get(f"{open_server.url}/openapi.json", timeout=10).status_code == 200
    finally:
        open_server.stop()
