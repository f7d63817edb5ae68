"""Water layers: a lake that mirrors the scene above it, the sea, a stream or river, a waterfall."""

from __future__ import annotations

import numpy as np

from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.noise import fbm2d, smoothstep, streaks

__all__ = ["paint_lake", "paint_sea", "paint_stream", "paint_waterfall"]

_FOAM = np.array([0.95, 0.97, 1.0], dtype=np.float32)
_BANK = np.array([0.3, 0.26, 0.2], dtype=np.float32)


def _ripples(canvas: Canvas, name: str) -> np.ndarray:
    """Return horizontal ripple noise in about [-1, 1], finer towards the horizon."""
    rng = canvas.rng(name)
    length = max(int(24 * canvas.layout.scale), 3)
    fine = streaks(rng, canvas.height, canvas.width, length, 0.0, grain=max(1.2 * canvas.layout.scale, 1.0))
    coarse = streaks(rng, canvas.height, canvas.width, length * 3, 0.0, grain=max(3.0 * canvas.layout.scale, 1.0))
    near = np.clip((canvas.rows() - canvas.layout.horizon) / max(canvas.height - canvas.layout.horizon, 1.0), 0.0, 1.0)
    mixed = fine * (1.0 - near) + coarse * near
    return mixed / (np.abs(mixed).max() + 1e-6)


def _reflection(canvas: Canvas, mirror_row: float, ripples: np.ndarray) -> np.ndarray:
    """Return the canvas mirrored about `mirror_row`, wobbled sideways by `ripples`."""
    rows = canvas.rows()
    distance = np.maximum(rows - mirror_row, 0.0)
    wobble = ripples * (1.5 + 0.012 * canvas.width * distance / max(canvas.height - mirror_row, 1.0))
    source_rows = np.clip(np.round(mirror_row - distance - 1.0 + ripples * 1.5), 0, canvas.height - 1).astype(np.int64)
    source_columns = np.clip(np.round(canvas.columns() + wobble), 0, canvas.width - 1).astype(np.int64)
    return canvas.pixels[np.broadcast_to(source_rows, source_columns.shape), source_columns]


def _glitter(canvas: Canvas, ripples: np.ndarray, top: float, strength: float) -> np.ndarray:
    """Return the sun's (or moon's) path of sparkles on the water below `top`."""
    layout = canvas.layout
    spread = (canvas.rows() - top) * 0.35 + layout.sun_radius
    path = np.exp(-(((canvas.columns() - layout.sun_x) / np.maximum(spread, 1.0)) ** 2))
    sparkle = smoothstep(0.15, 0.6, ripples)
    return (path * sparkle * strength * (canvas.rows() > top)).astype(np.float32)


def _light_strength(canvas: Canvas) -> float:
    if "rain" in canvas.scene.weather:
        return 0.0
    return {"sunset": 0.9, "dawn": 0.8, "day": 0.35, "night": 0.5}[canvas.scene.time]


def paint_lake(canvas: Canvas) -> None:
    """Paint a lake that reflects the sky, mountains and far trees, with a wavy near shore."""
    layout, palette = canvas.layout, canvas.palette
    if layout.water_line is None or layout.lake_shore is None:
        return
    rows = canvas.rows()
    coverage = np.clip(rows - layout.water_line + 0.5, 0.0, 1.0) * np.clip(layout.lake_shore[None, :] - rows + 0.5, 0.0, 1.0)
    ripples = _ripples(canvas, "lake")
    mirrored = _reflection(canvas, layout.water_line, ripples)

    near = np.clip((rows - layout.water_line) / max(float(layout.lake_shore.max()) - layout.water_line, 1.0), 0.0, 1.0)
    reflectance = (0.88 - 0.35 * near)[..., None]
    colour = palette.water + (mirrored * 0.92 - palette.water) * reflectance
    colour *= (1.0 + 0.07 * ripples)[..., None]
    colour += _glitter(canvas, ripples, layout.water_line, _light_strength(canvas))[..., None] * palette.sun * 0.8
    edge = smoothstep(layout.lake_shore[None, :] - 0.012 * canvas.height, layout.lake_shore[None, :], rows)
    colour += (palette.haze * 0.9 - colour) * (edge * 0.4)[..., None]
    canvas.blend(coverage, colour)


def paint_sea(canvas: Canvas) -> None:
    """Paint the sea up to the horizon with waves, the sun's glitter path and foam on the beach."""
    layout, palette = canvas.layout, canvas.palette
    rows = canvas.rows()
    shore = layout.sea_shore if layout.sea_shore is not None else np.full(canvas.width, canvas.height + 1.0, np.float32)
    coverage = np.clip(rows - layout.horizon + 0.5, 0.0, 1.0) * np.clip(shore[None, :] - rows + 0.5, 0.0, 1.0)
    ripples = _ripples(canvas, "sea")
    mirrored = _reflection(canvas, layout.horizon, ripples * 0.5)

    near = np.clip((rows - layout.horizon) / max(canvas.height - layout.horizon, 1.0), 0.0, 1.0)
    deep = palette.water * 1.1
    colour = deep + (mirrored * 0.85 - deep) * (0.75 - 0.45 * smoothstep(0.0, 0.6, near))[..., None]
    colour *= (1.0 + 0.16 * ripples * (0.3 + near))[..., None]
    crest = smoothstep(0.55, 0.85, ripples) * smoothstep(0.15, 0.8, near) * 0.5
    colour += (_FOAM * palette.tint * palette.brightness - colour) * crest[..., None]
    colour += _glitter(canvas, ripples, layout.horizon, _light_strength(canvas))[..., None] * palette.sun

    if layout.sea_shore is not None:
        rng = canvas.rng("surf")
        band = 0.02 * canvas.height * (1.0 + 0.6 * fbm2d(rng, canvas.height, canvas.width, max(canvas.width / 20.0, 2.0), octaves=2))
        surf = smoothstep(shore[None, :] - band, shore[None, :], rows)
        colour += (_FOAM * palette.tint * palette.brightness - colour) * (surf * 0.85)[..., None]
        wet = smoothstep(shore[None, :] + 0.05 * canvas.height, shore[None, :], rows) * (rows >= shore[None, :])
        canvas.pixels *= (1.0 - 0.25 * wet)[..., None]
    canvas.blend(coverage, colour)


def paint_stream(canvas: Canvas) -> None:
    """Paint a stream or river winding towards the viewer between dark, stony banks."""
    layout, palette = canvas.layout, canvas.palette
    water_mask = layout.stream_mask()
    if water_mask is None or layout.stream_center is None or layout.stream_half_width is None:
        return
    rng = canvas.rng("stream")
    rows, columns = canvas.rows(), canvas.columns()
    offset = np.abs(columns - layout.stream_center[:, None])
    half = np.maximum(layout.stream_half_width[:, None], 0.0)
    stones = fbm2d(rng, canvas.height, canvas.width, max(4.0 * layout.scale, 1.5), octaves=2)
    bank_width = half * 0.22 + 1.5
    bank = np.clip(half + bank_width * (1.0 + 0.5 * stones) - offset, 0.0, 1.0) * (half > 0)
    canvas.blend(bank, _BANK * (0.8 + 0.35 * stones)[..., None] * palette.tint * palette.brightness)

    ripples = _ripples(canvas, "stream")
    near = np.clip((rows - layout.horizon) / max(canvas.height - layout.horizon, 1.0), 0.0, 1.0)
    sky_light = palette.sky_middle * 0.55 + palette.sky_horizon * 0.45
    depth_colour = palette.water * 1.25 + np.array([0.0, 0.05, 0.08], dtype=np.float32)
    colour = depth_colour + (sky_light - depth_colour) * (0.55 - 0.25 * near)[..., None]
    colour = colour * (1.0 + 0.14 * ripples)[..., None]
    foam = smoothstep(0.5, 0.9, ripples) * smoothstep(0.6, 1.0, offset / np.maximum(half, 1.0)) * 0.7
    colour += (_FOAM * palette.tint * palette.brightness - colour) * foam[..., None]
    colour += _glitter(canvas, ripples, layout.horizon, _light_strength(canvas) * 0.6)[..., None] * palette.sun
    canvas.blend(water_mask, colour)


def paint_waterfall(canvas: Canvas) -> None:
    """Paint a waterfall dropping from the nearest ridge, with mist where it lands."""
    layout, palette = canvas.layout, canvas.palette
    ridges = canvas.notes.get("ridges")
    rng = canvas.rng("waterfall")
    x = float(rng.uniform(0.3, 0.7)) * canvas.width
    bottom = layout.water_line if layout.water_line is not None else layout.horizon
    top = float(ridges[-1][int(x)]) + 0.03 * canvas.height if ridges else bottom - 0.25 * canvas.height
    top = min(top, bottom - 0.08 * canvas.height)
    rows, columns = canvas.rows(), canvas.columns()
    fall = np.clip((rows - top) / max(bottom - top, 1.0), 0.0, 1.0)
    half = max(0.018 * canvas.width, 1.5) * (1.0 + 0.8 * fall)
    coverage = np.clip(half - np.abs(columns - x) + 0.5, 0.0, 1.0) * (rows >= top) * (rows <= bottom + 1)
    strands = fbm2d(rng, canvas.height, canvas.width, max(3.0 * layout.scale, 1.0), octaves=2, stretch=0.05)
    colour = _FOAM * (0.78 + 0.22 * strands)[..., None] * palette.tint * palette.brightness
    canvas.blend(coverage * 0.95, colour)
    mist_radius = 0.08 * canvas.width
    mist = np.exp(-(((columns - x) / mist_radius) ** 2 + ((rows - bottom) / (0.35 * mist_radius + 1.0)) ** 2))
    canvas.blend((mist * 0.75).astype(np.float32), _FOAM * palette.tint * palette.brightness)
