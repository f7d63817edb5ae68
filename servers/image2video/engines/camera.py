"""The motion engine's camera: a smooth, bounded zoom-and-pan path over a still image.

A pose is `(u, ax, ay)`: `u = ln(zoom)` (zoom >= 1), and `ax`, `ay` in -1..1 place the view
inside the horizontal and vertical margin that the zoom leaves. Every pose therefore
shows only pixels of the image, never a border, whatever the path does.

The path is a function of chain time `t` (seconds since the chain's first frame) made of
sines, so it is smooth everywhere. At `t = 0` it is at rest on the whole image, which
gives a chain an eased start. A later segment evaluates the same path from the time
where the previous segment stopped, so position and velocity carry over exactly. When a
segment's seed or motion scale differs from the previous path, the two paths are blended
with a smoothstep weight whose slope is zero at both segment edges, so the velocity is
still continuous there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CameraPath", "SegmentMotion", "view_box"]

ZOOM_PER_MOTION_SCALE = 0.1  # Peak ln(zoom) per unit of motion_scale: 1.5 gives a peak zoom of 1.16x.


@dataclass(frozen=True)
class CameraPath:
    """A camera path chosen by `seed`; `motion_scale` sets how far it zooms and pans."""

    seed: int
    motion_scale: float

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        # Periods of a few times the 4 s segment length: motion reads as a slow camera move.
        object.__setattr__(self, "_zoom_period", float(rng.uniform(14.0, 22.0)))
        object.__setattr__(self, "_pan_periods", rng.uniform((10.0, 12.0), (20.0, 24.0)))
        amplitudes = rng.uniform((0.5, 0.3), (1.0, 0.8)) * rng.choice((-1.0, 1.0), size=2)
        object.__setattr__(self, "_pan_amplitudes", amplitudes)

    def pose(self, t: float) -> np.ndarray:
        """Return `(u, ax, ay)` at chain time `t` seconds."""
        peak = ZOOM_PER_MOTION_SCALE * self.motion_scale
        u = peak * (1.0 - math.cos(2.0 * math.pi * t / self._zoom_period)) / 2.0  # type: ignore[attr-defined]
        pan = self._pan_amplitudes * np.sin(2.0 * math.pi * t / self._pan_periods)  # type: ignore[attr-defined]
        return np.array([u, pan[0], pan[1]])

    def to_dict(self) -> dict[str, float | int]:
        return {"seed": self.seed, "motion_scale": self.motion_scale}


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True, kw_only=True)
class SegmentMotion:
    """The camera over one segment of `duration` seconds starting at chain time `start_time`.

    `previous` is the path the chain followed before this segment (None at a chain start
    or when it equals `current`). With `ease_out` the camera decelerates to rest at the
    segment's end, for the last segment of a video.
    """

    start_time: float
    duration: float
    current: CameraPath
    previous: CameraPath | None = None
    ease_out: bool = False

    def camera_time(self, offset: float) -> float:
        """Chain time reached `offset` seconds into the segment."""
        if self.ease_out:
            # s(x) = x - x^2 / 2D has slope 1 at the start and 0 at the end: a smooth stop.
            offset = offset - offset * offset / (2.0 * self.duration)
        return self.start_time + offset

    @property
    def end_time(self) -> float:
        """Chain time of the frame that follows the segment."""
        return self.camera_time(self.duration)

    def pose(self, offset: float) -> np.ndarray:
        """Return the pose `offset` seconds into the segment."""
        t = self.camera_time(offset)
        pose = self.current.pose(t)
        if self.previous is None or self.previous == self.current:
            return pose
        weight = _smoothstep(offset / self.duration)
        return (1.0 - weight) * self.previous.pose(t) + weight * pose


def view_box(pose: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """Return the source rectangle `(left, top, right, bottom)` in pixels that `pose` shows."""
    u, ax, ay = (float(value) for value in pose)
    zoom = math.exp(max(u, 0.0))
    half_width, half_height = width / (2.0 * zoom), height / (2.0 * zoom)
    center_x = width / 2.0 + min(max(ax, -1.0), 1.0) * (width / 2.0 - half_width)
    center_y = height / 2.0 + min(max(ay, -1.0), 1.0) * (height / 2.0 - half_height)
    return (center_x - half_width, center_y - half_height, center_x + half_width, center_y + half_height)
