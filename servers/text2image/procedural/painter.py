"""Run the painting stages for a scene in order, reporting progress after each one."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from PIL import Image

from servers.shared.worker import Progress
from servers.text2image.procedural import city, sky, terrain, vegetation, water, weather
from servers.text2image.procedural.canvas import Canvas
from servers.text2image.procedural.layout import plan_layout
from servers.text2image.procedural.palette import palette_for
from servers.text2image.procedural.scene import Scene
from servers.text2image.procedural.styles import apply_style

__all__ = ["plan_stages", "paint_scene", "Stage"]

logger = logging.getLogger(__name__)

Stage = tuple[str, Callable[[Canvas], None]]


def _has_open_land(scene: Scene) -> bool:
    """Tell whether nothing but hills would stand on the horizon."""
    return scene.has("hills", "desert") or not scene.has("mountains", "sea", "city", "forest")


def plan_stages(scene: Scene) -> list[Stage]:
    """Return the (label, layer function) pairs that paint `scene`, back to front."""
    stages: list[Stage] = [("sky", sky.paint_sky), ("sun, moon and stars", sky.paint_celestial), ("clouds", sky.paint_clouds)]
    if "aurora" in scene.sky:
        stages.append(("aurora", sky.paint_aurora))

    if "mountains" in scene.features:
        stages.append(("mountains", terrain.paint_mountains))
    if _has_open_land(scene):
        stages.append(("dunes" if "desert" in scene.features else "hills", terrain.paint_hills))
    if "city" in scene.features:
        stages.append(("city", city.paint_city))

    stages.append(("ground", terrain.paint_ground))
    far_shore = scene.has("lake", "waterfall", "river") and not scene.has("desert", "city", "sea")
    if "forest" in scene.features or far_shore:
        stages.append(("tree line", vegetation.paint_tree_line))
    if "sea" in scene.features:
        stages.append(("sea", water.paint_sea))
    elif scene.has("lake", "waterfall"):
        stages.append(("lake", water.paint_lake))
    if scene.has("stream", "river") and "sea" not in scene.features:
        stages.append(("river" if "river" in scene.features else "stream", water.paint_stream))
    if "waterfall" in scene.features:
        stages.append(("waterfall", water.paint_waterfall))

    if not scene.has("desert", "city") and (scene.has("forest", "trees", "meadow", "hills") or _has_open_land(scene)):
        stages.append(("trees", vegetation.paint_trees))
    if "flowers" in scene.features:
        stages.append(("flowers", vegetation.paint_flowers))

    # Line-drawing styles trace the edges of soft beams as stray lines, so they get none.
    clear_daylight = scene.time != "night" and "rain" not in scene.weather
    if clear_daylight and scene.has("forest", "fog") and scene.style not in ("ink", "sketch", "cartoon"):
        stages.append(("sunbeams", weather.paint_sunbeams))
    if "rainbow" in scene.sky:
        stages.append(("rainbow", weather.paint_rainbow))
    if "fog" in scene.weather:
        stages.append(("fog", weather.paint_fog))
    if "rain" in scene.weather:
        stages.append(("rain", weather.paint_rain))
    if "snowfall" in scene.weather:
        stages.append(("snowfall", weather.paint_snowfall))

    stages.append(("light", weather.grade_light))
    stages.append((f"{scene.style} style" if scene.style else "finish", apply_style))
    return stages


def paint_scene(scene: Scene, width: int, height: int, seed: int, progress: Progress) -> Image.Image:
    """Paint `scene` as a `width` x `height` RGB image; `progress` is called after every stage.

    `progress` raises `GenerationCancelledError` once the request is cancelled, which stops
    the painting between two stages.
    """
    canvas = Canvas(
        pixels=np.zeros((height, width, 3), dtype=np.float32),
        scene=scene,
        palette=palette_for(scene),
        layout=plan_layout(scene, width, height, seed),
        seed=seed,
    )
    stages = plan_stages(scene)
    progress(0, len(stages), "planning the scene")
    for done, (label, paint) in enumerate(stages, start=1):
        paint(canvas)
        progress(done, len(stages), f"painted {label}")
    pixels = (np.clip(canvas.pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(pixels)
