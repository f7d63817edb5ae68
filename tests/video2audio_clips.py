"""Synthetic test clips for the video2audio tests, written with the shared `VideoEncoder`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from servers.shared.media import VideoEncoder

__all__ = ["WIDTH", "HEIGHT", "write_clip", "still_then_moving", "moving", "cut_at", "write_manifest"]

WIDTH, HEIGHT = 64, 48
FrameFunction = Callable[[int, float], np.ndarray]


def write_clip(path: Path, frame_at: FrameFunction, *, fps: float, frames: int) -> Path:
    """Encode `frames` frames, calling `frame_at(index, time_seconds)` for each."""
    with VideoEncoder(path, width=WIDTH, height=HEIGHT, fps=fps) as encoder:
        for index in range(frames):
            encoder.write(frame_at(index, index / fps))
    return path


def _texture(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def still_then_moving(still_seconds: float) -> FrameFunction:
    """A fixed texture until `still_seconds`, then a new random texture every frame."""
    base = _texture(0)

    def frame_at(index: int, time: float) -> np.ndarray:
        return base if time < still_seconds else _texture(index + 1)

    return frame_at


def moving(speed_pixels: int = 1) -> FrameFunction:
    """A smooth gradient texture sliding sideways by `speed_pixels` a frame (gentle motion)."""
    x = np.linspace(0, 2 * np.pi, WIDTH)
    y = np.linspace(0, np.pi, HEIGHT)[:, None]
    pattern = ((np.sin(x + y) * 0.5 + 0.5) * 200 + 20).astype(np.uint8)
    image = np.stack([pattern, np.roll(pattern, 9, axis=1), pattern[::-1]], axis=2)

    def frame_at(index: int, time: float) -> np.ndarray:
        return np.roll(image, index * speed_pixels, axis=1)

    return frame_at


def cut_at(cut_seconds: float) -> FrameFunction:
    """A dark blue still before `cut_seconds`, a bright orange still after: one hard cut."""
    before = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    before[..., 2] = 90
    after = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    after[...] = (240, 160, 40)

    def frame_at(index: int, time: float) -> np.ndarray:
        return before if time < cut_seconds else after

    return frame_at


def write_manifest(path: Path, manifest: dict) -> None:
    """Write the provenance sidecar `<path>.json` as the servers do."""
    path.with_name(path.name + ".json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
