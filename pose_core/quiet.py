"""Keep MediaPipe's and LiteRT's native log chatter off the command line's stderr.

Every landmarker that loads prints some twenty lines from C++ straight to file
descriptor 2 ("Sparsity tensors may not yet be fully supported", "INFO: Created
TensorFlow Lite XNNPACK delegate", glog's "W0000 ..." lines), which bury PoseLab's own
messages. Python cannot filter what C++ writes, so :func:`quiet_native_logs` points
fd 2 at a pipe read by a small filter process that drops the known-benign lines
(:data:`BENIGN`) and passes everything else through, so real native errors still show.

Python's own ``sys.stderr`` keeps writing to the real stderr directly (a terminal stays
a terminal: progress bars and tracebacks are unchanged); child processes inherit fd 2
and so are filtered too.

NOTE: the filter is a process, not a thread: a native crash (glog's ``F... Check
failed`` line, then abort) kills every thread at once, and a reader thread would lose
the very line that says why. A process outlives its writer and drains the pipe.

This file also runs as that filter: ``python -I -S pose_core/quiet.py`` (standard library
only, so it starts in milliseconds).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

# Lines MediaPipe 1.2 and LiteRT print while working normally. Anything else (errors,
# fatal checks, unknown warnings) passes through.
BENIGN: tuple[re.Pattern[bytes], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        rb"^INFO: ",  # LiteRT/TFLite information: environment, accelerators, XNNPACK delegate
        rb"^I\d{4} [\d:. ]+\d+ \S+:\d+\] ",  # glog INFO
        rb"^\[(environment|accelerator_registry|cpu_registry|compiled_model)\.cc:\d+\] ",  # INFO lines, see below
        rb"^Created TensorFlow Lite XNNPACK delegate for CPU\.",
        rb"^(WARNING: )?\[model_load\.cc:\d+\] Sparsity tensors may not yet be fully supported\.",
        rb"^WARNING: Logging before InitGoogle\(\) is written to STDERR",
        rb"^WARNING: Read-only tensor #\d+ .* unaligned buffer",  # our bundles' metadata (docs: models.md)
        rb"^W\d{4} [\d:. ]+\d+ inference_runner_litert\.cc:\d+\] Input tensor memory is not aligned",
        rb"^W\d{4} [\d:. ]+\d+ landmark_projection_calculator\.cc:\d+\] Using NORM_RECT without IMAGE_DIMENSIONS",
        # Ray (--engine ray): its actor pool passes constructor arguments, which Ray notes at E level
        rb"^\[[\d\-: ,]+ E \d+ \d+\] core_worker\.cc:\d+: Actor with class name: .* has constructor arguments",
    )
)
# LiteRT writes its "INFO: " prefix and the message in separate writes, so two worker
# processes logging at once can leave "INFO: INFO: [x.cc:1] ..." and a bare "[x.cc:1] ...".
_PREFIXES = re.compile(rb"^((INFO|WARNING): )+")


def is_benign(line: bytes) -> bool:
    """True for a native log line that says nothing a user needs to see."""
    if any(pattern.match(line) for pattern in BENIGN):
        return True
    body = _PREFIXES.sub(b"", line, count=1)
    return body != line and (not body.strip() or any(pattern.match(body) for pattern in BENIGN))


def filter_stream(
    source: io.RawIOBase | io.BufferedIOBase, sink: io.BufferedIOBase | io.RawIOBase, end: bytes | None = None
) -> int:
    """Copy ``source`` to ``sink`` line by line without the benign lines, until end of
    input or the line ``end``; returns how many lines were dropped."""
    dropped = 0
    for line in source:  # type: ignore[union-attr]
        if end is not None and line.rstrip(b"\n").endswith(end):
            if rest := line.rstrip(b"\n")[: -len(end)]:  # a partial line written before the end
                sink.write(rest + b"\n")
                sink.flush()
            break
        if is_benign(line):
            dropped += 1
            continue
        sink.write(line)
        sink.flush()
    return dropped


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """While the block runs, native writes to fd 2 go through the filter process.

    Does nothing where fd 2 is closed or the filter cannot start (it never stops a run).
    """
    try:
        sys.stderr.flush()
        real_fd = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    # The filter stops at this line rather than at end of input: helper processes (such
    # as multiprocessing's resource tracker) inherit fd 2 and keep the pipe open until
    # after we exit. Everything written before it has been passed on when it arrives.
    end = b"poselab-quiet-end-" + secrets.token_hex(8).encode()
    try:
        filter_process = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), end.decode()],
            stdin=subprocess.PIPE,
            stdout=real_fd,
            stderr=real_fd,
            close_fds=True,
        )
    except OSError:
        os.close(real_fd)
        yield
        return
    assert filter_process.stdin is not None
    python_stderr = sys.stderr
    direct_stderr = io.TextIOWrapper(
        open(os.dup(real_fd), "wb"),  # noqa: SIM115 - closed in the finally below
        encoding=getattr(python_stderr, "encoding", None) or "utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    to_filter = filter_process.stdin.fileno()
    os.dup2(to_filter, 2)
    sys.stderr = direct_stderr
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr = python_stderr
        direct_stderr.close()
        os.dup2(real_fd, 2)
        os.close(real_fd)
        with suppress(OSError):  # the filter has gone (killed): nothing left to tell it
            os.write(to_filter, end + b"\n")
        filter_process.stdin.close()
        with suppress(subprocess.TimeoutExpired):
            filter_process.wait(timeout=10)


def _filter_main(end: bytes | None) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group
    filter_stream(sys.stdin.buffer, sys.stdout.buffer, end)
    return 0


if __name__ == "__main__":
    sys.exit(_filter_main(sys.argv[1].encode() if len(sys.argv) > 1 else None))
