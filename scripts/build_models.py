"""Rebuild PoseLab's MediaPipe Tasks pose bundles (.task) from registry packages.

Google publishes ready-made ``pose_landmarker_*.task`` bundles on its model storage
site, which many networks (ours included) cannot reach. The same networks ship as bare
``.tflite`` files inside packages on PyPI and npm (Apache-2.0):

- PyPI ``mediapipe==0.10.21``: ``pose_detection.tflite`` (the person detector);
- npm ``@mediapipe/pose@0.5.1675469404``: ``pose_landmark_{lite,full,heavy}.tflite``.

The Tasks API refuses bare files ("requires specifying NormalizationOptions metadata"),
so this script adds TFLite metadata (image input with normalisation, plain feature
outputs) with the metadata writer of mediapipe 0.10.21, which only imports in that old
release. That release pins numpy<2, so it runs in a throw-away virtual environment.

Usage::

    python scripts/build_models.py                      # lite + full into pose_core/assets
    python scripts/build_models.py --variants heavy     # heavy into the user model cache

Needs pip and npm with access to their registries; run it once, not at test time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

MEDIAPIPE_WHEEL = "mediapipe==0.10.21"
NPM_POSE = "@mediapipe/pose@0.5.1675469404"
DETECTOR_IN_WHEEL = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKER_IN_NPM = "package/pose_landmark_{variant}.tflite"

# Normalisation the two networks were trained with (see shared models notes):
# detector: pixels to [-1, 1]; landmark model: pixels to [0, 1]. Both RGB.
DETECTOR_NORM = {"mean": 127.5, "std": 127.5, "outputs": 2}
LANDMARKER_NORM = {"mean": 0.0, "std": 255.0, "outputs": 5}

# Members are stored uncompressed and 64-byte aligned so TFLite can map the weights
# in place; a fixed timestamp makes the bundle reproducible byte for byte.
ZIP_ALIGNMENT = 64
ZIP_DATE = (2023, 1, 1, 0, 0, 0)

_WRITER = r"""
import json, sys
from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
spec = json.loads(sys.argv[1])
with open(spec["src"], "rb") as f:
    writer = metadata_writer.MetadataWriter.create(bytearray(f.read()))
writer.add_general_info(spec["name"], spec["description"])
writer.add_image_input(norm_mean=[spec["mean"]], norm_std=[spec["std"]])
for i in range(spec["outputs"]):
    writer.add_feature_output(name=f"output_{i}")
model, _ = writer.populate()
with open(spec["dst"], "wb") as f:
    f.write(model)
"""


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def _writer_python(work: Path) -> Path:
    env_dir = work / "writer-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", MEDIAPIPE_WHEEL])
    return python


def _fetch_sources(work: Path, variants: list[str]) -> dict[str, bytes]:
    """Return the bare tflite files: 'detector' and one per landmark variant."""
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(work), MEDIAPIPE_WHEEL])
    wheel = next(work.glob("mediapipe-0.10.21-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        files = {"detector": zf.read(DETECTOR_IN_WHEEL)}
    _run(["npm", "pack", "--silent", NPM_POSE], cwd=work)
    tarball = next(work.glob("mediapipe-pose-*.tgz"))
    with tarfile.open(tarball) as tf:
        for variant in variants:
            member = tf.extractfile(LANDMARKER_IN_NPM.format(variant=variant))
            assert member is not None
            files[variant] = member.read()
    return files


def _add_metadata(python: Path, work: Path, name: str, model: bytes, norm: dict) -> bytes:
    src, dst = work / f"{name}.bare.tflite", work / f"{name}.tflite"
    src.write_bytes(model)
    spec = {"src": str(src), "dst": str(dst), "name": name, "description": f"MediaPipe {name}", **norm}
    _run([str(python), "-c", _WRITER, json.dumps(spec)])
    return dst.read_bytes()


def write_bundle(path: Path, members: dict[str, bytes]) -> None:
    """Write a .task bundle: stored (uncompressed) members with aligned data."""
    with open(path, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            # Local header = 30 bytes + name + extra; pad the extra field so data aligns.
            header = 30 + len(name.encode())
            pad = (-(raw.tell() + header)) % ZIP_ALIGNMENT
            if pad and pad < 4:
                pad += ZIP_ALIGNMENT  # an extra field needs 4 bytes for its own header
            if pad:
                info.extra = b"\xff\xff" + (pad - 4).to_bytes(2, "little") + b"\0" * (pad - 4)
            zf.writestr(info, data)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pose_core import models  # noqa: PLC0415 - the repo's own package, after sys.path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=list(models.VARIANTS), default=["lite", "full"])
    parser.add_argument("--out-dir", type=Path, help="default: pose_core/assets for lite/full, the cache for heavy")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="poselab-build-") as tmp:
        work = Path(tmp)
        sources = _fetch_sources(work, args.variants)
        python = _writer_python(work)
        detector = _add_metadata(python, work, "pose_detector", sources["detector"], DETECTOR_NORM)
        for variant in args.variants:
            landmarks = _add_metadata(python, work, f"pose_landmarks_{variant}", sources[variant], LANDMARKER_NORM)
            spec = models.VARIANTS[variant]
            out_dir = args.out_dir or (models.ASSETS_DIR if spec.bundled else models.cache_dir())
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / spec.filename
            write_bundle(path, {"pose_detector.tflite": detector, "pose_landmarks_detector.tflite": landmarks})
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            status = "matches" if digest in spec.sha256 else "DOES NOT MATCH the pinned sha256"
            print(f"{path}  {path.stat().st_size:,} bytes  sha256 {digest}  ({status})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
