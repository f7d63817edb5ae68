"""Output formats and quality presets: which encoder arguments each (format, quality) pair uses.

Every preset produces a file that common players open: H.264 in yuv420p with even
dimensions and the index at the front (faststart) for mp4 and mov, VP9 in yuv420p with
Opus at 48 kHz for webm, and a GIF built with its own palette.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AUDIO_SAMPLE_RATE",
    "FORMATS",
    "OutputFormat",
    "QUALITIES",
    "Quality",
    "STREAM_COPY_CODECS",
    "VideoPreset",
    "audio_encoder_arguments",
    "gif_filter",
    "media_type",
    "video_encoder_arguments",
    "video_preset",
]

OutputFormat = Literal["mp4", "webm", "mov", "gif"]
Quality = Literal["low", "medium", "high", "lossless"]
FORMATS: tuple[OutputFormat, ...] = ("mp4", "webm", "mov", "gif")
QUALITIES: tuple[Quality, ...] = ("low", "medium", "high", "lossless")

# Every output track is resampled to this rate: Opus only encodes 48 kHz, and one rate for
# all formats keeps the audio-length arithmetic the same everywhere.
AUDIO_SAMPLE_RATE = 48_000

# Video codecs that each container takes by stream copy without breaking common players.
STREAM_COPY_CODECS: dict[str, frozenset[str]] = {
    "mp4": frozenset({"h264"}),
    "mov": frozenset({"h264"}),
    "webm": frozenset({"vp9", "vp8", "av1"}),
    "gif": frozenset(),
}

_MEDIA_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime", "gif": "image/gif"}


@dataclass(frozen=True)
class VideoPreset:
    """Encoder settings of one quality level: x264 CRF/preset, VP9 CRF/speed, GIF fps/colours."""

    x264_crf: int
    x264_preset: str
    vp9_crf: int
    vp9_cpu_used: int
    audio_bitrate: str
    opus_bitrate: str
    gif_max_fps: float
    gif_colors: int
    gif_dither: str


_PRESETS: dict[str, VideoPreset] = {
    "low": VideoPreset(28, "veryfast", 40, 8, "96k", "64k", 10, 64, "bayer:bayer_scale=3"),
    "medium": VideoPreset(23, "medium", 32, 5, "128k", "96k", 15, 128, "sierra2_4a"),
    "high": VideoPreset(18, "slow", 24, 3, "192k", "128k", 30, 256, "sierra2_4a"),
    # x264 qp 0 and VP9 -lossless 1 are mathematically lossless in yuv420p. The x264
    # stream then uses the High 4:4:4 Predictive profile, which some hardware decoders reject.
    "lossless": VideoPreset(0, "veryfast", 0, 4, "256k", "256k", 50, 256, "none"),
}


def video_preset(quality: str) -> VideoPreset:
    return _PRESETS[quality]


def media_type(output_format: str) -> str:
    """Return the MIME type of an output format."""
    return _MEDIA_TYPES[output_format]


def video_encoder_arguments(output_format: str, quality: str) -> list[str]:
    """Return ffmpeg output arguments that encode the video stream (not used for gif)."""
    preset = _PRESETS[quality]
    if output_format in ("mp4", "mov"):
        rate = ["-qp", "0"] if quality == "lossless" else ["-crf", str(preset.x264_crf)]
        return ["-c:v", "libx264", "-preset", preset.x264_preset, *rate, "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    if output_format == "webm":
        rate = ["-lossless", "1"] if quality == "lossless" else ["-crf", str(preset.vp9_crf), "-b:v", "0"]
        return [
            "-c:v", "libvpx-vp9", *rate, "-deadline", "good", "-cpu-used", str(preset.vp9_cpu_used),
            "-row-mt", "1", "-pix_fmt", "yuv420p",
        ]  # fmt: skip
    raise ValueError(f"no video encoder arguments for output format {output_format!r}")


def audio_encoder_arguments(output_format: str, quality: str) -> list[str]:
    """Return ffmpeg output arguments that encode the audio stream of `output_format`."""
    preset = _PRESETS[quality]
    rate = ["-ar", str(AUDIO_SAMPLE_RATE)]
    if output_format == "mp4":
        return ["-c:a", "aac", "-b:a", preset.audio_bitrate, *rate]
    if output_format == "mov":
        if quality == "lossless":
            return ["-c:a", "pcm_s16le", *rate]
        return ["-c:a", "aac", "-b:a", preset.audio_bitrate, *rate]
    if output_format == "webm":
        return ["-c:a", "libopus", "-b:a", preset.opus_bitrate, *rate]
    raise ValueError(f"output format {output_format!r} has no audio track")


def gif_filter(source: str, quality: str, fps: float, output: str) -> str:
    """Return a filter graph that turns `source` into paletted GIF frames labelled `output`.

    One palette is computed over the whole clip (per frame for `lossless`), then applied
    with the preset's dithering. The frame rate is capped by the preset.
    """
    preset = _PRESETS[quality]
    gif_fps = min(fps, preset.gif_max_fps)
    stats_mode = "single" if quality == "lossless" else "diff"
    new_palette = ":new=1" if quality == "lossless" else ""
    return (
        f"[{source}]fps={gif_fps:g},split[gif_a][gif_b];"
        f"[gif_a]palettegen=max_colors={preset.gif_colors}:stats_mode={stats_mode}[gif_palette];"
        f"[gif_b][gif_palette]paletteuse=dither={preset.gif_dither}{new_palette}[{output}]"
    )
