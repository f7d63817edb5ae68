"""Still frames for the video stages: loading any image as RGB, even sizes, lossless PNG, PSNR.

Video encoders want 8-bit RGB frames with even sides (H.264 yuv420p halves the chroma
planes), while callers pass whatever they have: RGBA logos, palette GIFs, 16-bit greyscale
scans, phone JPEGs with an EXIF rotation. `load_rgb_image` turns all of them into one
well-defined RGB frame and reports every change it made as a warning for the caller.
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings as python_warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from servers.shared.errors import InvalidInputError, MediaDecodeError

__all__ = [
    "BACKGROUND_RGB",
    "MAX_IMAGE_SIDE",
    "MIN_IMAGE_SIDE",
    "LoadedImage",
    "load_rgb_image",
    "pixel_sha256",
    "psnr",
    "save_png",
    "snap_even",
]

logger = logging.getLogger(__name__)

MAX_IMAGE_SIDE = 4096  # Largest side x264 encodes at common levels; also bounds raw frame memory (48 MiB a frame).
MIN_IMAGE_SIDE = 32
BACKGROUND_RGB = (0, 0, 0)  # Transparent pixels are composited onto black, the colour of video letterboxing.


@dataclass
class LoadedImage:
    """An input image as 8-bit RGB with even sides, and the conversions applied to it."""

    image: Image.Image
    source_mode: str
    source_size: tuple[int, int]
    warnings: list[str] = field(default_factory=list)

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.image)


def _check_dimensions(width: int, height: int, what: str) -> None:
    if max(width, height) > MAX_IMAGE_SIDE:
        scale = MAX_IMAGE_SIDE / max(width, height)
        suggestion = f"{max(2, int(width * scale) // 2 * 2)}x{max(2, int(height * scale) // 2 * 2)}"
        raise InvalidInputError(
            f"{what} is {width}x{height} pixels, larger than the {MAX_IMAGE_SIDE} px limit on the long side: "
            f"downscale it, for example to {suggestion} or 1024x768"
        )
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InvalidInputError(
            f"{what} is {width}x{height} pixels, smaller than the {MIN_IMAGE_SIDE} px minimum on the short side: "
            "pass a larger image"
        )


def _to_rgb(image: Image.Image, warnings: list[str]) -> Image.Image:
    """Convert any PIL mode to RGB; transparency is composited onto `BACKGROUND_RGB`."""
    mode = image.mode
    if mode == "RGB":
        return image

    if mode in ("I;16", "I;16B", "I;16L", "I"):
        # PIL's own convert("L") clips 16-bit values above 255 instead of scaling them.
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or values.max() > 255 else 255.0
        grey = np.clip(np.round(values * (255.0 / peak)), 0, 255).astype(np.uint8)
        warnings.append(f"converted {mode} greyscale (16-bit) to 8-bit RGB")
        return Image.fromarray(grey).convert("RGB")

    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND_RGB, 255))
        background.alpha_composite(rgba)
        warnings.append(f"composited the {mode} image's transparency onto black (RGB {BACKGROUND_RGB})")
        return background.convert("RGB")

    if mode in ("L", "1"):
        warnings.append(f"converted greyscale ({mode}) to RGB")
    elif mode == "P":
        warnings.append("converted the palette image to RGB")
    else:
        warnings.append(f"converted {mode} to RGB")
    return image.convert("RGB")


def snap_even(image: Image.Image) -> tuple[Image.Image, str | None]:
    """Crop the last column and/or row of odd-sized images; return the image and a warning."""
    width, height = image.size
    even_width, even_height = width - width % 2, height - height % 2
    if (even_width, even_height) == (width, height):
        return image, None
    cropped = image.crop((0, 0, even_width, even_height))
    warning = (
        f"cropped {width}x{height} to {even_width}x{even_height} (removed the last "
        f"{'column' if width % 2 else ''}{' and ' if width % 2 and height % 2 else ''}{'row' if height % 2 else ''}) "
        "because H.264 yuv420p video needs even width and height"
    )
    return cropped, warning


def load_rgb_image(path: Path, *, what: str = "image") -> LoadedImage:
    """Open `path` as an RGB image with even sides.

    The size is checked from the header before any pixel is decoded, so a huge image is
    rejected without allocating it. EXIF orientation is applied; animated images give
    their first frame.
    """
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise MediaDecodeError(f"{what} {path.name!r} is not a readable image ({error}): pass a PNG, JPEG or WebP file") from error
    except OSError as error:
        raise MediaDecodeError(f"cannot read {what} {path.name!r}: {error}") from error

    with image:
        _check_dimensions(image.width, image.height, f"{what} {path.name!r}")
        source_mode, source_size = image.mode, image.size
        warnings: list[str] = []
        if getattr(image, "n_frames", 1) > 1:
            warnings.append(f"{what} has {image.n_frames} frames; only the first is used")
        try:
            image.load()
            oriented = ImageOps.exif_transpose(image)
        except (OSError, SyntaxError, ValueError) as error:
            raise MediaDecodeError(f"{what} {path.name!r} is damaged and cannot be decoded: {error}") from error
        if oriented.size != image.size:
            warnings.append(f"rotated by its EXIF orientation to {oriented.width}x{oriented.height}")
        rgb = _to_rgb(oriented, warnings)

    rgb, warning = snap_even(rgb)
    if warning:
        warnings.append(warning)
    return LoadedImage(image=rgb, source_mode=source_mode, source_size=source_size, warnings=warnings)


def save_png(frame: np.ndarray | Image.Image, path: Path, *, text: dict[str, str] | None = None) -> None:
    """Save an RGB frame as lossless PNG, with optional text chunks."""
    from PIL import PngImagePlugin

    image = frame if isinstance(frame, Image.Image) else Image.fromarray(np.ascontiguousarray(frame))
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    # compress_level 1: the PNG is written once per segment and read once; size matters less than time.
    image.save(path, format="PNG", pnginfo=info, compress_level=1)


def pixel_sha256(frame: np.ndarray | Image.Image) -> str:
    """Return the SHA-256 of an image's shape and raw RGB bytes, independent of file format."""
    array = np.ascontiguousarray(np.asarray(frame))
    digest = hashlib.sha256(repr(array.shape).encode("ascii"))
    digest.update(array.tobytes())
    return digest.hexdigest()


def psnr(first: Any, second: Any) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 images; `inf` when identical."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare images of shapes {a.shape} and {b.shape}")
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)
