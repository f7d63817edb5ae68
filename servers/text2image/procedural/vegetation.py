"""Plant layers: the far tree line, forest rows and single trees, and meadow flowers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.noise import fbm2d
from servers.text2image.procedural.terrain import in_light

__all__ = ["paint_tree_line", "paint_trees", "paint_flowers"]

_TRUNK = (0.28, 0.2, 0.13)
_SNOW = (0.95, 0.96, 1.0)
_CONIFER = ((0.1, 0.28, 0.14), (0.13, 0.33, 0.16), (0.08, 0.24, 0.15))
_BROADLEAF = {
    None: ((0.2, 0.45, 0.14), (0.27, 0.52, 0.17), (0.16, 0.38, 0.12)),
    "summer": ((0.17, 0.42, 0.12), (0.23, 0.5, 0.15), (0.13, 0.36, 0.1)),
    "spring": ((0.42, 0.66, 0.28), (0.5, 0.72, 0.32), (0.96, 0.74, 0.82)),
    "autumn": ((0.86, 0.45, 0.12), (0.9, 0.66, 0.16), (0.72, 0.22, 0.1)),
}
_FLOWERS = ((0.92, 0.2, 0.2), (0.98, 0.85, 0.2), (0.98, 0.98, 0.95), (0.95, 0.55, 0.75), (0.6, 0.4, 0.85))


@dataclass(frozen=True)
class _Tree:
    x: float
    base: float
    height: float
    conifer: bool
    colour: np.ndarray
    highlight: np.ndarray
    trunk: np.ndarray


def _rgba(colour: np.ndarray | tuple[float, ...]) -> tuple[int, int, int, int]:
    r, g, b = (int(np.clip(value, 0.0, 1.0) * 255 + 0.5) for value in colour)
    return r, g, b, 255


def _in_water(canvas: Canvas, x: float, y: float, margin: float) -> bool:
    """Tell whether a tree standing at (x, y) would stand in the lake, the sea or the stream."""
    layout = canvas.layout
    column = min(max(int(x), 0), canvas.width - 1)
    row = min(max(int(y), 0), canvas.height - 1)
    if layout.lake_shore is not None and layout.water_line is not None:
        if layout.water_line + 1 <= y <= layout.lake_shore[column] + margin * 0.3:
            return True
    if layout.water_line is not None and layout.lake_shore is None:
        shore = layout.sea_shore[column] if layout.sea_shore is not None else canvas.height + 1
        if y <= shore + margin * 0.3:
            return True
    if layout.stream_center is not None and layout.stream_half_width is not None:
        half = layout.stream_half_width[row]
        if half >= 0 and abs(x - layout.stream_center[row]) < half * 1.25 + margin:
            return True
    return False


def _hides_lake(canvas: Canvas, x: float, base: float) -> bool:
    """Tell whether a tree on the near shore would stand in front of the middle of the lake."""
    layout = canvas.layout
    if layout.lake_shore is None or base < float(layout.lake_shore.min()):
        return False
    return abs(x - canvas.width / 2) < 0.3 * canvas.width


def _tree_colours(
    canvas: Canvas, rng: np.random.Generator, conifer: bool, haze: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the crown, sunlit crown and trunk colours of one tree, hazed by distance."""
    scene, palette = canvas.scene, canvas.palette
    choices = _CONIFER if conifer else _BROADLEAF.get(scene.season, _BROADLEAF[None])
    colour = np.array(choices[int(rng.integers(len(choices)))], dtype=np.float32) * float(rng.uniform(0.85, 1.15))
    highlight = colour * 1.2 + 0.025
    trunk = np.array(_TRUNK, dtype=np.float32) * (0.7 if conifer else 1.0)
    lit = [in_light(canvas, part) for part in (colour, highlight, trunk)]
    colour, highlight, trunk = (part + (palette.haze - part) * haze for part in lit)
    return colour, highlight, trunk


def _draw_conifer(draw: ImageDraw.ImageDraw, tree: _Tree, sun_side: float, snow: tuple[int, int, int, int] | None) -> None:
    """Draw a fir: stacked tiers with drooping branch tips, lit on the sun's side."""
    x, base, height = tree.x, tree.base, tree.height
    width = height * 0.36
    trunk = max(width * 0.1, 0.6)
    draw.rectangle((x - trunk, base - height * 0.15, x + trunk, base), fill=_rgba(tree.trunk))
    tiers = 4
    for tier in range(tiers):
        top = base - height + tier * height * 0.2
        bottom = base - height * 0.1 - (tiers - 1 - tier) * height * 0.16
        half = width * (0.45 + 0.55 * (tier + 1) / tiers) / 2.0
        notch = (bottom - top) * 0.12
        edge = [(x - half + 2.0 * half * k / 6.0, bottom - (notch if k % 2 else 0.0)) for k in range(7)]
        draw.polygon([(x, top), *edge], fill=_rgba(tree.colour))
        lit_edge = [(x + sun_side * half * k / 3.0, bottom - (notch if k % 2 else 0.0)) for k in range(1, 4)]
        draw.polygon([(x, top), *lit_edge], fill=_rgba(tree.highlight))
        if snow is not None and tier == 0:
            cap = top + (bottom - top) * 0.35
            draw.polygon([(x, top), (x - half * 0.35, cap), (x + half * 0.35, cap)], fill=snow)


def _draw_broadleaf(draw: ImageDraw.ImageDraw, tree: _Tree, sun_side: float, rng: np.random.Generator) -> None:
    """Draw a leafy tree: a trunk under a crown of overlapping blobs, darker below and lit on the sun's side."""
    x, base, height = tree.x, tree.base, tree.height
    width = height * 0.6
    trunk = max(width * 0.07, 0.6)
    draw.rectangle((x - trunk, base - height * 0.55, x + trunk, base), fill=_rgba(tree.trunk))
    centre_y = base - height * 0.62
    shade = tree.colour * 0.72
    layers = ((shade, 4, 0.06, 0.3), (tree.colour, 6, -0.04, 0.26), (tree.highlight, 4, -0.14, 0.16))
    for colour, count, lift, size in layers:
        lit_shift = sun_side * width * 0.08 if colour is tree.highlight else 0.0
        for _ in range(count):
            radius = width * size * float(rng.uniform(0.75, 1.2))
            cx = x + lit_shift + width * float(rng.uniform(-0.24, 0.24))
            cy = centre_y + height * (lift + float(rng.uniform(-0.1, 0.1)))
            draw.ellipse((cx - radius, cy - radius * 0.9, cx + radius, cy + radius * 0.9), fill=_rgba(colour))


def _row_of_trees(
    canvas: Canvas, rng: np.random.Generator, base: float, height: float, density: float, haze: float, conifer_share: float
) -> list[_Tree]:
    trees = []
    # At most about 200 trees per row keep very wide, low pictures fast.
    spacing = max(height * 0.3 / density, 2.0, canvas.width / 200.0)
    x = -float(rng.uniform(0.0, spacing))
    while x < canvas.width + spacing:
        tree_height = height * float(rng.uniform(0.75, 1.25))
        tree_base = base + height * float(rng.uniform(-0.05, 0.08))
        conifer = bool(rng.random() < conifer_share)
        colour, highlight, trunk = _tree_colours(canvas, rng, conifer, haze)
        if not _in_water(canvas, x, tree_base, tree_height * 0.25) and not _hides_lake(canvas, x, tree_base):
            trees.append(_Tree(x, tree_base, tree_height, conifer, colour, highlight, trunk))
        x += spacing * float(rng.uniform(0.6, 1.4))
    return trees


def _conifer_share(canvas: Canvas, rng: np.random.Generator) -> float:
    scene = canvas.scene
    if "snow" in scene.features:
        return 1.0
    if scene.season in ("spring", "autumn") or "flowers" in scene.features:
        return 0.25
    return float(rng.uniform(0.35, 0.75))


def _draw_trees(canvas: Canvas, trees: list[_Tree], rng: np.random.Generator) -> None:
    if not trees:
        return
    layer = canvas.new_layer()
    draw = ImageDraw.Draw(layer)
    sun_side = 1.0 if canvas.layout.sun_x > canvas.width / 2 else -1.0
    snow = _rgba(in_light(canvas, np.array(_SNOW, dtype=np.float32))) if "snow" in canvas.scene.features else None
    for tree in trees:
        if tree.conifer:
            _draw_conifer(draw, tree, sun_side, snow)
        else:
            _draw_broadleaf(draw, tree, sun_side, rng)
    top, coverage = canvas.composite(layer, soften=0.6 * max(canvas.layout.scale, 0.5))
    if not len(coverage):
        return
    leaves = fbm2d(rng, len(coverage), canvas.width, max(4.0 * canvas.layout.scale, 1.0), octaves=2)
    canvas.pixels[top : top + len(coverage)] *= (1.0 + 0.14 * leaves * coverage)[..., None]


def paint_tree_line(canvas: Canvas) -> None:
    """Paint a dense, hazy band of small trees along the horizon."""
    layout = canvas.layout
    rng = canvas.rng("tree line")
    share = _conifer_share(canvas, rng)
    trees: list[_Tree] = []
    for index in range(2):
        height = canvas.height * (0.07 + 0.03 * index)
        base = layout.horizon + canvas.height * 0.006 * (index + 1)
        trees += _row_of_trees(canvas, rng, base, height, density=1.6, haze=0.55 - 0.15 * index, conifer_share=share)
    _draw_trees(canvas, trees, rng)


def paint_trees(canvas: Canvas) -> None:
    """Paint forest rows that grow towards the viewer, or a few single trees outside a forest."""
    scene, layout = canvas.scene, canvas.layout
    rng = canvas.rng("trees")
    share = _conifer_share(canvas, rng)
    ground = canvas.height - layout.horizon
    trees: list[_Tree] = []
    if "forest" in scene.features:
        rows = 6
        for index in range(rows):
            depth = (index + 1) / rows
            base = layout.horizon + ground * (0.04 + 0.98 * depth**1.6)
            height = canvas.height * (0.1 + 0.62 * depth**1.4)
            trees += _row_of_trees(canvas, rng, base, height, density=1.15, haze=0.4 * (1.0 - depth) ** 1.5, conifer_share=share)
    else:
        count = int(rng.integers(3, 8)) if "trees" in scene.features else int(rng.integers(0, 4))
        for _ in range(count):
            depth = float(rng.uniform(0.15, 0.9))
            x = float(rng.uniform(0.0, 1.0)) * canvas.width
            base = layout.horizon + ground * depth
            height = canvas.height * (0.08 + 0.4 * depth)
            if _in_water(canvas, x, base, height * 0.2):
                continue
            conifer = bool(rng.random() < share)
            colour, highlight, trunk = _tree_colours(canvas, rng, conifer, 0.3 * (1.0 - depth))
            trees.append(_Tree(x, base, height, conifer, colour, highlight, trunk))
        trees.sort(key=lambda tree: tree.base)
    _draw_trees(canvas, trees, rng)


def paint_flowers(canvas: Canvas) -> None:
    """Scatter flowers over the land, small and dense far away, larger near the viewer."""
    layout = canvas.layout
    rng = canvas.rng("flowers")
    ground = canvas.height - layout.horizon
    count = min(int(canvas.width * ground / 250), 6000)
    depth = rng.random(count) ** 0.7
    ys = layout.horizon + 2.0 + depth * (ground - 2.0)
    xs = rng.uniform(0.0, canvas.width, count)
    radii = np.maximum(0.6, (0.4 + 4.0 * depth**2) * max(canvas.layout.scale, 0.4))
    choice = rng.integers(0, len(_FLOWERS), count)
    layer = canvas.new_layer()
    draw = ImageDraw.Draw(layer)
    palette = canvas.palette
    for x, y, radius, colour_index in zip(xs, ys, radii, choice):
        if _in_water(canvas, float(x), float(y), 0.0):
            continue
        colour = np.array(_FLOWERS[colour_index], dtype=np.float32) * palette.tint * palette.brightness
        draw.ellipse((x - radius, y - radius * 0.8, x + radius, y + radius * 0.8), fill=_rgba(colour))
    canvas.composite(layer, soften=0.4)
