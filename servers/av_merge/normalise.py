"""Bring segments that differ in size, pixel format or frame rate onto one canvas and clock.

The canvas is the first segment's size as shown (after its rotation), rounded up to even
sides because yuv420p needs them. Every other segment is scaled to fit inside it with its
aspect ratio kept and padded with black (letterbox or pillarbox). Every segment is
resampled to the first segment's frame rate and cut or extended to an exact frame count,
so the joined length is known before ffmpeg runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from servers.shared.media import MediaInfo
from servers.shared.mp4_boxes import quarter_turns

__all__ = ["Canvas", "canvas_for", "normalise_filter", "segment_frame_count"]

# Largest frame-rate denominator kept, so that 29.97 fps stays 30000/1001.
_MAX_RATE_DENOMINATOR = 1001


@dataclass(frozen=True)
class Canvas:
    """Frame size and rate that every segment is normalised to."""

    width: int
    height: int
    fps: Fraction

    @property
    def fps_text(self) -> str:
        return f"{self.fps.numerator}/{self.fps.denominator}"


def canvas_for(first: MediaInfo) -> Canvas:
    """Return the canvas of a join: the first segment's size as shown (even) and its frame rate.

    ffmpeg turns decoded frames upright by their display matrix, so a quarter turn swaps
    the stored width and height.
    """
    assert first.width, "probe found no frame width"
    assert first.height, "probe found no frame height"
    assert first.fps, "probe found no frame rate"
    width, height = first.width, first.height
    if quarter_turns(first.display_matrix) % 2:
        width, height = height, width
    width += width % 2
    height += height % 2
    return Canvas(width=width, height=height, fps=Fraction(first.fps).limit_denominator(_MAX_RATE_DENOMINATOR))


def segment_frame_count(info: MediaInfo, canvas: Canvas) -> int:
    """Return how many frames a segment has once resampled to the canvas rate (at least one)."""
    return max(1, round(info.duration * canvas.fps))


def normalise_filter(source: str, canvas: Canvas, frame_count: int, output: str) -> str:
    """Return a filter chain that maps stream `source` onto `canvas` with exactly `frame_count` frames.

    `tpad` repeats the last frame twice before `trim`, which covers the one frame that
    rounding in the `fps` filter can lose. Timestamps are rewritten to exact multiples of
    the frame duration, which `xfade` and `concat` need.
    """
    width, height = canvas.width, canvas.height
    return (
        f"[{source}]setpts=PTS-STARTPTS,"
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
        f"fps={canvas.fps_text},tpad=stop=2:stop_mode=clone,trim=end_frame={frame_count},"
        f"settb=AVTB,setpts=N/FRAME_RATE/TB[{output}]"
    )
