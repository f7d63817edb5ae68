"""Land layers: mountain ranges, rolling hills or dunes, and the ground plane."""

from __future__ import annotations

import numpy as np

from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.noise import fbm1d, fbm2d, noise1d, smoothstep

__all__ = ["paint_mountains", "paint_hills", "paint_ground", "ground_colour", "in_light"]

_SNOW_LIT = np.array([0.97, 0.97, 1.0], dtype=np.float32)
_SNOW_SHADOW = np.array([0.62, 0.7, 0.86], dtype=np.float32)
_GRASS = np.array([0.3, 0.56, 0.2], dtype=np.float32)
_GRASS_DRY = np.array([0.62, 0.62, 0.28], dtype=np.float32)
_FOREST_FLOOR = np.array([0.16, 0.34, 0.12], dtype=np.float32)
_SAND = np.array([0.9, 0.72, 0.46], dtype=np.float32)
_PAVEMENT = np.array([0.36, 0.36, 0.38], dtype=np.float32)


def _haze_strength(canvas: Canvas) -> float:
    return 0.25 if "fog" in canvas.scene.weather else 0.0


def _sun_side(canvas: Canvas) -> float:
    """Return +1 when the light comes from the right of the picture, -1 from the left."""
    return 1.0 if canvas.layout.sun_x > canvas.width / 2 else -1.0


def _ridge(canvas: Canvas, rng: np.random.Generator, depth: float) -> np.ndarray:
    """Return a mountain silhouette in [0, 1] per column: 1 at the highest peak of this range."""
    width, height = canvas.width, canvas.height
    cell = min(0.22 * width, 0.6 * height) * (1.4 - 0.5 * depth)
    rough = fbm1d(rng, width, cell, octaves=7, gain=0.5)
    ridged = 1.0 - np.abs(fbm1d(rng, width, cell * 0.7, octaves=6, gain=0.45))
    envelope = 0.55 + 0.45 * noise1d(rng, width, cell * 2.5)
    profile = (0.55 * (rough * 0.5 + 0.5) + 0.45 * ridged) * envelope
    low, high = float(profile.min()), float(profile.max())
    profile = (profile - low) / max(high - low, 1e-6)
    if canvas.scene.time in ("sunset", "dawn"):
        # Open a valley where the sun sets or rises, so the low sun stays in view.
        offset = (np.arange(width, dtype=np.float32) - canvas.layout.sun_x) / (0.16 * width)
        profile *= 1.0 - 0.65 * np.exp(-offset * offset)
    return profile


def paint_mountains(canvas: Canvas) -> None:
    """Paint three to five ranges from far to near, each hazier with distance and misty at its foot."""
    scene, palette, layout = canvas.scene, canvas.palette, canvas.layout
    rng = canvas.rng("mountains")
    count = int(rng.integers(4, 6))
    rows = canvas.rows()
    side = _sun_side(canvas)
    snowy = "snow" in scene.features
    ridges = []

    width = canvas.width
    rock_texture = fbm2d(rng, canvas.height, width + width // 2, max(layout.horizon * 0.12, 2.0), octaves=5)
    bottom = min(int(layout.horizon + 0.05 * canvas.height) + 2, canvas.height)

    for index in range(count):
        depth = index / max(count - 1, 1)
        tallest = layout.horizon * (0.52 - 0.26 * depth) * float(rng.uniform(0.85, 1.1))
        floor = layout.horizon - tallest * 0.12
        ridge = floor - tallest * (0.12 + 0.88 * _ridge(canvas, rng, depth))
        ridges.append(ridge)

        # Only the rows between the highest peak and just below the horizon are painted:
        # the ground covers everything lower.
        top = max(int(ridge.min()) - 1, 0)
        if top >= bottom:
            continue
        band = rows[top:bottom]
        below = band - ridge[None, :]
        coverage = np.clip(below + 0.5, 0.0, 1.0)

        # Facets: the rock texture compared with itself shifted towards the sun, plus the
        # slope of the ridge line near the crest.
        margin = width // 4
        shift = int(side) * min(max(int(tallest * 0.02), 1), margin)
        offset = int(rng.integers(margin, width // 2 - margin + 1))
        rock = rock_texture[top:bottom, offset : offset + width]
        neighbour = rock_texture[top:bottom, offset + shift : offset + shift + width]
        facet = np.clip(0.5 + (rock - neighbour) * 6.0, 0.0, 1.0)
        slope = np.gradient(ridge) * side
        crest = np.exp(-np.maximum(below, 0.0) / (tallest * 0.35 + 1.0))
        light = np.clip(facet * 0.7 + 0.3 + np.clip(-slope, -1.0, 1.0)[None, :] * 0.35 * crest, 0.0, 1.3)

        haze = min(0.68 * (1.0 - depth) + 0.06 + _haze_strength(canvas), 0.95)
        base = palette.rock * (0.85 + 0.3 * (1.0 - depth))
        colour = base * (0.55 + 0.7 * light)[..., None]
        high_peak = tallest > 0.45 * layout.horizon and scene.time != "night" and rng.random() < 0.35
        if snowy or high_peak:
            snowline = ridge[None, :] + tallest * (0.2 + 0.12 * rock)
            cap = smoothstep(snowline + 2.0, snowline - 2.0, band) * (1.0 if snowy else 0.8)
            snow = _SNOW_SHADOW + (_SNOW_LIT - _SNOW_SHADOW) * np.clip(light, 0.0, 1.0)[..., None]
            snow = snow * palette.tint * palette.brightness
            colour += (snow - colour) * cap[..., None]
        colour += (palette.haze - colour) * haze
        mist = smoothstep(ridge[None, :] + tallest * 0.25, layout.horizon + tallest * 0.05, band)
        colour += (palette.haze - colour) * (mist * (0.65 - 0.35 * depth))[..., None]
        region = canvas.pixels[top:bottom]
        region += (colour - region) * coverage[..., None]

    canvas.notes["ridges"] = ridges


def paint_hills(canvas: Canvas) -> None:
    """Paint two or three rolling hill lines (dunes in a desert) above the horizon."""
    palette, layout, scene = canvas.palette, canvas.layout, canvas.scene
    rng = canvas.rng("hills")
    rows = canvas.rows()
    side = _sun_side(canvas)
    count = int(rng.integers(2, 4))
    desert = "desert" in scene.features
    for index in range(count):
        depth = index / max(count - 1, 1)
        rise = canvas.height * (0.16 - 0.08 * depth) * float(rng.uniform(0.7, 1.2))
        cell = min(0.35 * canvas.width, 1.2 * canvas.height)
        if desert:
            # Dunes: sharp crests from folded noise, one side lit by the sun and the other dark.
            rise *= 1.4
            shape = (1.0 - np.abs(fbm1d(rng, canvas.width, cell * 0.8, octaves=3))) ** 2
        else:
            shape = fbm1d(rng, canvas.width, cell, octaves=4) * 0.5 + 0.5
        ridge = layout.horizon + canvas.height * 0.02 * depth - rise * shape
        below = rows - ridge[None, :]
        coverage = np.clip(below + 0.5, 0.0, 1.0)
        slope = np.gradient(ridge) * side
        base = ground_colour(canvas, rng) * (0.9 + 0.15 * depth)
        fade = np.exp(-np.maximum(below, 0.0) / (rise * 0.7 + 1.0))
        if desert:
            facing = np.clip(-slope * 4.0, -1.0, 1.0)[None, :]
            lit = 0.85 + 0.3 * facing * fade
        else:
            lit = 0.9 + np.clip(-slope * 0.6, -0.25, 0.25)[None, :] * fade
        colour = in_light(canvas, base * lit[..., None])
        haze = min(0.5 * (1.0 - depth) + 0.12 + _haze_strength(canvas), 0.9)
        colour += (palette.haze - colour) * haze
        canvas.blend(coverage, colour)


def in_light(canvas: Canvas, colour: np.ndarray) -> np.ndarray:
    """Return land colour as the scene's light shows it: tinted, dimmed, and purpler at sunset or night."""
    palette = canvas.palette
    shadow = {"day": 0.0, "dawn": 0.25, "sunset": 0.45, "night": 0.5}[canvas.scene.time]
    lit = colour * palette.tint * palette.brightness
    return lit + (palette.rock - lit) * shadow


def ground_colour(canvas: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Return the base colour of the land for the scene: snow, sand, pavement, forest floor or grass."""
    scene = canvas.scene
    if "snow" in scene.features:
        return _SNOW_LIT * 0.92
    if scene.has("desert", "beach"):
        return _SAND
    if "city" in scene.features and not scene.has("meadow", "forest"):
        return _PAVEMENT
    if "forest" in scene.features:
        return _FOREST_FLOOR
    if scene.season == "autumn":
        return (_GRASS * 0.5 + _GRASS_DRY * 0.5).astype(np.float32)
    return _GRASS * float(rng.uniform(0.92, 1.08))


def paint_ground(canvas: Canvas) -> None:
    """Paint the land from the horizon to the bottom edge, hazy far away and textured near."""
    palette, layout, scene = canvas.palette, canvas.layout, canvas.scene
    rng = canvas.rng("ground")
    rows = canvas.rows()
    near = np.clip((rows - layout.horizon) / max(canvas.height - layout.horizon, 1.0), 0.0, 1.0)
    base = ground_colour(canvas, rng)

    patches = fbm2d(rng, canvas.height, canvas.width, max(canvas.height * 0.2, 2.0), octaves=4, stretch=3.0)
    fine = fbm2d(rng, canvas.height, canvas.width, max(3.0 * layout.scale, 1.0), octaves=2, stretch=0.35)
    if "desert" in scene.features or "beach" in scene.features:
        ripple = np.sin((rows * 0.35 / max(layout.scale, 0.3)) / (0.2 + near) + patches * 6.0)
        texture = 1.0 + 0.06 * ripple + 0.08 * patches
    elif "snow" in scene.features:
        texture = 1.0 + 0.06 * patches - 0.03 * fine
    else:
        texture = 1.0 + 0.18 * patches + 0.12 * fine * near
    colour = base * texture[..., None]
    if not scene.has("snow", "desert", "beach", "city"):
        dry = smoothstep(0.2, 0.7, patches)[..., None] * 0.35
        colour += (_GRASS_DRY - colour) * dry
    colour *= (1.0 - 0.3 * near)[..., None]
    colour = in_light(canvas, colour)
    far_haze = 0.3 if "forest" in scene.features else 0.55
    haze = (1.0 - smoothstep(0.0, 0.45, near)) * (far_haze + _haze_strength(canvas))
    colour += (palette.haze - colour) * np.clip(haze, 0.0, 1.0)[..., None]
    coverage = np.clip(rows - layout.horizon + 0.5, 0.0, 1.0) * np.ones((1, canvas.width), dtype=np.float32)
    canvas.blend(coverage, colour)
    canvas.notes["ground"] = base
