"""Segment edges: what `transition_type` does to the first and last frames of a segment.

`none` leaves every frame as the engine rendered it. `fade` fades in from black at the
start of a chain (a segment whose start image is not a previous segment's next frame)
and fades out to black at the end of the segment marked `last_segment`. A segment in the
middle of a chain is never faded, because a fade there would show as a dip to black at
every boundary. The next frame returned for chaining is never faded.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from servers.image2video.engines import FrameWriter
from servers.shared.media import YuvFrame

__all__ = ["FADE_SECONDS", "TRANSITION_TYPES", "TransitionType", "FadeWriter", "fade_frame_count"]

TransitionType = Literal["fade", "none"]
TRANSITION_TYPES: tuple[str, ...] = ("fade", "none")
FADE_SECONDS = 0.5


def fade_frame_count(frame_count: int, fps: float) -> int:
    """Frames a fade spans: half a second, at most a quarter of the segment, at least one."""
    return max(1, round(min(FADE_SECONDS * fps, frame_count / 4)))


class FadeWriter:
    """Wraps a frame writer and scales the first and/or last frames towards black.

    With a fade in over `m` frames, frame `i < m` is scaled by `i / m`, so the first frame
    is black. With a fade out, frame `i` is scaled by `(n - i) / m`, so the frame after the
    segment would be black and the last frame is at `1 / m`.
    """

    def __init__(
        self,
        write: FrameWriter,
        *,
        frame_count: int,
        fade_frames: int,
        fade_in: bool,
        fade_out: bool,
        pixel_format: str = "rgb24",
    ) -> None:
        self._write = write
        self.pixel_format = pixel_format
        self._frame_count = frame_count
        self._fade_frames = fade_frames
        self._fade_in = fade_in
        self._fade_out = fade_out
        self.frames_written = 0

    def gain(self, index: int) -> float:
        gain = 1.0
        if self._fade_in:
            gain = min(gain, index / self._fade_frames)
        if self._fade_out:
            gain = min(gain, (self._frame_count - index) / self._fade_frames)
        return max(gain, 0.0)

    def __call__(self, frame: np.ndarray | YuvFrame) -> None:
        gain = self.gain(self.frames_written)
        if gain < 1.0 and isinstance(frame, YuvFrame):
            # Black in limited-range yuv is luma 16 with neutral chroma 128.
            frame = YuvFrame(
                y=_scale_towards(frame.y, 16.0, gain),
                u=_scale_towards(frame.u, 128.0, gain),
                v=_scale_towards(frame.v, 128.0, gain),
            )
        elif gain < 1.0:
            frame = _scale_towards(frame, 0.0, gain)
        self._write(frame)
        self.frames_written += 1


def _scale_towards(plane: np.ndarray, black: float, gain: float) -> np.ndarray:
    return ((plane.astype(np.float32) - black) * gain + black + 0.5).astype(np.uint8)
