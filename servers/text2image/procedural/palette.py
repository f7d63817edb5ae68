"""Colours of the light: one palette per time of day, dimmed and greyed by rain or fog."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from servers.text2image.procedural.scene import Scene

__all__ = ["Palette", "palette_for"]


def _rgb(r: float, g: float, b: float) -> np.ndarray:
    return np.array([r, g, b], dtype=np.float32)


@dataclass(frozen=True)
class Palette:
    """Linear RGB colours in [0, 1] for one lighting situation."""

    sky_top: np.ndarray
    sky_middle: np.ndarray
    sky_horizon: np.ndarray
    sun: np.ndarray
    cloud_lit: np.ndarray
    cloud_shadow: np.ndarray
    haze: np.ndarray
    rock: np.ndarray
    water: np.ndarray
    tint: np.ndarray
    brightness: float


_PALETTES = {
    "day": Palette(
        sky_top=_rgb(0.16, 0.38, 0.78), sky_middle=_rgb(0.38, 0.62, 0.92), sky_horizon=_rgb(0.78, 0.88, 0.97),
        sun=_rgb(1.0, 0.98, 0.9), cloud_lit=_rgb(1.0, 1.0, 1.0), cloud_shadow=_rgb(0.68, 0.74, 0.84),
        haze=_rgb(0.72, 0.82, 0.93), rock=_rgb(0.36, 0.42, 0.5), water=_rgb(0.1, 0.33, 0.52),
        tint=_rgb(1.0, 1.0, 1.0), brightness=1.0,
    ),
    "sunset": Palette(
        sky_top=_rgb(0.5, 0.2, 0.3), sky_middle=_rgb(0.94, 0.42, 0.2), sky_horizon=_rgb(1.0, 0.76, 0.38),
        sun=_rgb(1.0, 0.93, 0.65), cloud_lit=_rgb(1.0, 0.6, 0.38), cloud_shadow=_rgb(0.45, 0.22, 0.32),
        haze=_rgb(0.93, 0.52, 0.36), rock=_rgb(0.24, 0.12, 0.18), water=_rgb(0.22, 0.14, 0.22),
        tint=_rgb(1.06, 0.88, 0.76), brightness=0.62,
    ),
    "dawn": Palette(
        sky_top=_rgb(0.3, 0.42, 0.7), sky_middle=_rgb(0.9, 0.62, 0.64), sky_horizon=_rgb(1.0, 0.86, 0.62),
        sun=_rgb(1.0, 0.95, 0.8), cloud_lit=_rgb(1.0, 0.78, 0.72), cloud_shadow=_rgb(0.5, 0.46, 0.62),
        haze=_rgb(0.9, 0.74, 0.74), rock=_rgb(0.3, 0.28, 0.38), water=_rgb(0.2, 0.26, 0.42),
        tint=_rgb(1.02, 0.94, 0.94), brightness=0.8,
    ),
    "night": Palette(
        sky_top=_rgb(0.01, 0.02, 0.07), sky_middle=_rgb(0.03, 0.06, 0.16), sky_horizon=_rgb(0.09, 0.13, 0.26),
        sun=_rgb(0.95, 0.95, 0.86), cloud_lit=_rgb(0.3, 0.33, 0.45), cloud_shadow=_rgb(0.06, 0.07, 0.13),
        haze=_rgb(0.1, 0.14, 0.26), rock=_rgb(0.07, 0.08, 0.14), water=_rgb(0.03, 0.06, 0.14),
        tint=_rgb(0.55, 0.62, 0.88), brightness=0.55,
    ),
}

_OVERCAST = _rgb(0.62, 0.64, 0.68)


def palette_for(scene: Scene) -> Palette:
    """Return the palette for the scene's time of day, greyed when it rains or is foggy."""
    palette = _PALETTES[scene.time]
    if "rain" in scene.weather:
        grey = 0.55
    elif "fog" in scene.weather:
        grey = 0.3
    else:
        return palette
        return palette
    overcast = _OVERCAST * (palette.brightness**1.5)

    def mix(colour: np.ndarray) -> np.ndarray:
        return (colour * (1.0 - grey) + overcast * grey).astype(np.float32)

    return replace(
        palette,
        sky_top=mix(palette.sky_top), sky_middle=mix(palette.sky_middle), sky_horizon=mix(palette.sky_horizon),
        cloud_lit=mix(palette.cloud_lit), haze=mix(palette.haze), tint=mix(palette.tint),
    )
