"""Colour-statistics matching that keeps long segment chains from drifting.

Each new segment starts from the previous segment's last frame. Small shifts in colour or
contrast add up over 20 segments, so with `auto_enhance` the start frame of every segment
after the first is pulled toward the first keyframe's statistics: per-channel mean and
standard deviation in CIELAB (Reinhard-style transfer). The pull per boundary is capped,
so consecutive frames across a boundary stay near-identical while drift cannot build up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["ColourMatch", "ColourStatistics", "colour_statistics", "match_colour", "rgb_to_lab", "lab_to_rgb"]

# Largest change per boundary: mean in Lab units (1 unit of L is 1% of lightness, about
# 2.5 of 255 grey levels) and standard-deviation scale. The caps keep a corrected boundary
# within the frame-to-frame change of gentle camera motion. Over 20 segments they still
# allow 11 units of lightness and 27% of contrast to be undone.
MAX_MEAN_STEP = (0.6, 0.6, 0.6)
MAX_STD_STEP = 0.015
# Differences below these are left alone, so a chain that does not drift is not touched.
MEAN_TOLERANCE = 0.25
STD_TOLERANCE = 0.005
_STATISTICS_PIXELS = 65_536

_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert uint8 sRGB of shape (..., 3) to CIELAB (D65) as float64."""
    srgb = rgb.astype(np.float64) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Convert CIELAB (D65) of shape (..., 3) back to uint8 sRGB, clipping out-of-gamut values."""
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _D65
    linear = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class ColourStatistics:
    """Per-channel mean and standard deviation of an image in CIELAB (L, a, b)."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": [round(value, 3) for value in self.mean], "std": [round(value, 3) for value in self.std]}


def _load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def colour_statistics(source: Path | np.ndarray) -> ColourStatistics:
    """Return the Lab statistics of an image file or uint8 RGB array, from a pixel subsample."""
    rgb = _load_rgb(source) if isinstance(source, Path) else source
    pixels = rgb.reshape(-1, 3)
    stride = max(1, len(pixels) // _STATISTICS_PIXELS)
    lab = rgb_to_lab(pixels[::stride])
    mean = lab.mean(axis=0)
    std = np.maximum(lab.std(axis=0), 1e-6)
    return ColourStatistics(mean=tuple(float(v) for v in mean), std=tuple(float(v) for v in std))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ColourMatch:
    """Report of matching one start frame: the shift applied and the difference left."""

    applied: bool
    source_path: str
    output_path: str
    mean_shift: tuple[float, float, float]
    std_scale: tuple[float, float, float]
    difference_before: tuple[float, float, float]
    difference_after: tuple[float, float, float]

    def to_dict(self) -> dict[str, object]:
        record = asdict(self)
        for key in ("mean_shift", "std_scale", "difference_before", "difference_after"):
            record[key] = [round(value, 4) for value in record[key]]
        return record


def _capped_targets(current: ColourStatistics, reference: ColourStatistics) -> tuple[np.ndarray, np.ndarray]:
    """Return target mean and std: toward `reference`, at most one capped step from `current`."""
    mean_now = np.array(current.mean)
    std_now = np.array(current.std)
    mean_step = np.clip(np.array(reference.mean) - mean_now, -np.array(MAX_MEAN_STEP), np.array(MAX_MEAN_STEP))
    scale = np.clip(np.array(reference.std) / std_now, 1 - MAX_STD_STEP, 1 + MAX_STD_STEP)
    mean_step[np.abs(np.array(reference.mean) - mean_now) < MEAN_TOLERANCE] = 0.0
    scale[np.abs(scale - 1) < STD_TOLERANCE] = 1.0
    return mean_now + mean_step, std_now * scale


def match_colour(source: Path, reference: ColourStatistics, output: Path) -> ColourMatch:
    """Pull the colour statistics of the PNG `source` one capped step toward `reference`.

    Writes the result to `output` as PNG (lossless) when anything changes; when the
    frame is already within tolerance, nothing is written and `output_path` is `source`.
    """
    rgb = _load_rgb(source)
    current = colour_statistics(rgb)
    target_mean, target_std = _capped_targets(current, reference)
    difference_before = tuple(float(v) for v in np.array(reference.mean) - np.array(current.mean))

    mean_shift = target_mean - np.array(current.mean)
    std_scale = target_std / np.array(current.std)
    if not np.any(mean_shift) and np.all(std_scale == 1.0):
        return ColourMatch(
            applied=False,
            source_path=str(source),
            output_path=str(source),
            mean_shift=(0.0, 0.0, 0.0),
            std_scale=(1.0, 1.0, 1.0),
            difference_before=difference_before,  # type: ignore[arg-type]
            difference_after=difference_before,  # type: ignore[arg-type]
        )

    lab = rgb_to_lab(rgb)
    matched = (lab - np.array(current.mean)) * std_scale + target_mean
    matched_rgb = lab_to_rgb(matched)

    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".partial-{output.name}")
    Image.fromarray(matched_rgb).save(temporary, format="PNG")
    temporary.replace(output)

    after = colour_statistics(matched_rgb)
    return ColourMatch(
        applied=True,
        source_path=str(source),
        output_path=str(output),
        mean_shift=tuple(float(v) for v in mean_shift),  # type: ignore[arg-type]
        std_scale=tuple(float(v) for v in std_scale),  # type: ignore[arg-type]
        difference_before=difference_before,  # type: ignore[arg-type]
        difference_after=tuple(float(v) for v in np.array(reference.mean) - np.array(after.mean)),  # type: ignore[arg-type]
    )
