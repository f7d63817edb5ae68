"""Atmosphere layers: rainbow, fog, rain, falling snow, and the final light grade."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.noise import fbm2d, noise1d, smoothstep, streaks

__all__ = ["paint_rainbow", "paint_sunbeams", "paint_fog", "paint_rain", "paint_snowfall", "grade_light"]

_RAINBOW = np.array(
    [[0.9, 0.15, 0.15], [0.95, 0.55, 0.1], [0.95, 0.9, 0.2], [0.2, 0.8, 0.3], [0.2, 0.45, 0.95], [0.5, 0.25, 0.8]],
    dtype=np.float32,
)


def paint_rainbow(canvas: Canvas) -> None:
    """Paint a faint rainbow arc centred below the horizon."""
    layout = canvas.layout
    rng = canvas.rng("rainbow")
    centre_x = float(rng.uniform(0.3, 0.7)) * canvas.width
    centre_y = layout.horizon + 0.15 * canvas.height
    radius = float(rng.uniform(0.45, 0.6)) * max(canvas.width, canvas.height) * 0.8
    band = radius * 0.06
    distance = np.sqrt((canvas.columns() - centre_x) ** 2 + (canvas.rows() - centre_y) ** 2)
    position = (radius - distance) / band * (len(_RAINBOW) - 1)
    inside = (position >= 0) & (position <= len(_RAINBOW) - 1)
    index = np.clip(position, 0, len(_RAINBOW) - 1)
    low = np.floor(index).astype(np.int64)
    high = np.minimum(low + 1, len(_RAINBOW) - 1)
    t = (index - low)[..., None]
    colour = _RAINBOW[low] * (1.0 - t) + _RAINBOW[high] * t
    fade = smoothstep(layout.horizon, layout.horizon - 0.1 * canvas.height, canvas.rows())
    strength = inside * fade * 0.32
    canvas.blend(strength.astype(np.float32), colour)


def paint_sunbeams(canvas: Canvas) -> None:
    """Add faint shafts of light fanning out from the sun, as seen through trees or mist."""
    layout, palette = canvas.layout, canvas.palette
    rng = canvas.rng("sunbeams")
    dx = canvas.columns() - layout.sun_x
    dy = np.maximum(canvas.rows() - layout.sun_y, 1.0)
    # Each beam is a direction from the sun, so beam strength is noise over the angle.
    angle = np.arctan2(dx, dy)
    beams = noise1d(rng, 2048, 40.0)
    index = np.clip(((angle / np.pi + 1.0) * 1023.5).astype(np.int64), 0, 2047)
    strength = smoothstep(-0.2, 0.9, beams[index])
    distance = np.sqrt(dx * dx + dy * dy) / canvas.height
    fade = np.exp(-distance / 0.8) * smoothstep(0.0, 0.15, distance) * (canvas.rows() > layout.sun_y)
    canvas.pixels += (strength * fade * 0.09)[..., None] * palette.sun


def paint_fog(canvas: Canvas) -> None:
    """Blend in drifting fog, densest at the horizon and thinning towards the viewer."""
    layout, palette = canvas.layout, canvas.palette
    rng = canvas.rng("fog")
    drift = 0.5 + 0.5 * fbm2d(rng, canvas.height, canvas.width, max(canvas.height * 0.25, 2.0), octaves=4, stretch=3.0)
    distance = np.abs(canvas.rows() - layout.horizon) / canvas.height
    density = (0.25 + 0.5 * np.exp(-distance / 0.12)) * (0.55 + 0.45 * drift)
    density *= 1.0 - 0.5 * smoothstep(layout.horizon, canvas.height, canvas.rows())
    fog = palette.haze * 0.6 + np.array([0.85, 0.87, 0.9], dtype=np.float32) * 0.4 * palette.brightness
    canvas.blend(np.clip(density, 0.0, 0.85).astype(np.float32), fog)


def paint_rain(canvas: Canvas) -> None:
    """Darken the scene and draw slanted rain streaks."""
    rng = canvas.rng("rain")
    length = max(int(0.05 * canvas.height), 3)
    # `streaks` smears along rows, so rain is drawn on the transposed canvas to fall vertically.
    lines = streaks(rng, canvas.width, canvas.height, length, float(rng.uniform(-12.0, 12.0))).T
    lines = lines / (np.abs(lines).max() + 1e-6)
    drops = smoothstep(0.35, 0.75, lines) * 0.35
    canvas.pixels *= 0.85
    canvas.blend(drops.astype(np.float32), np.array([0.8, 0.82, 0.88], dtype=np.float32) * canvas.palette.brightness)


def paint_snowfall(canvas: Canvas) -> None:
    """Scatter soft snowflakes over the whole picture."""
    rng = canvas.rng("snowfall")
    count = int(canvas.width * canvas.height / 500) + 1
    flakes = np.zeros((canvas.height, canvas.width), dtype=np.float32)
    ys = rng.integers(0, canvas.height, count)
    xs = rng.integers(0, canvas.width, count)
    np.maximum.at(flakes, (ys, xs), rng.uniform(0.5, 1.0, count).astype(np.float32))
    flakes = np.clip(gaussian_filter(flakes, 0.9 * max(canvas.layout.scale, 0.6)) * 4.0, 0.0, 1.0)
    canvas.blend(flakes, np.array([0.97, 0.97, 1.0], dtype=np.float32))


def grade_light(canvas: Canvas) -> None:
    """Darken the corners slightly and keep every value in [0, 1]."""
    rows = (canvas.rows() / canvas.height - 0.5) * 2.0
    columns = (canvas.columns() / canvas.width - 0.5) * 2.0
    vignette = 1.0 - 0.18 * np.clip(rows * rows * 0.6 + columns * columns * 0.5, 0.0, 1.0)
    canvas.pixels *= vignette[..., None]
    np.clip(canvas.pixels, 0.0, 1.0, out=canvas.pixels)
