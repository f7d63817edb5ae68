"""Plan and run one join: choose stream copy or re-encoding, build the ffmpeg commands, run them.

Stream copy is one ffmpeg process that reads the segments one after another through the
concat demuxer and muxes the fitted soundtrack beside them.

Without a soundtrack, when every segment has audio, a first ffmpeg joins those tracks
(`segment_audio.py`), and the join lays the result under the video like a soundtrack.

Re-encoding streams the segments. One small ffmpeg per segment, run one after another,
normalises the segment (`normalise.py`) and applies its side of the transitions
(`transitions.py`). For a crossfade it also reads the head of the next segment. It writes
raw frames into the stdin of a single encoder, which fits the soundtrack (`mux.py`) and
encodes (`export.py`). At
most two segments are open at any time, so memory does not grow with their number, as it
does with one filter graph over all inputs (measured about 25 MiB more per 1024x768
segment with ffmpeg 9.0).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from servers.av_merge.concat import (
    concat_input_arguments,
    copy_signature,
    hidden_frames_blocker,
    stream_copy_blocker,
    write_concat_list,
)
from servers.av_merge.export import (
    STREAM_COPY_CODECS,
    audio_encoder_arguments,
    gif_filter,
    video_encoder_arguments,
)
from servers.av_merge.inputs import audio_length
from servers.av_merge.mux import AudioFit, fit_audio_filter
from servers.av_merge.normalise import Canvas, canvas_for, segment_frame_count
from servers.av_merge.runner import run_ffmpeg_job
from servers.av_merge.segment_audio import segment_audio_arguments
from servers.av_merge.transitions import (
    Timeline,
    TransitionType,
    needs_next_segment,
    plan_timeline,
    segment_piece_filter,
)
from servers.shared.media import MediaInfo
from servers.shared.worker import Progress

__all__ = ["MergePlan", "Method", "plan_merge", "run_merge", "video_copy_arguments"]

logger = logging.getLogger(__name__)

Method = Literal["stream_copy", "re_encode"]

# Decoder threads per segment while re-encoding. Decoding one segment is far faster than
# encoding it, so one thread keeps up and leaves the cores to the encoder.
_DECODER_THREADS = "1"
# Parts travel between the ffmpeg processes as raw frames in the output pixel format.
_RAW_PIXEL_FORMAT = "yuv420p"


@dataclass(frozen=True)
class MergePlan:
    """Everything decided before ffmpeg runs: the method, the timeline and the soundtrack fit."""

    segments: tuple[Path, ...]
    infos: tuple[MediaInfo, ...]
    output_format: str
    quality: str
    method: Method
    re_encode_reason: str | None
    canvas: Canvas
    timeline: Timeline
    audio: Path | None = None
    audio_fit: AudioFit | None = None
    joins_segment_audio: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Expected length of the output in seconds."""
        if self.method == "stream_copy":
            return sum(info.duration for info in self.infos)
        return self.timeline.duration


def plan_merge(
    segments: Sequence[Path],
    infos: Sequence[MediaInfo],
    *,
    output_format: str,
    quality: str,
    transition_type: TransitionType,
    transition_duration: float,
    allow_stream_copy: bool,
    audio: Path | None = None,
    audio_info: MediaInfo | None = None,
    audio_fade_seconds: float = 0.5,
) -> MergePlan:
    """Validate the transition, pick the method and fit the soundtrack to the joined length."""
    names = [path.name for path in segments]
    canvas = canvas_for(infos[0])
    frames = [segment_frame_count(info, canvas) for info in infos]
    timeline = plan_timeline(frames, canvas.fps, transition_type, transition_duration, segment_names=names)

    warnings = []
    if transition_type != "none" and len(segments) == 1:
        warnings.append("a single segment has no boundary, so no transition was applied")
    joins_segment_audio = audio is None and output_format != "gif" and all(info.has_audio for info in infos)
    if not joins_segment_audio and any(info.has_audio for info in infos):
        warnings.append(_dropped_audio_warning(infos, audio, output_format))

    reason = _re_encode_reason(infos, names, timeline, output_format, allow_stream_copy)
    method: Method = "re_encode" if reason else "stream_copy"
    plan = MergePlan(
        segments=tuple(segments),
        infos=tuple(infos),
        output_format=output_format,
        quality=quality,
        method=method,
        re_encode_reason=reason,
        canvas=canvas,
        timeline=timeline,
        joins_segment_audio=joins_segment_audio,
        warnings=warnings,
    )
    if audio is None or audio_info is None:
        return plan

    fit = AudioFit(audio_seconds=audio_length(audio_info), video_seconds=plan.duration, fade_seconds=audio_fade_seconds)
    return replace(plan, audio=audio, audio_fit=fit)


def _dropped_audio_warning(infos: Sequence[MediaInfo], audio: Path | None, output_format: str) -> str:
    if audio is not None:
        return "the segments' own audio tracks were replaced by audio_url"
    if output_format == "gif":
        return "the segments' own audio tracks were dropped because gif has no audio"
    silent = [index for index, info in enumerate(infos) if not info.has_audio]
    return (
        f"the segments' own audio tracks were dropped because segments {silent} have none: "
        "pass audio_url to lay one soundtrack"
    )


def _re_encode_reason(
    infos: Sequence[MediaInfo],
    names: Sequence[str],
    timeline: Timeline,
    output_format: str,
    allow_stream_copy: bool,
) -> str | None:
    if not allow_stream_copy:
        return "stream copy was switched off (allow_stream_copy=false)"
    if output_format == "gif":
        return "gif output is always encoded"
    if timeline.transition_type != "none":
        return f"the '{timeline.transition_type}' transition blends frames"
    hidden = hidden_frames_blocker(infos, names)
    if hidden is not None:
        return hidden
    signatures = [copy_signature(info) for info in infos]
    return stream_copy_blocker(
        signatures,
        names,
        pix_fmt=infos[0].pix_fmt,
        allowed_codecs=STREAM_COPY_CODECS[output_format],
        output_format=output_format,
    )


def run_merge(plan: MergePlan, output_path: Path, progress: Progress) -> None:
    """Write the joined file for `plan` to `output_path`."""
    count = len(plan.segments)
    what = f"joining {count} segments into {output_path.name}"
    with tempfile.TemporaryDirectory(prefix="av-merge-") as work_folder:
        if plan.joins_segment_audio:
            plan = _with_joined_segment_audio(plan, Path(work_folder) / "segment-audio.wav", progress)

        if plan.method == "re_encode":
            run_ffmpeg_job(
                [*_encoder_arguments(plan), str(output_path)],
                what=what,
                total_seconds=plan.duration,
                progress=progress,
                message=f"re-encoding {count} segments",
                feeders=[_part_arguments(plan, index) for index in range(count)],
            )
            return

        arguments = _stream_copy_arguments(plan, Path(work_folder) / "segments.ffconcat")
        run_ffmpeg_job(
            [*arguments, str(output_path)],
            what=what,
            total_seconds=plan.duration,
            progress=progress,
            message=f"copying {count} segments",
        )


def _with_joined_segment_audio(plan: MergePlan, wav_path: Path, progress: Progress) -> MergePlan:
    """Join the segments' audio into `wav_path` and return the plan with it as the soundtrack."""
    run_ffmpeg_job(
        segment_audio_arguments(plan.segments, plan.timeline, wav_path),
        what=f"joining the audio of {len(plan.segments)} segments",
        total_seconds=plan.duration,
        # Cancellation only: progress reports start with the video job, so they never go back.
        progress=Progress(cancel_event=progress.cancel_event),
        message="joining segment audio",
    )
    fit = AudioFit(audio_seconds=plan.duration, video_seconds=plan.duration, fade_seconds=0.0)
    return replace(plan, audio=wav_path, audio_fit=fit)


def video_copy_arguments(list_path: Path, output_format: str) -> list[str]:
    """Return the ffmpeg arguments that stream-copy the video of the segments in `list_path`, with no audio."""
    return [*concat_input_arguments(list_path), "-map", "0:v:0", "-c:v", "copy", "-an", *_faststart(output_format)]


def _stream_copy_arguments(plan: MergePlan, list_path: Path) -> list[str]:
    write_concat_list(plan.segments, [info.duration for info in plan.infos], list_path)
    if plan.audio_fit is None:
        return video_copy_arguments(list_path, plan.output_format)

    arguments = [*concat_input_arguments(list_path), "-i", str(plan.audio), "-map", "0:v:0", "-c:v", "copy"]
    arguments += _soundtrack_arguments(plan, audio_input=1)
    return [*arguments, *_faststart(plan.output_format)]


def _faststart(output_format: str) -> list[str]:
    """Move the index to the front of mp4 and mov files, so players can start before the download ends."""
    return ["-movflags", "+faststart"] if output_format in ("mp4", "mov") else []


def _part_arguments(plan: MergePlan, index: int) -> list[str]:
    """Return the arguments of the ffmpeg that writes segment `index`'s part as raw frames to stdout."""
    arguments = ["-threads", _DECODER_THREADS, "-i", str(plan.segments[index])]
    if needs_next_segment(plan.timeline, index):
        # Only the first transition of the next segment is read; the extra second covers
        # a slower source frame rate and the decoder's start.
        read_seconds = plan.timeline.transition_seconds + 1.0
        arguments += ["-threads", _DECODER_THREADS, "-t", f"{read_seconds:.3f}", "-i", str(plan.segments[index + 1])]
    graph = segment_piece_filter(plan.timeline, index, plan.canvas, "part")
    return [*arguments, "-filter_complex", graph, "-map", "[part]", "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", _RAW_PIXEL_FORMAT, "pipe:1"]  # fmt: skip


def _encoder_arguments(plan: MergePlan) -> list[str]:
    """Return the arguments of the ffmpeg that encodes the raw parts from stdin (and the soundtrack)."""
    canvas = plan.canvas
    arguments = ["-f", "rawvideo", "-pix_fmt", _RAW_PIXEL_FORMAT, "-video_size", f"{canvas.width}x{canvas.height}",
                 "-framerate", canvas.fps_text, "-i", "pipe:0"]  # fmt: skip
    if plan.audio is not None:
        arguments += ["-i", str(plan.audio)]

    graph = []
    video_label = "0:v:0"
    if plan.output_format == "gif":
        graph.append(gif_filter(video_label, plan.quality, float(canvas.fps), "video"))
        video_label = "[video]"
    if plan.audio_fit is not None:
        graph.append(fit_audio_filter("1:a:0", plan.audio_fit, "audio"))
    if graph:
        arguments += ["-filter_complex", ";".join(graph)]
    arguments += ["-map", video_label]

    if plan.output_format == "gif":
        return [*arguments, "-loop", "0"]
    arguments += video_encoder_arguments(plan.output_format, plan.quality)
    if plan.audio_fit is not None:
        arguments += ["-map", "[audio]", *audio_encoder_arguments(plan.output_format, plan.quality)]
    return arguments


def _soundtrack_arguments(plan: MergePlan, *, audio_input: int) -> list[str]:
    if plan.audio_fit is None:
        return ["-an"]
    graph = fit_audio_filter(f"{audio_input}:a:0", plan.audio_fit, "audio")
    return ["-filter_complex", graph, "-map", "[audio]", *audio_encoder_arguments(plan.output_format, plan.quality)]
