"""Composition planning: horizon, sun, water lines and the stream's path, chosen from the seed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from servers.text2image.procedural.noise import fbm1d, layer_rng
from servers.text2image.procedural.scene import Scene

__all__ = ["Layout", "plan_layout"]


@dataclass(frozen=True)
class Layout:
    """Pixel positions of the composition; rows grow downwards."""

    width: int
    height: int
    scale: float
    horizon: float
    sun_x: float
    sun_y: float
    sun_radius: float
    water_line: float | None
    lake_shore: np.ndarray | None
    sea_shore: np.ndarray | None
    stream_center: np.ndarray | None
    stream_half_width: np.ndarray | None

    def stream_mask(self) -> np.ndarray | None:
        """Return the stream's coverage (H, W) in [0, 1], or None without a stream."""
        if self.stream_center is None or self.stream_half_width is None:
            return None
        xs = np.arange(self.width, dtype=np.float32)[None, :]
        distance = np.abs(xs - self.stream_center[:, None]) - self.stream_half_width[:, None]
        return np.clip(0.5 - distance, 0.0, 1.0)


def _horizon_fraction(scene: Scene, rng: np.random.Generator) -> float:
    if scene.has("mountains", "city") and not scene.has("forest", "sea", "lake", "waterfall", "stream", "river"):
        low, high = 0.7, 0.78
    elif scene.has("mountains", "city") and not scene.has("forest"):
        low, high = 0.58, 0.66
    elif scene.has("sea", "lake"):
        low, high = 0.46, 0.55
    elif scene.has("forest"):
        low, high = 0.44, 0.5
    else:
        low, high = 0.52, 0.62
    return float(rng.uniform(low, high))


def _sun_position(scene: Scene, width: int, height: int, horizon: float, rng: np.random.Generator) -> tuple[float, float]:
    sun_x = float(rng.uniform(0.25, 0.75)) * width
    if scene.time in ("sunset", "dawn"):
        sun_y = horizon - float(rng.uniform(0.22, 0.32)) * horizon
    else:
        sun_y = float(rng.uniform(0.12, 0.3)) * horizon
    return sun_x, sun_y


def _stream_path(
    scene: Scene, width: int, height: int, top: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Centre x and half width per row of a stream that winds from `top` to the bottom edge."""
    rows = np.arange(height, dtype=np.float32)
    depth = np.clip((rows - top) / max(height - top, 1.0), 0.0, 1.0)
    start = float(rng.uniform(0.38, 0.62)) * width
    end = float(rng.uniform(0.35, 0.65)) * width
    bends = float(rng.uniform(0.8, 1.6))
    phase = float(rng.uniform(0.0, 2.0 * math.pi))
    sway = float(rng.uniform(0.1, 0.2)) * width
    center = start + (end - start) * depth + sway * np.sin(2.0 * math.pi * bends * depth + phase) * depth
    center = center + fbm1d(rng, height, max(height / 6.0, 2.0), octaves=3) * 0.015 * width * depth
    widest = 0.2 if "river" in scene.features else 0.12
    half_width = width * (0.002 + widest * depth**1.25) * (0.75 + 0.25 * min(width / height, 2.0) / 2.0)
    half_width = np.where(rows < top, -1.0, half_width).astype(np.float32)
    return center.astype(np.float32), half_width


def plan_layout(scene: Scene, width: int, height: int, seed: int) -> Layout:
    """Place the scene's horizon, sun, lake, sea and stream for this seed."""
    rng = layer_rng(seed, "layout")
    horizon = _horizon_fraction(scene, rng) * height
    sun_x, sun_y = _sun_position(scene, width, height, horizon, rng)
    sun_radius = max(2.0, 0.045 * min(width, height) * float(rng.uniform(0.85, 1.15)))

    water_line = lake_shore = sea_shore = None
    if "sea" in scene.features:
        water_line = horizon
        if "beach" in scene.features:
            shore_base = float(rng.uniform(0.74, 0.82)) * height
            sea_shore = shore_base + fbm1d(rng, width, max(width / 3.0, 2.0), octaves=3) * 0.04 * height
    elif scene.has("lake", "waterfall"):
        water_line = horizon + 0.012 * height
        shore_base = float(rng.uniform(0.8, 0.88)) * height
        lake_shore = shore_base + fbm1d(rng, width, max(width / 3.0, 2.0), octaves=3) * 0.04 * height

    stream_center = stream_half_width = None
    if scene.has("stream", "river") and "sea" not in scene.features:
        top = float(lake_shore.max()) if lake_shore is not None else horizon
        stream_center, stream_half_width = _stream_path(scene, width, height, top, rng)

    return Layout(
        width=width,
        height=height,
        scale=math.sqrt(width * height) / 1000.0,
        horizon=horizon,
        sun_x=sun_x,
        sun_y=sun_y,
        sun_radius=sun_radius,
        water_line=water_line,
        lake_shore=None if lake_shore is None else lake_shore.astype(np.float32),
        sea_shore=None if sea_shore is None else sea_shore.astype(np.float32),
        stream_center=stream_center,
        stream_half_width=stream_half_width,
    )
