"""Final shaping shared by every engine: exact length, loudness, peak limit, fades, volume.

At `volume` 1 the soundtrack's RMS level is `TARGET_RMS_DBFS`; a smaller volume scales
the samples linearly (volume 0.5 is 6 dB quieter). Peaks are limited to
`PEAK_CEILING` before the volume is applied, so no volume can clip. Raised-cosine fades
make the first and last samples zero, so the track starts and ends without a click.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import butter, resample_poly, sosfilt

__all__ = [
    "FADE_IN_SECONDS",
    "FADE_OUT_SECONDS",
    "PEAK_CEILING",
    "TARGET_RMS_DBFS",
    "crossfade_join",
    "fit_length",
    "master",
    "resample",
]

TARGET_RMS_DBFS = -18.0
PEAK_CEILING = 0.89  # -1 dBFS, leaving room for the overshoot of lossy encoders
FADE_IN_SECONDS = 0.05
FADE_OUT_SECONDS = 0.3
_LIMITER_WINDOW_SECONDS = 0.01
_LIMITER_RELEASE_SECONDS = 0.05


def fit_length(samples: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad (frames, channels) `samples` to exactly `frames` frames."""
    if samples.shape[0] >= frames:
        return samples[:frames]
    padding = np.zeros((frames - samples.shape[0], samples.shape[1]), dtype=samples.dtype)
    return np.concatenate([samples, padding])


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample (frames, channels) audio with a polyphase filter."""
    if source_rate == target_rate:
        return samples
    from math import gcd

    divisor = gcd(source_rate, target_rate)
    return resample_poly(samples, target_rate // divisor, source_rate // divisor, axis=0).astype(np.float32)


def crossfade_join(parts: list[np.ndarray], overlap_frames: int) -> np.ndarray:
    """Join (frames, channels) parts that overlap by `overlap_frames` with equal-power crossfades."""
    output = parts[0]
    for part in parts[1:]:
        overlap = min(overlap_frames, output.shape[0], part.shape[0])
        if overlap == 0:
            output = np.concatenate([output, part])
            continue
        angle = np.linspace(0, np.pi / 2, overlap, dtype=np.float32)[:, None]
        blended = output[-overlap:] * np.cos(angle) + part[:overlap] * np.sin(angle)
        output = np.concatenate([output[:-overlap], blended, part[overlap:]])
    return output


def _limit(samples: np.ndarray, rate: int, ceiling: float) -> np.ndarray:
    """Reduce gain smoothly wherever a peak exceeds `ceiling`; leaves quieter audio untouched."""
    peaks = np.max(np.abs(samples), axis=1)
    if peaks.max() <= ceiling:
        return samples
    window = max(1, int(_LIMITER_WINDOW_SECONDS * rate))
    held = maximum_filter1d(peaks, size=2 * window + 1)
    gain = np.minimum(1.0, ceiling / np.maximum(held, 1e-9))
    gain = np.minimum(gain, uniform_filter1d(gain, size=max(1, int(_LIMITER_RELEASE_SECONDS * rate))))
    limited = samples * gain[:, None]
    # The smoothing can leave a sample a hair above the ceiling; a final scale removes it.
    peak = float(np.max(np.abs(limited)))
    return limited * (ceiling / peak) if peak > ceiling else limited


def _fades(frames: int, rate: int) -> np.ndarray:
    envelope = np.ones(frames, np.float32)
    fade_in = min(int(FADE_IN_SECONDS * rate), frames // 4)
    fade_out = min(int(FADE_OUT_SECONDS * rate), frames // 4)
    if fade_in > 1:
        envelope[:fade_in] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade_in))
    if fade_out > 1:
        envelope[-fade_out:] = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade_out))
    return envelope


def master(samples: np.ndarray, rate: int, *, frames: int, volume: float, gain_curve: np.ndarray | None = None) -> np.ndarray:
    """Return stereo float32 audio of exactly `frames` frames at the loudness `volume` sets.

    `gain_curve` (one value per frame) shapes the loudness over time before the level
    is normalized, which is how the video's motion drives the soundtrack.
    """
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.shape[1] == 1:
        samples = np.repeat(samples, 2, axis=1)
    samples = fit_length(samples.astype(np.float32), frames)

    sos = butter(2, 20.0, btype="highpass", fs=rate, output="sos")
    samples = sosfilt(sos, samples, axis=0).astype(np.float32)
    if gain_curve is not None:
        samples = samples * gain_curve[:frames, None].astype(np.float32)

    rms = float(np.sqrt(np.mean(samples**2))) if frames else 0.0
    if rms > 1e-9:
        samples = samples * (10 ** (TARGET_RMS_DBFS / 20) / rms)
    samples = _limit(samples, rate, PEAK_CEILING)
    samples = samples * _fades(frames, rate)[:, None]
    return (samples * volume).astype(np.float32)
