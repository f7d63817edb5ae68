"""Result models of the av_merge tools, and the sentence that explains a join's duration."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from servers.av_merge.merge import MergePlan
from servers.av_merge.mux import AudioFit
from servers.shared.artifacts import Artifact
from servers.shared.media import MediaInfo
from servers.shared.results import ArtifactResult

__all__ = ["MergeResult", "MuxResult", "ProbeResult", "describe_duration", "segments_text"]

_ENGINE = "ffmpeg"


def describe_duration(plan: MergePlan) -> str:
    """Explain how the expected duration of `plan` follows from its segments and transition."""
    count = len(plan.segments)
    if plan.method == "stream_copy":
        total = sum(info.duration for info in plan.infos)
        return f"Duration = sum of {segments_text(count)} = {total:.3f} s."
    timeline = plan.timeline
    segment_sum = float(sum(timeline.segment_frames) / timeline.fps)
    if timeline.transition_type == "fade":
        return (
            f"Duration = sum of {segments_text(count)} ({segment_sum:.3f} s) minus {timeline.boundaries} crossfade "
            f"overlaps of {timeline.transition_seconds:.3f} s = {timeline.duration:.3f} s."
        )
    if timeline.transition_type == "fade_black":
        return (
            f"Duration = sum of {segments_text(count)} = {timeline.duration:.3f} s; each fade through black "
            f"({timeline.transition_seconds:.3f} s) lies inside the neighbouring segments."
        )
    return f"Duration = sum of {segments_text(count)} = {timeline.duration:.3f} s."


def _describe_audio(plan: MergePlan) -> str | None:
    if plan.joins_segment_audio:
        return "the segments' own audio tracks, joined with the same cuts and transitions as the video"
    if plan.audio_fit is not None:
        return plan.audio_fit.describe()
    return None


def segments_text(count: int) -> str:
    return "1 segment" if count == 1 else f"{count} segments"


class MergeResult(ArtifactResult):
    """Result of `merge_videos`."""

    duration_seconds: float = Field(description="Duration of the output file's video in seconds, as probed.")
    expected_duration_seconds: float = Field(description="Duration computed from the segments and the transition.")
    duration_rule: str = Field(description="How the expected duration follows from the segments and transition.")
    frame_count: int | None = Field(description="Video frames in the output.")
    fps: float = Field(description="Frame rate of the output in frames per second.")
    width: int = Field(description="Frame width in pixels.")
    height: int = Field(description="Frame height in pixels.")
    video_codec: str | None = Field(description="Video codec of the output, e.g. h264, vp9, gif.")
    audio_codec: str | None = Field(description="Audio codec of the output, or null without audio.")
    has_audio: bool = Field(description="Whether the output has an audio track.")
    audio_duration_seconds: float | None = Field(description="Length of the audio track in seconds, or null.")
    audio_fit: str | None = Field(description="What was done to the soundtrack to match the video length, or null.")
    output_format: str = Field(description="mp4, webm, mov or gif.")
    quality: str = Field(description="Quality preset requested; applies only when re-encoding.")
    method: str = Field(description="stream_copy (segments copied without re-encoding) or re_encode.")
    stream_copied: bool = Field(description="True when the video was joined without re-encoding.")
    re_encode_reason: str | None = Field(description="Why stream copy was not possible, or null.")
    segments_count: int = Field(description="Number of segments joined.")
    transition_type: str = Field(description="Transition applied between segments.")
    transition_duration_seconds: float = Field(description="Transition length used, rounded to whole frames.")
    overlap_seconds: float = Field(description="Seconds removed from the sum of the segments by crossfades.")

    @classmethod
    def build(
        cls,
        artifact: Artifact,
        plan: MergePlan,
        output: MediaInfo,
        *,
        elapsed: float,
        warnings: Sequence[str],
    ) -> MergeResult:
        return cls(
            **ArtifactResult.common_fields(artifact, engine=_ENGINE, elapsed=elapsed, warnings=warnings),
            duration_seconds=round(output.duration, 6),
            expected_duration_seconds=round(plan.duration, 6),
            duration_rule=describe_duration(plan),
            frame_count=output.frame_count,
            fps=round(output.fps or float(plan.canvas.fps), 6),
            width=output.width or plan.canvas.width,
            height=output.height or plan.canvas.height,
            video_codec=output.video_codec,
            audio_codec=output.audio_codec,
            has_audio=output.has_audio,
            audio_duration_seconds=round(output.audio_duration, 6) if output.audio_duration is not None else None,
            audio_fit=_describe_audio(plan),
            output_format=plan.output_format,
            quality=plan.quality,
            method=plan.method,
            stream_copied=plan.method == "stream_copy",
            re_encode_reason=plan.re_encode_reason,
            segments_count=len(plan.segments),
            transition_type=plan.timeline.transition_type,
            transition_duration_seconds=round(plan.timeline.transition_seconds, 6),
            overlap_seconds=round(plan.timeline.overlap_seconds, 6),
        )

    def parameters(self) -> dict[str, Any]:
        """Return the request parameters recorded in the manifest."""
        return {
            "output_format": self.output_format,
            "quality": self.quality,
            "transition_type": self.transition_type,
            "transition_duration": self.transition_duration_seconds,
            "segments_count": self.segments_count,
        }


class MuxResult(ArtifactResult):
    """Result of `mux_audio`."""

    duration_seconds: float = Field(description="Duration of the video in seconds (unchanged by muxing).")
    audio_duration_seconds: float | None = Field(description="Length of the output's audio track in seconds.")
    audio_codec: str | None = Field(description="Audio codec of the output: aac for mp4/mov, opus for webm.")
    mode: str = Field(description="replace or mix.")
    audio_action: str = Field(description="padded, trimmed or kept: what was done to the new audio.")
    audio_action_detail: str = Field(description="The same in a sentence, with the difference in seconds.")
    output_format: str = Field(description="Container of the output, the same as the input video's.")
    video_stream_copied: bool = Field(description="Always true: the video stream is copied, not re-encoded.")
    video_source: str = Field(description="Path of the input video.")
    audio_source: str = Field(description="Path of the input audio.")

    @classmethod
    def build(
        cls,
        artifact: Artifact,
        output: MediaInfo,
        fit: AudioFit,
        *,
        mode: str,
        elapsed: float,
        warnings: Sequence[str],
        sources: tuple[Path, Path],
    ) -> MuxResult:
        return cls(
            **ArtifactResult.common_fields(artifact, engine=_ENGINE, elapsed=elapsed, warnings=warnings),
            duration_seconds=round(output.duration, 6),
            audio_duration_seconds=round(output.audio_duration, 6) if output.audio_duration is not None else None,
            audio_codec=output.audio_codec,
            mode=mode,
            audio_action=fit.action,
            audio_action_detail=fit.describe(),
            output_format=artifact.path.suffix.lstrip("."),
            video_stream_copied=True,
            video_source=str(sources[0]),
            audio_source=str(sources[1]),
        )


class ProbeResult(BaseModel):
    """Result of `probe_media`: what a media file contains."""

    path: str = Field(description="Absolute path of the file.")
    format_name: str = Field(description="Container format as ffmpeg names it, e.g. 'mov,mp4,m4a,3gp,3g2,mj2'.")
    size_bytes: int = Field(description="File size in bytes.")
    duration_seconds: float = Field(description="Duration in seconds (of the video stream when there is one).")
    has_video: bool = Field(description="Whether the file has a video stream.")
    width: int | None = Field(description="Frame width in pixels, or null.")
    height: int | None = Field(description="Frame height in pixels, or null.")
    fps: float | None = Field(description="Average frame rate, or null.")
    frame_count: int | None = Field(description="Number of video frames, or null.")
    video_codec: str | None = Field(description="Video codec, e.g. h264, vp9, gif; or null.")
    pix_fmt: str | None = Field(description="Pixel format of the video, e.g. yuv420p; or null.")
    has_audio: bool = Field(description="Whether the file has an audio stream.")
    audio_codec: str | None = Field(description="Audio codec, e.g. aac, opus, pcm_s16le; or null.")
    sample_rate: int | None = Field(description="Audio sample rate in Hz, or null.")
    channels: int | None = Field(description="Audio channels, or null.")
    audio_duration_seconds: float | None = Field(description="Length of the audio stream in seconds, or null.")
    warnings: list[str] = Field(
        default_factory=list, description="Problems found in the file, such as a truncated mp4 whose header overstates it."
    )

    @classmethod
    def from_info(cls, info: MediaInfo, *, warnings: Sequence[str] = ()) -> ProbeResult:
        return cls(
            path=info.path,
            format_name=info.format_name,
            size_bytes=info.size_bytes,
            duration_seconds=round(info.duration, 6),
            has_video=info.has_video,
            width=info.width,
            height=info.height,
            fps=round(info.fps, 6) if info.fps else None,
            frame_count=info.frame_count,
            video_codec=info.video_codec,
            pix_fmt=info.pix_fmt,
            has_audio=info.has_audio,
            audio_codec=info.audio_codec,
            sample_rate=info.sample_rate,
            channels=info.channels,
            audio_duration_seconds=round(info.audio_duration, 6) if info.audio_duration is not None else None,
            warnings=list(warnings),
        )

    def summary(self) -> str:
        parts = [f"{Path(self.path).name}: {self.duration_seconds:.3f} s"]
        if self.has_video:
            parts.append(f"video {self.video_codec} {self.width}x{self.height} at {self.fps or 0:g} fps, {self.frame_count} frames")
        if self.has_audio:
            length = f"{self.audio_duration_seconds:.3f} s" if self.audio_duration_seconds is not None else "unknown length"
            parts.append(f"audio {self.audio_codec} {self.sample_rate} Hz x{self.channels}, {length}")
        else:
            parts.append("no audio")
        return "; ".join(parts) + "".join(f". Warning: {warning}" for warning in self.warnings)
