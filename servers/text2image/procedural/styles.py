"""Painting styles applied as texture over the finished scene.

Each style maps the float RGB canvas to a new one.
- `oil`: flat colour smeared into brush strokes with impasto relief.
- `watercolor`: soft washes with dark pigment edges on paper.
- `ink`: black ink tones on rice paper.
- `sketch`: pencil lines and hatching.
- `pixel`: a coarse grid with a small palette.
- `cartoon`: flat colour with outlines.
Without a style the picture only gets a fine grain.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter
from scipy.ndimage import gaussian_filter, sobel, uniform_filter

from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.noise import fbm2d, smoothstep, streaks

__all__ = ["apply_style", "STYLE_FUNCTIONS"]

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels @ _LUMA


def _kuwahara(pixels: np.ndarray, radius: int) -> np.ndarray:
    """Replace each pixel by the mean of its least varied quadrant: flat patches, kept edges."""
    half = max(radius // 2, 1)
    size = 2 * half + 1
    luma = _luminance(pixels)
    # Pillow's box blur on 8-bit colour is several times faster than a float filter, and the
    # rounding is invisible once the quadrants are painted flat.
    image = Image.fromarray((np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
    mean = np.asarray(image.filter(ImageFilter.BoxBlur(half)), dtype=np.float32) / 255.0
    luma_mean = uniform_filter(luma, size=size, mode="nearest")
    variance = uniform_filter(luma * luma, size=size, mode="nearest") - luma_mean * luma_mean
    height, width = luma.shape
    padded_mean = np.pad(mean, ((half, half), (half, half), (0, 0)), mode="edge")
    padded_variance = np.pad(variance, half, mode="edge")
    offsets = [(dy, dx) for dy in (0, 2 * half) for dx in (0, 2 * half)]
    variances = np.stack([padded_variance[dy : dy + height, dx : dx + width] for dy, dx in offsets])
    best = np.argmin(variances, axis=0)
    result = padded_mean[:height, :width].copy()
    for index, (dy, dx) in enumerate(offsets[1:], start=1):
        np.copyto(result, padded_mean[dy : dy + height, dx : dx + width], where=(best == index)[..., None])
    return result


def _smear(pixels: np.ndarray, length: int, angle_degrees: float) -> np.ndarray:
    """Average each pixel with its neighbours along a line of `length` px at `angle_degrees`."""
    slope = float(np.tan(np.radians(angle_degrees)))
    reach = length // 2
    pad = reach + int(abs(slope) * reach) + 1
    padded = np.pad(pixels, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    height, width = pixels.shape[:2]
    total = np.zeros_like(pixels)
    # Every second pixel along the line is enough for a smooth smear and halves the cost.
    steps = range(-reach, reach + 1, 2)
    for step in steps:
        dy = pad + int(round(slope * step))
        dx = pad + step
        total += padded[dy : dy + height, dx : dx + width]
    return total / len(steps)


def _stroke_field(canvas: Canvas, rng: np.random.Generator, angles: tuple[float, ...]) -> np.ndarray:
    """Return which of `angles` each pixel's brush stroke follows, as an index map (H, W)."""
    direction = fbm2d(rng, canvas.height, canvas.width, max(canvas.height * 0.12, 2.0), octaves=2)
    edges = np.linspace(-0.35, 0.35, len(angles) - 1)
    return np.digitize(direction, edges)


def _oil(canvas: Canvas) -> np.ndarray:
    rng = canvas.rng("style oil")
    scale = canvas.layout.scale
    angles = (-28.0, -9.0, 9.0, 28.0)
    stroke_angle = _stroke_field(canvas, rng, angles)
    flat = _kuwahara(canvas.pixels, max(int(round(4 * scale)), 2))

    length = max(int(round(9 * scale)), 3)
    smeared = np.zeros_like(flat)
    texture = np.zeros(stroke_angle.shape, dtype=np.float32)
    bristles = max(int(round(22 * scale)), 4)
    for index, angle in enumerate(angles):
        chosen = stroke_angle == index
        np.copyto(smeared, _smear(flat, length, angle), where=chosen[..., None])
        np.copyto(texture, streaks(rng, canvas.height, canvas.width, bristles, angle, grain=max(1.6 * scale, 1.0)), where=chosen)
    texture /= np.abs(texture).max() + 1e-6

    # Impasto: the bristle texture as a height map, lit from the upper left.
    relief = gaussian_filter(texture, 0.8)
    shading = (relief - np.roll(np.roll(relief, 1, axis=0), 1, axis=1)) * 2.2
    dabs = fbm2d(rng, canvas.height, canvas.width, max(10.0 * scale, 2.0), octaves=2)
    result = smeared * (1.0 + 0.09 * texture + 0.05 * dabs)[..., None] + shading[..., None] * 0.3
    weave = 1.0 + 0.018 * np.sin(canvas.rows() * 2.1) * np.sin(canvas.columns() * 2.1)
    grey = _luminance(result)[..., None]
    return (grey + (result - grey) * 1.12) * weave[..., None]


def _watercolor(canvas: Canvas) -> np.ndarray:
    rng = canvas.rng("style watercolor")
    scale = canvas.layout.scale
    flat = _kuwahara(gaussian_filter(canvas.pixels, (1.0 * scale, 1.0 * scale, 0.0)), max(int(round(6 * scale)), 2))

    # Wet edges wander: shift every pixel by a few pixels of smooth noise.
    reach = 3.0 * max(scale, 0.5)
    cell = max(18.0 * scale, 2.0)
    dy = fbm2d(rng, canvas.height, canvas.width, cell, octaves=2) * reach
    dx = fbm2d(rng, canvas.height, canvas.width, cell, octaves=2) * reach
    source_rows = np.clip(np.round(canvas.rows() + dy), 0, canvas.height - 1).astype(np.int64)
    source_columns = np.clip(np.round(canvas.columns() + dx), 0, canvas.width - 1).astype(np.int64)
    washed = gaussian_filter(flat[source_rows, source_columns], (1.6 * scale, 1.6 * scale, 0.0))

    luma = _luminance(washed)
    pooled = np.clip(gaussian_filter(luma, 3.0 * max(scale, 0.5)) - luma, 0.0, 1.0)
    granulation = fbm2d(rng, canvas.height, canvas.width, max(10.0 * scale, 2.0), octaves=2)
    pigment = (1.0 - washed) * 0.82 * (1.0 + 0.08 * granulation)[..., None] * (1.0 + 2.5 * pooled)[..., None]
    paper = np.array([0.99, 0.97, 0.93], dtype=np.float32)
    grain = gaussian_filter(rng.uniform(-1.0, 1.0, luma.shape).astype(np.float32), 1.5)
    return paper * (1.0 - pigment) * (1.0 + 0.02 * grain)[..., None]


def _ink(canvas: Canvas) -> np.ndarray:
    rng = canvas.rng("style ink")
    scale = canvas.layout.scale
    luma = gaussian_filter(_luminance(canvas.pixels), 0.6 * scale)
    low, high = np.percentile(luma, (2.0, 98.0))
    tone = np.clip((luma - low) / max(high - low, 1e-3), 0.0, 1.0)
    # Light tones fade to bare paper, as the sky does in an ink wash painting.
    ink = smoothstep(0.12, 1.0, 1.0 - tone) ** 1.4
    outline = np.hypot(sobel(luma, axis=0), sobel(luma, axis=1))
    ink = np.maximum(ink, np.clip(outline * 3.0, 0.0, 1.0) * 0.85)
    ink = 0.55 * ink + 0.45 * gaussian_filter(ink, 2.5 * max(scale, 0.5))
    ink *= 0.85 + 0.25 * fbm2d(rng, canvas.height, canvas.width, max(canvas.height * 0.04, 2.0), octaves=3)
    fibres = streaks(rng, canvas.height, canvas.width, max(int(30 * scale), 4), float(rng.uniform(-20.0, 20.0)))
    paper = np.array([0.94, 0.91, 0.83], dtype=np.float32) * (1.0 + 0.02 * fibres / (np.abs(fibres).max() + 1e-6))[..., None]
    black = np.array([0.07, 0.07, 0.09], dtype=np.float32)
    result = paper + (black - paper) * np.clip(ink, 0.0, 1.0)[..., None]
    _stamp_seal(result, rng)
    return result


def _stamp_seal(pixels: np.ndarray, rng: np.random.Generator) -> None:
    """Press a small red seal into the lower right corner, as on Chinese ink paintings."""
    height, width = pixels.shape[:2]
    size = int(0.07 * min(width, height))
    if size < 8:
        return
    top, left = height - int(size * 1.6), width - int(size * 1.6)
    seal = np.ones((size, size), dtype=np.float32)
    border = max(size // 10, 1)
    inner = seal[border:-border, border:-border]
    carved = rng.random((4, 4)) < 0.45
    cell = inner.shape[0] / 4.0
    ys, xs = np.mgrid[0 : inner.shape[0], 0 : inner.shape[1]]
    inner[carved[(ys / cell).astype(int).clip(0, 3), (xs / cell).astype(int).clip(0, 3)]] = 0.15
    region = pixels[top : top + size, left : left + size]
    red = np.array([0.75, 0.12, 0.1], dtype=np.float32)
    region += (red - region) * (seal * 0.9)[..., None]


def _sketch(canvas: Canvas) -> np.ndarray:
    rng = canvas.rng("style sketch")
    scale = canvas.layout.scale
    luma = _luminance(canvas.pixels)
    low, high = np.percentile(luma, (1.0, 99.0))
    luma = np.clip((luma - low) / max(high - low, 1e-3), 0.0, 1.0)
    blurred = gaussian_filter(1.0 - luma, 2.5 * max(scale, 0.5))
    lines = np.clip(luma / np.maximum(1.0 - blurred, 1e-3), 0.0, 1.0) ** 2.0
    darkness = 1.0 - gaussian_filter(luma, 1.5 * max(scale, 0.5))
    length = max(int(round(26 * scale)), 5)
    first = streaks(rng, canvas.height, canvas.width, length, 38.0)
    second = streaks(rng, canvas.height, canvas.width, length, -38.0)
    first = (first - first.min()) / (np.ptp(first) + 1e-6)
    second = (second - second.min()) / (np.ptp(second) + 1e-6)
    hatching = 0.45 * smoothstep(1.0 - darkness * 0.9, 1.05 - darkness * 0.9, first)
    hatching += 0.4 * smoothstep(1.3 - darkness, 1.35 - darkness, second)
    graphite = np.clip(lines * (1.0 - hatching), 0.0, 1.0)
    paper = np.array([0.96, 0.95, 0.92], dtype=np.float32)
    lead = np.array([0.22, 0.22, 0.25], dtype=np.float32)
    return lead + (paper - lead) * graphite[..., None]


def _pixel(canvas: Canvas) -> np.ndarray:
    block = max(2, int(round(min(canvas.width, canvas.height) / 96)))
    small_size = (-(-canvas.width // block), -(-canvas.height // block))
    image = Image.fromarray((np.clip(canvas.pixels, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))
    small = image.resize(small_size, Image.Resampling.BOX)
    small = small.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert("RGB")
    large = small.resize((small_size[0] * block, small_size[1] * block), Image.Resampling.NEAREST)
    return np.asarray(large.crop((0, 0, canvas.width, canvas.height)), dtype=np.float32) / 255.0


def _cartoon(canvas: Canvas) -> np.ndarray:
    scale = canvas.layout.scale
    flat = _kuwahara(canvas.pixels, max(int(round(5 * scale)), 2))
    # Posterise only part of the way: full bands turn sky gradients into contour lines.
    levels = 6.0
    flat = flat + (np.round(flat * levels) / levels - flat) * 0.6
    grey = _luminance(flat)[..., None]
    flat = grey + (flat - grey) * 1.25
    luma = gaussian_filter(_luminance(flat), 0.7 * max(scale, 0.5))
    outline = smoothstep(0.25, 0.5, np.hypot(sobel(luma, axis=0), sobel(luma, axis=1)))
    ink = np.array([0.1, 0.08, 0.1], dtype=np.float32)
    return flat + (ink - flat) * (outline * 0.85)[..., None]


def _plain(canvas: Canvas) -> np.ndarray:
    rng = canvas.rng("style none")
    grain = rng.normal(0.0, 1.0, (canvas.height, canvas.width)).astype(np.float32)
    return canvas.pixels * (1.0 + 0.012 * grain)[..., None]


STYLE_FUNCTIONS: dict[str | None, Callable[[Canvas], np.ndarray]] = {
    None: _plain,
    "oil": _oil,
    "watercolor": _watercolor,
    "ink": _ink,
    "sketch": _sketch,
    "pixel": _pixel,
    "cartoon": _cartoon,
}


def apply_style(canvas: Canvas) -> None:
    """Apply the scene's painting style to the canvas in place."""
    styled = STYLE_FUNCTIONS[canvas.scene.style](canvas)
    canvas.pixels[:] = np.clip(styled, 0.0, 1.0)
