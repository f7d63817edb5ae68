"""Seeded value noise: 1-D profiles, 2-D fractal noise and directional streaks, all vectorised.

Every layer draws from its own generator, `layer_rng(seed, name)`, so adding an element to a
prompt does not reshuffle the others.
"""

from __future__ import annotations

import zlib

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter1d

__all__ = ["layer_rng", "smoothstep", "noise1d", "fbm1d", "noise2d", "fbm2d", "streaks"]


def layer_rng(seed: int, name: str) -> np.random.Generator:
    """Return a generator for one layer, fixed by the seed and the layer's name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def smoothstep(edge0: float, edge1: float, x: np.ndarray | float) -> np.ndarray:
    """Hermite step from 0 at `edge0` to 1 at `edge1` (edges may be in either order)."""
    t = np.clip((np.asarray(x, dtype=np.float32) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def noise1d(rng: np.random.Generator, length: int, cell: float) -> np.ndarray:
    """Return smooth value noise in [-1, 1] over `length` samples, one random value every `cell` samples."""
    cell = max(float(cell), 1.0)
    knots = rng.uniform(-1.0, 1.0, int(length / cell) + 3).astype(np.float32)
    position = np.arange(length, dtype=np.float32) / cell + rng.uniform(0.0, 1.0)
    index = position.astype(np.int64)
    t = smoothstep(0.0, 1.0, position - index)
    return knots[index] * (1.0 - t) + knots[index + 1] * t


def fbm1d(rng: np.random.Generator, length: int, cell: float, octaves: int = 5, gain: float = 0.5) -> np.ndarray:
    """Return the fractal sum of `noise1d` octaves, roughly in [-1, 1]."""
    total = np.zeros(length, dtype=np.float32)
    amplitude, norm = 1.0, 0.0
    for _ in range(octaves):
        total += amplitude * noise1d(rng, length, cell)
        norm += amplitude
        amplitude *= gain
        cell /= 2.0
        if cell < 1.0:
            break
    return total / norm


def noise2d(rng: np.random.Generator, height: int, width: int, cell_y: float, cell_x: float | None = None) -> np.ndarray:
    """Return smooth value noise in about [-1, 1], a random grid upsampled bicubically by Pillow."""
    cell_x = cell_y if cell_x is None else cell_x
    cell_y, cell_x = max(float(cell_y), 1.0), max(float(cell_x), 1.0)
    grid = rng.uniform(-1.0, 1.0, (int(height / cell_y) + 4, int(width / cell_x) + 4)).astype(np.float32)
    top, left = rng.uniform(0.5, 1.5, 2)
    box = (float(left), float(top), float(left) + width / cell_x, float(top) + height / cell_y)
    return np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC, box=box))


def fbm2d(
    rng: np.random.Generator,
    height: int,
    width: int,
    cell: float,
    octaves: int = 4,
    gain: float = 0.5,
    stretch: float = 1.0,
) -> np.ndarray:
    """Return fractal 2-D noise, roughly in [-1, 1]. A `stretch` above 1 elongates features horizontally."""
    finest = cell / 2 ** (octaves - 1)
    reduction = int(finest / 3.0)
    if reduction >= 2 and height >= 2 * reduction and width >= 2 * reduction:
        # Smooth noise loses nothing when painted at a fraction of the size and upsampled.
        small = fbm2d(rng, -(-height // reduction), -(-width // reduction), cell / reduction, octaves, gain, stretch)
        return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR))
    total = np.zeros((height, width), dtype=np.float32)
    amplitude, norm = 1.0, 0.0
    for _ in range(octaves):
        total += amplitude * noise2d(rng, height, width, cell, cell * stretch)
        norm += amplitude
        amplitude *= gain
        cell /= 2.0
        if cell < 1.0:
            break
    return total / norm


def streaks(rng: np.random.Generator, height: int, width: int, length: int, angle_degrees: float, grain: float = 1.0) -> np.ndarray:
    """Return noise smeared into parallel strokes `length` px long at `angle_degrees`.

    The angle must be within 45 degrees of horizontal. Horizontal streaks are a running mean
    along x, and shearing the rows tilts them, so the cost is linear in the pixel count for
    any stroke length.
    """
    base = noise2d(rng, height, width, grain) if grain > 1.0 else rng.uniform(-1.0, 1.0, (height, width)).astype(np.float32)
    smeared = uniform_filter1d(base, size=max(int(length), 1), axis=1, mode="wrap")
    slope = float(np.tan(np.radians(angle_degrees)))
    if abs(slope) < 1e-3:
        return smeared
    rows = (np.arange(height)[:, None] - np.round(slope * np.arange(width))[None, :].astype(np.int64)) % height
    return smeared[rows, np.arange(width)[None, :]]
