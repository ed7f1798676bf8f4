"""MediaPipe's native log chatter is kept off the command line's stderr; everything else,
native errors included, still gets through."""

import io
import json
import subprocess
import sys
import textwrap

import pytest

from pose_core.quiet import filter_stream, is_benign
from tests.helpers import REPO, encode

# Lines seen from mediapipe 1.2 / LiteRT while loading and running a landmarker.
CHATTER = [
    b"INFO: [environment.cc:36] Creating LiteRT environment with options",
    b"INFO: [accelerator_registry.cc:54] RegisterAccelerator: ptr=0x7f7e600030c0, name=CpuAccelerator",
    b"INFO: [cpu_registry.cc:75] XNNPACK CPU accelerator registered.",
    b"WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.",
    b"INFO: [compiled_model.cc:1022] Flatbuffer model initialized directly from incoming litert model.",
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    b"WARNING: Logging before InitGoogle() is written to STDERR",
    b"W0000 00:00:1795573848.745655   22404 inference_runner_litert.cc:1433] Input tensor memory is not aligned "
    b"according to LiteRt's memory alignment requirements. Reallocating memory and copying data.",
    b"W0000 00:00:1795573848.776101   22405 landmark_projection_calculator.cc:81] Using NORM_RECT without "
    b"IMAGE_DIMENSIONS is only supported for the square ROI. Provide IMAGE_DIMENSIONS or use PROJECTION_MATRIX.",
    b"I0000 00:00:1795573848.776101   22405 gl_context.cc:369] GL version: 3.2",
    # Two worker processes writing at once split LiteRT's prefix from its message:
    b"INFO: INFO: [accelerator_registry.cc:43] DestroyAccelerator: ptr=0x7f35dc004740, name=CpuAccelerator",
    b"[accelerator_registry.cc:43] DestroyAccelerator: ptr=0x7f35dc004740, name=CpuAccelerator",
    b"INFO: ",
]
# What must still show: native errors and fatal checks, unknown warnings, our own lines.
NOT_CHATTER = [
    b"E0000 00:00:1795573848.776101   22405 calculator_graph.cc:887] INTERNAL: Graph has errors",
    b"F0000 00:00:1795573848.776101   22405 image_frame.cc:123] Check failed: width > 0",
    b"WARNING: [model_load.cc:99] Model file has an unsupported op.",
    b"error: cannot write /nowhere/out.json: No such file or directory",
    b"Traceback (most recent call last):",
    b"  photo.jpg: this is not an image PoseLab can read; use JPEG, PNG, WebP, BMP or TIFF",
]


@pytest.mark.parametrize("line", CHATTER)
def test_known_chatter_is_benign(line):
    assert is_benign(line + b"\n")


@pytest.mark.parametrize("line", NOT_CHATTER)
def test_errors_and_our_own_lines_are_not(line):
    assert not is_benign(line + b"\n")


def test_the_filter_keeps_order_and_stops_at_its_end_line():
    source = io.BytesIO(b"\n".join([CHATTER[0], NOT_CHATTER[0], CHATTER[3], NOT_CHATTER[4], b"partEND", b"late"]))
    sink = io.BytesIO()
    assert filter_stream(source, sink, end=b"END") == 2
    assert sink.getvalue() == NOT_CHATTER[0] + b"\n" + NOT_CHATTER[4] + b"\npart\n"


def _stderr_lines(args: list[str], cwd) -> list[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr  # one input unreadable
    return done.stderr.splitlines()


def test_the_command_line_prints_only_its_own_lines(tmp_path, astronaut_rgb):
    (tmp_path / "astronaut.png").write_bytes(encode(astronaut_rgb, "PNG"))
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    command = ["analyze", "astronaut.png", "broken.jpg", "--model", "lite", "--json", "out.json"]
    quiet = _stderr_lines([sys.executable, "-m", "pose_core", *command], tmp_path)
    assert quiet == [
        "2 image(s), 1 pose(s) found, 1 unreadable",
        "  broken.jpg: this is not an image PoseLab can read; use JPEG, PNG, WebP, BMP or TIFF",
    ]
    assert len(json.loads((tmp_path / "out.json").read_text())["images"][0]["poses"]) == 1
    # The same run without the filter (main() rather than the entry point): the chatter is real.
    unfiltered = f"import sys; from pose_core.cli import main; sys.exit(main({command!r}))"
    noisy = _stderr_lines([sys.executable, "-c", unfiltered], tmp_path)
    assert len(noisy) > 10 + len(quiet)
    assert sum("Sparsity tensors" in line for line in noisy) >= 5


def _run_filtered(body: str) -> subprocess.CompletedProcess:
    script = "import os\nfrom pose_core.quiet import quiet_native_logs\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, timeout=60, check=False, text=True
    )


def test_a_native_error_line_still_gets_through_in_order():
    done = _run_filtered(
        """
        import sys
        with quiet_native_logs():
            os.write(2, b"INFO: [environment.cc:36] Creating LiteRT environment with options\\n")
            os.write(2, b"E0000 00:00:1.0   1 calculator_graph.cc:887] INTERNAL: Graph has errors\\n")
            os.write(2, b"WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.\\n")
        print("after", file=sys.stderr)
        """
    )
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "E0000 00:00:1.0   1 calculator_graph.cc:887] INTERNAL: Graph has errors",
        "after",
    ]


def test_a_crash_does_not_lose_its_last_words():
    """glog's fatal check writes its line and aborts at once: the filter is a process of
    its own, so that line still reaches the terminal."""
    done = _run_filtered(
        """
        with quiet_native_logs():
            os.write(2, b"F0000 00:00:1.0   1 image_frame.cc:123] Check failed: width > 0\\n")
            os.abort()
        """
    )
    assert done.returncode != 0
    assert "Check failed: width > 0" in done.stderr
