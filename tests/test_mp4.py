"""MP4 fast start (pose_core.mp4): the index moves to the front and every frame survives."""

from __future__ import annotations

import numpy as np
import pytest

from pose_core.mp4 import faststart
from pose_core.video_io import iter_frames


def _box_order(mp4: bytes) -> list[bytes]:
    """The top-level box types, in file order."""
    kinds, offset = [], 0
    while offset + 8 <= len(mp4):
        kinds.append(mp4[offset + 4 : offset + 8])
        offset += int.from_bytes(mp4[offset : offset + 4], "big")
    return kinds


def test_faststart_moves_the_index_and_keeps_the_frames(slide_clip):
    order = _box_order(slide_clip)
    assert order.index(b"moov") > order.index(b"mdat"), "PyAV writes the index at the end"
    moved = faststart(slide_clip)
    assert _box_order(moved)[:2] == [b"ftyp", b"moov"] and b"mdat" in _box_order(moved)
    assert len(moved) == len(slide_clip) and sorted(_box_order(moved)) == sorted(order)
    before = [f.rgb for f in iter_frames(slide_clip)]
    after = [f.rgb for f in iter_frames(moved)]  # the chunk offsets point at the moved data
    assert len(after) == len(before) and all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_a_file_already_in_fast_start_order_is_returned_as_it_is(slide_clip):
    once = faststart(slide_clip)
    assert faststart(once) is once


def test_a_damaged_box_is_refused_rather_than_rewritten():
    ftyp = b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"
    mdat_cut_short = b"\x00\x00\x10\x00mdat" + b"\x00" * 8  # claims 4 KB, holds 16 bytes
    with pytest.raises(ValueError, match="malformed MP4 box"):
        faststart(ftyp + mdat_cut_short)
