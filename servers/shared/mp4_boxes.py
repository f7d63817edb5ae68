"""Facts read straight from the boxes of an mp4 or mov file, without demuxing it.

- `missing_box_bytes`: a file cut short declares top-level boxes longer than it is. Reading
  only the 8- or 16-byte box headers takes microseconds, where walking the packet index
  costs milliseconds per file.
- `video_display_matrix`: a phone stores a portrait video as landscape frames plus a
  rotation in the track header (`tkhd`), which players apply. PyAV 18 can write that matrix
  but not read it back without decoding a frame, so this walks `moov`, then each `trak`
  whose `mdia/hdlr` names a video handler, then that track's `tkhd`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["DisplayMatrix", "missing_box_bytes", "quarter_turns", "video_display_matrix"]

# The (a, b, c, d) entries of the matrix, in 16.16 fixed point; (65536, 0, 0, 65536) is upright.
DisplayMatrix = tuple[int, int, int, int]
IDENTITY: DisplayMatrix = (65536, 0, 0, 65536)

_MAX_BOX_READ = 1 << 20  # A tkhd or hdlr box is under 100 bytes; anything this big is not one.


def missing_box_bytes(path: Path) -> int:
    """Return how many bytes the top-level boxes of `path` declare beyond the end of the file.

    A header that is not a box ends the walk with 0, leaving the verdict to the decoder.
    """
    size = path.stat().st_size
    end_of_boxes = 0
    with path.open("rb") as file:
        for _, _, box_end in _boxes(file, 0, size):
            end_of_boxes = box_end
    return max(0, end_of_boxes - size)


def video_display_matrix(path: Path) -> DisplayMatrix | None:
    """Return the display matrix of the first video track, or None when it is upright or unreadable."""
    try:
        with path.open("rb") as file:
            size = path.stat().st_size
            for moov_start, moov_end in _children(file, 0, size, b"moov"):
                for trak_start, trak_end in _children(file, moov_start, moov_end, b"trak"):
                    matrix = _track_matrix(file, trak_start, trak_end)
                    if matrix is not None:
                        return None if matrix == IDENTITY else matrix
    except (OSError, struct.error):
        return None
    return None


def quarter_turns(matrix: DisplayMatrix | None) -> int:
    """Return the rotation of `matrix` in quarter turns (0 to 3), to the nearest quarter."""
    if matrix is None:
        return 0
    a, b, _, _ = matrix
    return round(math.degrees(math.atan2(b, a)) / 90) % 4


def _track_matrix(file: BinaryIO, start: int, end: int) -> DisplayMatrix | None:
    """Return the tkhd matrix of the `trak` box between `start` and `end` if it is a video track."""
    is_video = any(
        _read(file, hdlr_start, min(hdlr_end, hdlr_start + 12))[8:12] == b"vide"
        for mdia_start, mdia_end in _children(file, start, end, b"mdia")
        for hdlr_start, hdlr_end in _children(file, mdia_start, mdia_end, b"hdlr")
    )
    if not is_video:
        return None
    for tkhd_start, tkhd_end in _children(file, start, end, b"tkhd"):
        payload = _read(file, tkhd_start, min(tkhd_end, tkhd_start + _MAX_BOX_READ))
        # Version 1 stores times and duration in 64 bits, so the matrix starts later.
        offset = 52 if payload[0] == 1 else 40
        a, b, _, c, d = struct.unpack(">5i", payload[offset : offset + 20])
        return (a, b, c, d)
    return None


def _children(file: BinaryIO, start: int, end: int, kind: bytes) -> Iterator[tuple[int, int]]:
    """Yield (payload start, end) of each box of type `kind` directly between `start` and `end`."""
    for box_type, payload_start, box_end in _boxes(file, start, end):
        if box_type == kind:
            yield payload_start, min(box_end, end)


def _boxes(file: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, declared end) of each box between `start` and `end`.

    The walk stops at a header that is not a box. A declared end can lie past `end` when
    the file is cut short.
    """
    offset = start
    while offset + 8 <= end:
        header = _read(file, offset, offset + 16)
        box_size, box_type = struct.unpack(">I4s", header[:8])
        header_size = 8
        if box_size == 1:
            if len(header) < 16:
                return
            box_size, header_size = struct.unpack(">Q", header[8:16])[0], 16
        elif box_size == 0:
            box_size = end - offset  # The last box runs to the end.
        if box_size < header_size:
            return
        yield box_type, offset + header_size, offset + box_size
        offset += box_size


def _read(file: BinaryIO, start: int, end: int) -> bytes:
    file.seek(start)
    return file.read(max(0, end - start))
