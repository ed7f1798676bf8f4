"""Model bundles: shipped and checked, heavy fetched on demand, clear errors naming files."""

import dataclasses
import errno
import http.server
import io
import shutil
import socket
import threading
import urllib.error
import zipfile
from collections.abc import Iterator

import pytest

from pose_core import models
from pose_core.errors import ModelCorruptError, ModelError
from pose_core.inference import PoseEstimator
from pose_core.models import download_model, resolve_model
from pose_core.types import PoseSettings


@pytest.mark.parametrize("variant", ["lite", "full"])
def test_shipped_bundles_pass_their_sha256_check(variant):
    model = resolve_model(variant)
    assert model.path.parent == models.ASSETS_DIR
    assert model.sha256 in models.VARIANTS[variant].sha256
    with zipfile.ZipFile(model.path) as zf:
        assert set(zf.namelist()) == set(models.BUNDLE_MEMBERS)


@pytest.fixture
def assets_copy(tmp_path, monkeypatch):
    for variant in ("lite", "full"):
        shutil.copy(models.ASSETS_DIR / models.VARIANTS[variant].filename, tmp_path)
    monkeypatch.setattr(models, "ASSETS_DIR", tmp_path)
    return tmp_path


def test_a_missing_shipped_model_names_the_file(assets_copy):
    (assets_copy / "pose_landmarker_lite.task").unlink()
    with pytest.raises(ModelError, match=r"pose_landmarker_lite\.task is missing"):
        resolve_model("lite")


def test_a_corrupt_model_fails_its_check_and_names_the_file(assets_copy):
    path = assets_copy / "pose_landmarker_full.task"
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"pose_landmarker_full\.task failed its sha256 check"):
        resolve_model("full")
    with pytest.raises(ModelError, match="pose_landmarker_full.task"):
        PoseEstimator(PoseSettings(model="full"))


def test_heavy_is_not_fetched_implicitly_and_says_how_to_get_it():
    with pytest.raises(ModelError, match=r"not downloaded yet.*build_models\.py --variants heavy"):
        resolve_model("heavy")


@pytest.fixture
def model_server() -> Iterator[dict[str, bytes]]:
    """A stand-in for the model site on this machine: put a path's bytes in the dict,
    download from ``files["url"] + path``."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files["url"] = f"http://127.0.0.1:{server.server_address[1]}".encode()
    yield files
    server.shutdown()
    server.server_close()


def _url(files: dict[str, bytes], path: str) -> str:
    return files["url"].decode() + path


def fake_bundle(landmark_bytes: int) -> bytes:
    """A ZIP with a pose bundle's two member names and a landmark member of that size."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pose_detector.tflite", b"\0" * 1000)
        zf.writestr("pose_landmarks_detector.tflite", b"\0" * landmark_bytes)
    return buf.getvalue()


HEAVY_SIZED = 13 * 2**20  # over heavy's floor for its landmark network


def test_a_download_is_atomic_reports_progress_and_its_digest_guards_the_cache(model_server):
    payload = fake_bundle(HEAVY_SIZED)
    model_server["/heavy.task"] = payload
    seen: list[tuple[int, int | None]] = []
    model = download_model("heavy", progress=lambda d, t: seen.append((d, t)), url=_url(model_server, "/heavy.task"))
    assert model.path == models.cache_dir() / "pose_landmarker_heavy.task"
    assert seen[-1] == (len(payload), len(payload))
    assert not model.pinned  # nothing to check Google's file against: recorded, and said so
    assert resolve_model("heavy").sha256 == model.sha256  # the recorded digest is accepted later
    model.path.write_bytes(payload[:-10])  # the cache file gets damaged
    with pytest.raises(ModelCorruptError, match="failed its sha256 check.*download it again"):
        resolve_model("heavy")


def test_a_download_that_fails_a_pinned_digest_is_refused_and_removed(model_server, monkeypatch):
    pinned = dataclasses.replace(models.VARIANTS["heavy"], download_sha256=("0" * 64,))
    monkeypatch.setitem(models.VARIANTS, "heavy", pinned)
    model_server["/heavy.task"] = fake_bundle(HEAVY_SIZED)
    with pytest.raises(ModelError, match="failed its sha256 check.*removed"):
        download_model("heavy", url=_url(model_server, "/heavy.task"))
    assert list(models.cache_dir().iterdir()) == []


@pytest.mark.parametrize(
    ("served", "message"),
    [
        ("full-served-as-heavy", "is not the heavy model"),
        ("tiny-fake", "is not the heavy model"),
        ("html", "is not a pose bundle"),
    ],
)
def test_a_download_that_is_not_the_model_is_refused_and_removed(model_server, served, message):
    model_server["/heavy.task"] = {
        "full-served-as-heavy": (models.ASSETS_DIR / "pose_landmarker_full.task").read_bytes(),
        "tiny-fake": fake_bundle(1000),
        "html": b"<html>captive portal</html>",
    }[served]
    with pytest.raises(ModelError, match=f"refused and removed.*{message}"):
        download_model("heavy", url=_url(model_server, "/heavy.task"))
    assert list(models.cache_dir().iterdir()) == []


def test_download_failures_name_the_real_cause(model_server):
    with pytest.raises(ModelError, match=r"HTTP 404.*build_models\.py --variants heavy"):
        download_model("heavy", url=_url(model_server, "/nothing-here"))
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ModelError, match="connection was refused"):
        download_model("heavy", url=f"http://127.0.0.1:{port}/heavy.task")
    assert not list(models.cache_dir().glob("*.part")), "a failed download leaves no partial file"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "cannot look up"),
        (urllib.error.URLError(TimeoutError("timed out")), "did not answer in time"),
        (urllib.error.URLError(OSError(errno.ENETUNREACH, "Network is unreachable")), "unreachable"),
    ],
)
def test_offline_causes_are_told_in_words(error, words):
    assert words in models._network_cause(error)
