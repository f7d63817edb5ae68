"""The picture being painted: a float RGB array plus what every layer needs to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from servers.text2image.procedural.layout import Layout
from servers.text2image.procedural.noise import layer_rng
from servers.text2image.procedural.palette import Palette
from servers.text2image.procedural.scene import Scene

__all__ = ["Canvas"]


@dataclass
class Canvas:
    """Pixels (H, W, 3) float32 in [0, 1] with the scene, palette, layout and seed.

    `notes` carries facts one layer leaves for a later one, such as the nearest mountain ridge
    for the waterfall.
    """

    pixels: np.ndarray
    scene: Scene
    palette: Palette
    layout: Layout
    seed: int
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    def rng(self, name: str) -> np.random.Generator:
        """Return the generator of the layer `name` for this seed."""
        return layer_rng(self.seed, name)

    def rows(self) -> np.ndarray:
        """Row index as an (H, 1) float32 column."""
        return np.arange(self.height, dtype=np.float32)[:, None]

    def columns(self) -> np.ndarray:
        """Column index as a (1, W) float32 row."""
        return np.arange(self.width, dtype=np.float32)[None, :]

    def blend(self, mask: np.ndarray, colour: np.ndarray) -> None:
        """Paint `colour` (RGB, or an (H, W, 3) array) over the canvas with coverage `mask` (H, W)."""
        self.pixels += (np.asarray(colour, dtype=np.float32) - self.pixels) * mask[..., None]

    def composite(self, layer: Image.Image, soften: float = 0.0) -> tuple[int, np.ndarray]:
        """Lay an RGBA Pillow layer over the canvas and return its coverage in [0, 1].

        Only the band of rows the layer paints is touched, so the coverage comes back as
        `(top, band)`, where `band` covers rows `top` to `top + len(band)`. `soften` blurs the
        layer by that many pixels (premultiplied, so edges keep their colour), which hides the
        stair steps of Pillow's aliased polygons.
        """
        box = layer.getbbox()
        if box is None:
            return 0, np.zeros((0, self.width), dtype=np.float32)
        margin = int(np.ceil(3.0 * soften)) + 1
        top, bottom = max(box[1] - margin, 0), min(box[3] + margin, self.height)
        band = layer.crop((0, top, self.width, bottom)).convert("RGBa")
        if soften > 0.0:
            band = band.filter(ImageFilter.GaussianBlur(soften))
        premultiplied = np.asarray(band, dtype=np.float32) / 255.0
        coverage = premultiplied[..., 3]
        region = self.pixels[top:bottom]
        region *= 1.0 - coverage[..., None]
        region += premultiplied[..., :3]
        return top, coverage

    def new_layer(self) -> Image.Image:
        """Return an empty, transparent RGBA layer of the canvas size."""
        return Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
