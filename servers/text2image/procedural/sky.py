"""Sky layers: the gradient and sun glow, the sun or moon, clouds, stars and aurora."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.noise import fbm1d, fbm2d, smoothstep

__all__ = ["paint_sky", "paint_celestial", "paint_clouds", "paint_aurora"]


def _sun_distance(canvas: Canvas) -> np.ndarray:
    layout = canvas.layout
    dx = canvas.columns() - layout.sun_x
    dy = canvas.rows() - layout.sun_y
    return np.sqrt(dx * dx + dy * dy) / min(canvas.width, canvas.height)


def paint_sky(canvas: Canvas) -> None:
    """Fill the canvas with the sky gradient and the glow around the sun."""
    palette, layout = canvas.palette, canvas.layout
    t = np.clip(canvas.rows() / max(layout.horizon, 1.0), 0.0, 1.0)
    upper = smoothstep(0.0, 0.6, t)[..., None]
    lower = smoothstep(0.5, 1.0, t)[..., None]
    column = palette.sky_top + (palette.sky_middle - palette.sky_top) * upper
    column = column + (palette.sky_horizon - column) * lower
    canvas.pixels[:] = column

    if canvas.scene.time == "night":
        return
    distance = _sun_distance(canvas)
    overcast = 0.35 if "rain" in canvas.scene.weather else 1.0
    if canvas.scene.time in ("sunset", "dawn"):
        glow = 0.55 * np.exp(-distance / 0.22) + 0.45 * np.exp(-distance / 0.05)
        band = np.exp(-np.abs(canvas.rows() - layout.horizon) / (0.2 * layout.horizon + 1.0))
        glow = np.clip(glow + 0.25 * band, 0.0, 1.0)
    else:
        glow = 0.3 * np.exp(-distance / 0.25) + 0.6 * np.exp(-distance / 0.045)
    canvas.blend(glow * overcast, palette.sun)


def paint_celestial(canvas: Canvas) -> None:
    """Paint the sun disk by day, or stars and the moon at night."""
    scene = canvas.scene
    if scene.time == "night":
        if "rain" not in scene.weather:
            _paint_stars(canvas)
        if "moon" in scene.sky or "stars" not in scene.sky:
            _paint_moon(canvas)
        return
    if "rain" in scene.weather:
        return
    layout = canvas.layout
    distance = _sun_distance(canvas) * min(canvas.width, canvas.height)
    disk = np.clip((layout.sun_radius - distance) / 1.5 + 0.5, 0.0, 1.0)
    strength = 0.6 if "fog" in scene.weather else 1.0
    canvas.blend(disk * strength, np.array([1.0, 1.0, 0.96], dtype=np.float32))
    bloom = np.exp(-np.maximum(distance - layout.sun_radius, 0.0) / (0.5 * layout.sun_radius + 1.0))
    canvas.pixels += (bloom * 0.45 * strength)[..., None] * canvas.palette.sun


def _paint_stars(canvas: Canvas) -> None:
    rng = canvas.rng("stars")
    layout = canvas.layout
    sky_rows = max(int(layout.horizon), 1)
    count = int(canvas.width * sky_rows / 900) + 1
    ys = rng.integers(0, sky_rows, count)
    xs = rng.integers(0, canvas.width, count)
    brightness = (rng.random(count) ** 3).astype(np.float32)
    starlight = np.zeros((canvas.height, canvas.width), dtype=np.float32)
    np.maximum.at(starlight, (ys, xs), brightness)
    starlight = starlight * 0.6 + gaussian_filter(starlight, 0.7 * max(layout.scale, 1.0)) * 3.0

    if "stars" in canvas.scene.sky:
        # A diagonal band of faint, clumpy light reads as the Milky Way.
        across = (canvas.columns() / canvas.width - 0.5) * 0.6 + (canvas.rows() / sky_rows - 0.5)
        band = np.exp(-((across - float(rng.uniform(-0.2, 0.2))) / 0.18) ** 2)
        dust = 0.5 + 0.5 * fbm2d(rng, canvas.height, canvas.width, max(canvas.height / 10.0, 2.0), octaves=4)
        starlight += band * dust * 0.22
        extra = (rng.random((canvas.height, canvas.width)) < 0.02 * band).astype(np.float32)
        starlight += extra * rng.random((canvas.height, canvas.width)).astype(np.float32) * 0.6

    fade = smoothstep(layout.horizon, layout.horizon * 0.7, canvas.rows())
    canvas.pixels += (starlight * fade)[..., None] * np.array([0.95, 0.95, 1.0], dtype=np.float32)


def _paint_moon(canvas: Canvas) -> None:
    layout = canvas.layout
    rng = canvas.rng("moon")
    radius = layout.sun_radius * 0.8
    distance = _sun_distance(canvas) * min(canvas.width, canvas.height)
    glow = 0.35 * np.exp(-np.maximum(distance - radius, 0.0) / (radius * 2.5 + 1.0))
    canvas.blend(glow, np.array([0.55, 0.6, 0.75], dtype=np.float32))
    disk = np.clip(radius - distance + 0.5, 0.0, 1.0)
    maria = fbm2d(rng, canvas.height, canvas.width, max(radius / 2.0, 1.0), octaves=3)
    surface = np.array([0.96, 0.95, 0.86], dtype=np.float32) * (0.9 + 0.1 * maria)[..., None]
    canvas.blend(disk, surface)


def paint_clouds(canvas: Canvas) -> None:
    """Paint clouds lit from the sun's side; more of them when the prompt names clouds or rain."""
    scene, palette, layout = canvas.scene, canvas.palette, canvas.layout
    rng = canvas.rng("clouds")
    cover = float(rng.uniform(0.05, 0.3))
    if scene.sky & {"stars", "aurora"}:
        cover = float(rng.uniform(0.0, 0.1))
    if "clouds" in scene.sky:
        cover = 0.5
    if "rain" in scene.weather:
        cover = 0.85
    if cover < 0.01:
        return
    cell = max(canvas.height * 0.35, 4.0)
    field = fbm2d(rng, canvas.height, canvas.width, cell, octaves=5, stretch=2.8)
    # The threshold is the field's (1 - cover) quantile, so `cover` is the cloudy share of the sky.
    threshold = float(np.quantile(field[: max(int(layout.horizon), 1)], 1.0 - cover))
    density = smoothstep(threshold - 0.04, threshold + 0.25, field)
    density *= smoothstep(layout.horizon * 1.02, layout.horizon * 0.8, canvas.rows())

    # Light comes from below near the horizon at sunset, from above by day: compare the field
    # with itself shifted towards the light.
    shift = max(int(cell * 0.08), 1)
    if scene.time in ("sunset", "dawn"):
        toward_light = np.concatenate([np.repeat(field[:1], shift, axis=0), field[:-shift]], axis=0)
    else:
        toward_light = np.concatenate([field[shift:], np.repeat(field[-1:], shift, axis=0)], axis=0)
    lit = np.clip(0.5 + (field - toward_light) * 4.0, 0.0, 1.0)
    if scene.time in ("sunset", "dawn"):
        lit = np.clip(lit * 0.6 + 0.6 * smoothstep(0.2, 1.0, canvas.rows() / max(layout.horizon, 1.0)), 0.0, 1.0)
    colour = palette.cloud_shadow + (palette.cloud_lit - palette.cloud_shadow) * lit[..., None]
    canvas.blend(density * 0.92, colour)


def paint_aurora(canvas: Canvas) -> None:
    """Add curtains of green and violet light above the horizon."""
    layout = canvas.layout
    rng = canvas.rng("aurora")
    base = layout.horizon * (0.45 + 0.2 * fbm1d(rng, canvas.width, max(canvas.width / 3.0, 2.0), octaves=3))
    above = base[None, :] - canvas.rows()
    height = layout.horizon * 0.35
    curtain = np.where(above > 0, np.exp(-above / height), np.exp(above / (height * 0.1)))
    rays = 0.5 + 0.5 * fbm2d(rng, canvas.height, canvas.width, max(canvas.height / 3.0, 2.0), octaves=3, stretch=0.08)
    intensity = (curtain * rays * 0.9).astype(np.float32)
    green = np.array([0.25, 1.0, 0.55], dtype=np.float32)
    violet = np.array([0.6, 0.3, 0.9], dtype=np.float32)
    hue = np.clip(above / height, 0.0, 1.0)[..., None]
    canvas.pixels += intensity[..., None] * (green + (violet - green) * hue) * 0.6
