"""MP4 (ISO-BMFF) box surgery: move the index to the front so browsers can start playing
before they have the whole file."""

from __future__ import annotations

from collections.abc import Iterator

_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, size) of each ISO-BMFF box between ``start`` and ``end``."""
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8])
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            size = end - offset
        if size < 8 or offset + size > end:
            raise ValueError(f"malformed MP4 box {kind!r} at {offset}")
        yield kind, offset, size
        offset += size


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, shift: int) -> None:
    for kind, offset, size in _boxes(moov, start, end):
        if kind in _CONTAINER_BOXES:
            _shift_chunk_offsets(moov, offset + 8, offset + size, shift)
        elif kind in (b"stco", b"co64"):
            width = 4 if kind == b"stco" else 8
            count = int.from_bytes(moov[offset + 12 : offset + 16], "big")
            for i in range(count):
                at = offset + 16 + i * width
                value = int.from_bytes(moov[at : at + width], "big") + shift
                moov[at : at + width] = value.to_bytes(width, "big")


def faststart(mp4: bytes) -> bytes:
    """Move the ``moov`` index in front of the media data (as ``qt-faststart`` does), so
    a browser can start playing before it has the whole file."""
    boxes = list(_boxes(mp4))
    kinds = [kind for kind, _, _ in boxes]
    if b"moov" not in kinds or b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        return mp4
    _, moov_at, moov_size = boxes[kinds.index(b"moov")]
    moov = bytearray(mp4[moov_at : moov_at + moov_size])
    _shift_chunk_offsets(moov, 8, moov_size, moov_size)  # media data moves back by the moov's size
    head = [mp4[o : o + n] for k, o, n in boxes if k in (b"ftyp",)]
    rest = [mp4[o : o + n] for k, o, n in boxes if k not in (b"ftyp", b"moov")]
    return b"".join([*head, bytes(moov), *rest])
