"""Fit a soundtrack to a video's exact length and lay it under the video.

An audio track shorter than the video is padded with silence, and a longer one is cut
and faded out over `fade_seconds`. The padded or cut track has exactly
round(video seconds x 48000) samples. AAC encoders add priming samples at the start,
which the mp4 muxer hides with an edit list, so the stored track still ends with the
video to within one audio frame (1024 samples, 21 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from servers.av_merge.export import AUDIO_SAMPLE_RATE, audio_encoder_arguments

__all__ = ["AudioFit", "MIX_MODES", "MUX_AUDIO_QUALITY", "MixMode", "fit_audio_filter", "mix_filter", "mux_arguments"]

MixMode = Literal["replace", "mix"]
MIX_MODES: tuple[MixMode, ...] = ("replace", "mix")

# mux_audio re-encodes only the audio, at the bitrate of the `high` preset (AAC 192k, Opus 128k).
MUX_AUDIO_QUALITY = "high"


@dataclass(frozen=True)
class AudioFit:
    """Lengths of a soundtrack and its video, which decide whether the track is padded, trimmed with a fade, or kept."""

    audio_seconds: float
    video_seconds: float
    fade_seconds: float

    @property
    def samples(self) -> int:
        return round(self.video_seconds * AUDIO_SAMPLE_RATE)

    @property
    def action(self) -> str:
        if self.audio_seconds > self.video_seconds:
            return "trimmed"
        if self.audio_seconds < self.video_seconds:
            return "padded"
        return "kept"

    @property
    def applied_fade_seconds(self) -> float:
        """Fade-out length actually used: only a trimmed track fades, and never longer than the video."""
        if self.action != "trimmed":
            return 0.0
        return min(self.fade_seconds, self.video_seconds)

    def describe(self) -> str:
        difference = abs(self.audio_seconds - self.video_seconds)
        if self.action == "trimmed":
            return f"audio was {difference:.3f} s longer than the video: trimmed with a {self.applied_fade_seconds:g} s fade-out"
        if self.action == "padded":
            return f"audio was {difference:.3f} s shorter than the video: padded with silence"
        return "audio already matched the video length"


def fit_audio_filter(source: str, fit: AudioFit, output: str, *, volume: float = 1.0) -> str:
    """Return a filter chain that resamples `source` and fits it to the video's length."""
    steps = [
        f"[{source}]asetpts=PTS-STARTPTS",
        f"aresample={AUDIO_SAMPLE_RATE}",
        "aformat=channel_layouts=stereo",
        f"apad=whole_len={fit.samples}",
        f"atrim=end_sample={fit.samples}",
    ]
    if volume != 1.0:
        steps.append(f"volume={volume:g}")
    fade = fit.applied_fade_seconds
    if fade > 0:
        steps.append(f"afade=t=out:st={fit.video_seconds - fade:.6f}:d={fade:.6f}")
    return ",".join(steps) + f"[{output}]"


def mix_filter(existing: str, added: str, output: str) -> str:
    """Return a filter that sums two fitted tracks of equal length (no level normalisation)."""
    return f"[{existing}][{added}]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[{output}]"


def mux_arguments(
    video: Path,
    audio: Path,
    *,
    output_format: str,
    fit: AudioFit,
    existing_fit: AudioFit | None,
    volume: float,
) -> list[str]:
    """Return ffmpeg arguments that copy the video stream of `video` and lay `audio` under it.

    With `existing_fit`, the video's own audio track is fitted the same way and mixed with
    the new one; otherwise the new track replaces it.
    """
    graph = [fit_audio_filter("1:a:0", fit, "added", volume=volume)]
    if existing_fit is not None:
        graph.append(fit_audio_filter("0:a:0", existing_fit, "existing"))
        graph.append(mix_filter("existing", "added", "audio"))
        audio_label = "audio"
    else:
        audio_label = "added"

    arguments = ["-i", str(video), "-i", str(audio), "-filter_complex", ";".join(graph)]
    arguments += ["-map", "0:v:0", "-c:v", "copy", "-map", f"[{audio_label}]"]
    arguments += audio_encoder_arguments(output_format, MUX_AUDIO_QUALITY)
    if output_format in ("mp4", "mov"):
        arguments += ["-movflags", "+faststart"]
    return arguments
