"""Bicubic zoom and pan of one image plane, with the vertical pass looked up, not computed.

The motion engine resamples the same plane once per frame through a view box that only
ever magnifies. For magnification the bicubic kernel does not depend on the zoom, so the
vertical pass of any frame only needs the plane's rows interpolated at a sub-pixel
phase. `PolyphasePlane` computes those rows once for `PHASES` phases. A frame then copies
one precomputed row per output row and runs Pillow's horizontal pass alone. That costs
about two thirds of Pillow's full two-pass resize.

Vertical positions are rounded to 1/`PHASES` of a pixel, so they are off by at most
1/(2 x `PHASES`) pixel: far below what shows as motion. Horizontal positions stay exact.

    plane = PolyphasePlane(luma)                    # uint8 array (height, width)
    frame = plane.render((10.2, 7.5, 990.4, 750.1))  # same shape as `luma`
"""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["PHASES", "PolyphasePlane"]

PHASES = 16
_PAD = 2  # Rows of edge padding above and below: the bicubic kernel reaches 2 rows out.


class PolyphasePlane:
    """One 8-bit plane, ready to be resampled through many magnifying view boxes."""

    def __init__(self, plane: np.ndarray) -> None:
        if plane.ndim != 2 or plane.dtype != np.uint8:
            raise ValueError(f"plane must be a 2-D uint8 array, got {plane.dtype} of shape {plane.shape}")
        self.height, self.width = plane.shape
        self._rows = self._phase_rows(plane)

    def _phase_rows(self, plane: np.ndarray) -> np.ndarray:
        """Return the rows interpolated at every phase, stacked as (PHASES x (height + 1), width).

        Entry `q * (height + 1) + r` is the plane sampled at row `r - 1 + q / PHASES`.
        """
        height, width = self.height, self.width
        padded = Image.fromarray(np.pad(plane, ((_PAD, _PAD), (0, 0)), mode="edge"))
        rows = np.empty((PHASES, height + 1, width), np.uint8)
        for phase in range(PHASES):
            # A box shifted by `top` at scale 1: output row r samples padded row top + r.
            top = _PAD - 1 + phase / PHASES
            shifted = padded.resize((width, height + 1), Image.Resampling.BICUBIC, box=(0, top, width, top + height + 1))
            rows[phase] = np.asarray(shifted)
        return rows.reshape(PHASES * (height + 1), width)

    def render(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Return the `box` region `(left, top, right, bottom)` resampled to the plane's size.

        The box must lie inside the plane and be no larger than it (magnification only).
        """
        left, top, right, bottom = box
        height = self.height
        # A box inside the plane is at most its size, so it never minifies.
        if not (0 <= left < right <= self.width and 0 <= top < bottom <= height):
            raise ValueError(f"box {box} must lie inside the {self.width}x{height} plane")

        # Pillow's convention: output row y samples source row top + (y + 0.5) * scale - 0.5.
        positions = top + (np.arange(height) + 0.5) * ((bottom - top) / height) - 0.5
        whole = np.floor(positions)
        phase = np.rint((positions - whole) * PHASES).astype(np.intp)
        row = whole.astype(np.intp) + 1 + (phase == PHASES)
        phase[phase == PHASES] = 0
        np.clip(row, 0, height, out=row)
        vertical = np.take(self._rows, phase * (height + 1) + row, axis=0)

        if left == 0 and right == self.width:
            return vertical
        horizontal = Image.fromarray(vertical).resize((self.width, height), Image.Resampling.BICUBIC, box=(left, 0, right, height))
        return np.asarray(horizontal)
