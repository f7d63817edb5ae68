"""Join overlapping soundtrack windows into one seamless soundtrack.

With overlap on, the soundtrack is made while later segments still render: once segment
p+1 is finished, a window covering segments p and p+1 is scored (the first window covers
segment 1 alone). Consecutive windows share one whole segment, and the join crossfades
from one window to the next inside that shared segment, away from its edges. The fade-in
and fade-out every scored clip has at its own edges therefore fall where its weight is
zero, so the joined soundtrack has no dips at segment boundaries, and its length is
exactly the segments' total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

__all__ = ["SoundtrackJoin", "join_windows", "window_segments"]

# Distance kept from each segment edge by a crossfade: longer than the 0.3 s fade-out a
# scored clip may end with, so the crossfade never uses a faded part.
EDGE_MARGIN_SECONDS = 0.4


def window_segments(index: int) -> list[int]:
    """Return the 1-based segment numbers that the soundtrack window ending at segment `index` covers."""
    return [index] if index == 1 else [index - 1, index]


@dataclass(frozen=True)
class SoundtrackJoin:
    """Report of a join: the output, its length, and the crossfades it placed."""

    path: str
    duration: float
    sample_rate: int
    channels: int
    windows: int
    crossfade_seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "duration": round(self.duration, 6),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "windows": self.windows,
            "crossfade_seconds": round(self.crossfade_seconds, 4),
        }


def _read(path: Path) -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return samples, int(rate)


def _crossfade_bounds(index: int, segment_seconds: float, rate: int) -> tuple[int, int]:
    """Return the sample range of the crossfade into window `index` (0-based, at least 1)."""
    margin = min(EDGE_MARGIN_SECONDS, segment_seconds / 4)
    start = round(((index - 1) * segment_seconds + margin) * rate)
    end = round((index * segment_seconds - margin) * rate)
    return start, max(end, start + 1)


def join_windows(windows: list[Path], segment_seconds: float, output: Path) -> SoundtrackJoin:
    """Join the windows (in segment order) into a WAV file of `len(windows) * segment_seconds`.

    `windows[0]` covers segment 1; `windows[p]` for p >= 1 covers segments p and p+1.
    Crossfades are equal-power (cosine and sine gains), because neighbouring windows are
    similar but not identical signals.
    """
    if not windows:
        raise ValueError("no soundtrack windows to join")
    pieces = [_read(path) for path in windows]
    rate = pieces[0][1]
    channels = max(samples.shape[1] for samples, _ in pieces)
    for path, (samples, piece_rate) in zip(windows, pieces):
        if piece_rate != rate:
            raise ValueError(f"soundtrack window {path} has {piece_rate} Hz, but the first window has {rate} Hz")

    total = round(len(windows) * segment_seconds * rate)
    mixed = np.zeros((total, channels), dtype=np.float64)
    for index, (samples, _) in enumerate(pieces):
        if samples.shape[1] < channels:
            samples = np.repeat(samples, channels, axis=1)
        offset = round(max(0, index - 1) * segment_seconds * rate)
        gain = _window_gain(index, len(windows), segment_seconds, rate, total)
        span = min(len(samples), total - offset)
        mixed[offset : offset + span] += samples[:span] * gain[offset : offset + span, None]

    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".partial-{output.name}")
    soundfile.write(str(temporary), np.clip(mixed, -1.0, 1.0).astype(np.float32), rate, subtype="PCM_16", format="WAV")
    temporary.replace(output)

    crossfade_start, crossfade_end = _crossfade_bounds(1, segment_seconds, rate)
    return SoundtrackJoin(
        path=str(output),
        duration=total / rate,
        sample_rate=rate,
        channels=channels,
        windows=len(windows),
        crossfade_seconds=(crossfade_end - crossfade_start) / rate if len(windows) > 1 else 0.0,
    )


def _window_gain(index: int, count: int, segment_seconds: float, rate: int, total: int) -> np.ndarray:
    """Return the gain of window `index` over the whole soundtrack (zero outside the window)."""
    gain = np.zeros(total, dtype=np.float64)
    start = 0 if index == 0 else _crossfade_bounds(index, segment_seconds, rate)[0]
    end = total if index == count - 1 else _crossfade_bounds(index + 1, segment_seconds, rate)[1]
    gain[start:end] = 1.0

    if index > 0:
        fade_start, fade_end = _crossfade_bounds(index, segment_seconds, rate)
        phase = np.linspace(0.0, math.pi / 2, fade_end - fade_start, endpoint=False)
        gain[fade_start:fade_end] = np.sin(phase)
    if index < count - 1:
        fade_start, fade_end = _crossfade_bounds(index + 1, segment_seconds, rate)
        phase = np.linspace(0.0, math.pi / 2, fade_end - fade_start, endpoint=False)
        gain[fade_start:fade_end] = np.cos(phase)
    return gain
