"""Model bundles: shipped and checked, heavy fetched on demand, clear errors naming files."""

import io
import shutil
import urllib.error
import zipfile

import pytest

from pose_core import models
from pose_core.inference import PoseEstimator
from pose_core.models import ModelError, download_model, resolve_model
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


def test_heavy_download_offline_gives_a_clear_message():
    def offline(url, timeout):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(ModelError, match=r"could not download the heavy model.*Offline\?.*build_models"):
        download_model("heavy", opener=offline)
    assert not list(models.cache_dir().glob("*.part")), "a failed download leaves no partial file"


class _Response(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_heavy_download_is_atomic_reports_progress_and_guards_the_cache():
    # A stand-in for the network: serve a real bundle's bytes as the response body.
    payload = (models.ASSETS_DIR / "pose_landmarker_lite.task").read_bytes()
    seen: list[tuple[int, int | None]] = []
    model = download_model(
        "heavy", progress=lambda d, t: seen.append((d, t)), opener=lambda u, timeout: _Response(payload)
    )
    assert model.path == models.cache_dir() / "pose_landmarker_heavy.task"
    assert seen[-1] == (len(payload), len(payload))
    assert resolve_model("heavy").sha256 == model.sha256  # recorded digest accepted later
    model.path.write_bytes(payload[:-10])  # the cache file gets damaged
    with pytest.raises(ModelError, match="failed its sha256 check"):
        resolve_model("heavy")


def test_a_download_that_is_not_a_bundle_is_rejected():
    with pytest.raises(ModelError, match="is not a pose bundle"):
        download_model("heavy", opener=lambda u, timeout: _Response(b"<html>captive portal</html>"))
    assert not (models.cache_dir() / "pose_landmarker_heavy.task").exists()
