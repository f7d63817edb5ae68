"""City layer: two rows of buildings on the horizon with window grids, lit at night."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from servers.text2image.procedural.canvas import Canvas

__all__ = ["paint_city"]

_FACADES = ((0.42, 0.45, 0.52), (0.55, 0.55, 0.58), (0.35, 0.38, 0.45), (0.6, 0.56, 0.5), (0.28, 0.32, 0.4))
_WINDOW_LIT = np.array([1.0, 0.84, 0.5], dtype=np.float32)
_MAX_BUILDINGS = 250


def _window_colour(canvas: Canvas) -> np.ndarray:
    if canvas.scene.time == "night":
        return _WINDOW_LIT
    if canvas.scene.time in ("sunset", "dawn"):
        return np.array([1.0, 0.72, 0.42], dtype=np.float32)
    return np.array([0.6, 0.72, 0.86], dtype=np.float32)


def _paint_row(canvas: Canvas, rng: np.random.Generator, base: float, tallest: float, haze: float) -> None:
    width, height = canvas.width, canvas.height
    ids = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(ids)
    lefts, tops, colours = [0.0], [0.0], [np.zeros(3, np.float32)]
    x = -float(rng.uniform(0.0, 0.05)) * width
    while x < width and len(lefts) <= _MAX_BUILDINGS:
        building_width = max(float(rng.uniform(0.035, 0.09)) * width, 3.0)
        building_height = tallest * float(rng.uniform(0.35, 1.0))
        top = base - building_height
        index = len(lefts)
        draw.rectangle((x, top, x + building_width, base + 2), fill=index)
        if rng.random() < 0.3:
            inset = building_width * 0.25
            draw.rectangle((x + inset, top - building_height * 0.08, x + building_width - inset, top), fill=index)
        lefts.append(x)
        tops.append(top)
        colours.append(np.array(_FACADES[int(rng.integers(len(_FACADES)))], np.float32) * float(rng.uniform(0.8, 1.1)))
        x += building_width * float(rng.uniform(0.85, 1.05))

    id_map = np.asarray(ids).astype(np.int64)
    inside = id_map > 0
    palette = canvas.palette
    facade = np.array(colours, dtype=np.float32)[id_map] * palette.tint * palette.brightness

    # Windows: a grid anchored at each building's left and top edges; a hash of the building
    # and the cell decides which are lit.
    cell_w = max(0.011 * width, 2.0)
    cell_h = max(0.022 * height, 2.0)
    u = canvas.columns() - np.array(lefts, np.float32)[id_map]
    v = canvas.rows() - np.array(tops, np.float32)[id_map]
    column_index = np.floor(u / cell_w).astype(np.int64)
    row_index = np.floor(v / cell_h).astype(np.int64)
    in_cell = ((u % cell_w) > 0.35 * cell_w) & ((v % cell_h) > 0.4 * cell_h) & (u > cell_w * 0.5) & (v > cell_h * 0.5)
    salt = int(rng.integers(1, 2**20))
    hashed = ((id_map * 73856093) ^ (column_index * 19349663) ^ (row_index * 83492791) ^ salt) % 1009
    share = 0.55 if canvas.scene.time == "night" else 0.7
    lit = in_cell & inside & (hashed < share * 1009)
    colour = facade
    window = _window_colour(canvas) * (0.75 + 0.25 * (hashed % 7 / 6.0))[..., None]
    colour = np.where(lit[..., None], window, colour)
    colour = colour + (palette.haze - colour) * haze
    canvas.blend(inside.astype(np.float32), colour)


def paint_city(canvas: Canvas) -> None:
    """Paint a far, hazy skyline and a nearer row of buildings standing on the horizon."""
    rng = canvas.rng("city")
    horizon = canvas.layout.horizon
    _paint_row(canvas, rng, horizon, horizon * 0.55, haze=0.5)
    _paint_row(canvas, rng, horizon + canvas.height * 0.02, horizon * 0.4, haze=0.1)
