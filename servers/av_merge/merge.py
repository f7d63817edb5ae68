"""Plan and run one join: choose stream copy or re-encoding, build the ffmpeg command, run it.

The whole join, soundtrack included, is one ffmpeg process. Stream copy reads the
segments one after another through the concat demuxer. Re-encoding runs one filter graph
over all segments: normalise each one (`normalise.py`), join them with the transition
(`transitions.py`), fit the soundtrack (`mux.py`) and encode (`export.py`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from servers.av_merge.concat import concat_input_arguments, copy_signature, stream_copy_blocker, write_concat_list
from servers.av_merge.export import (
    STREAM_COPY_CODECS,
    audio_encoder_arguments,
    gif_filter,
    video_encoder_arguments,
)
from servers.av_merge.inputs import audio_length
from servers.av_merge.mux import AudioFit, fit_audio_filter
from servers.av_merge.normalise import Canvas, canvas_for, normalise_filter, segment_frame_count
from servers.av_merge.runner import run_ffmpeg_job
from servers.av_merge.transitions import Timeline, TransitionType, join_filter, plan_timeline
from servers.shared.media import MediaInfo
from servers.shared.worker import Progress

__all__ = ["MergePlan", "Method", "plan_merge", "run_merge"]

logger = logging.getLogger(__name__)

Method = Literal["stream_copy", "re_encode"]

# Decoder threads per input while re-encoding. Each open decoder keeps its own frame
# buffers per thread, so one thread each keeps memory from growing with the number of
# segments; decoding is still far faster than the encoder that follows.
_DECODER_THREADS = "1"


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
    if any(info.has_audio for info in infos):
        warnings.append("the segments' own audio tracks were not copied: pass audio_url to lay a soundtrack")

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
        warnings=warnings,
    )
    if audio is None or audio_info is None:
        return plan

    fit = AudioFit(audio_seconds=audio_length(audio_info), video_seconds=plan.duration, fade_seconds=audio_fade_seconds)
    return MergePlan(**{**plan.__dict__, "audio": audio, "audio_fit": fit})


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
    signatures = [copy_signature(info) for info in infos]
    return stream_copy_blocker(
        signatures, names, allowed_codecs=STREAM_COPY_CODECS[output_format], output_format=output_format
    )


def run_merge(plan: MergePlan, output_path: Path, progress: Progress) -> None:
    """Write the joined file for `plan` to `output_path`."""
    message = f"{'copying' if plan.method == 'stream_copy' else 're-encoding'} {len(plan.segments)} segments"
    with tempfile.TemporaryDirectory(prefix="av-merge-") as work_folder:
        if plan.method == "stream_copy":
            arguments = _stream_copy_arguments(plan, Path(work_folder) / "segments.ffconcat")
        else:
            arguments = _re_encode_arguments(plan)
        run_ffmpeg_job(
            [*arguments, str(output_path)],
            what=f"joining {len(plan.segments)} segments into {output_path.name}",
            total_seconds=plan.duration,
            progress=progress,
            message=message,
        )


def _stream_copy_arguments(plan: MergePlan, list_path: Path) -> list[str]:
    write_concat_list(plan.segments, [info.duration for info in plan.infos], list_path)
    arguments = [*concat_input_arguments(list_path)]
    if plan.audio is not None:
        arguments += ["-i", str(plan.audio)]
    arguments += ["-map", "0:v:0", "-c:v", "copy"]
    arguments += _soundtrack_arguments(plan, audio_input=1)
    if plan.output_format in ("mp4", "mov"):
        arguments += ["-movflags", "+faststart"]
    return arguments


def _re_encode_arguments(plan: MergePlan) -> list[str]:
    arguments: list[str] = []
    for path in plan.segments:
        arguments += ["-threads", _DECODER_THREADS, "-i", str(path)]
    if plan.audio is not None:
        arguments += ["-i", str(plan.audio)]

    normalised = [f"normalised{index}" for index in range(len(plan.segments))]
    graph = [
        normalise_filter(f"{index}:v:0", plan.canvas, plan.timeline.segment_frames[index], normalised[index])
        for index in range(len(plan.segments))
    ]
    joined = "joined" if plan.output_format == "gif" else "video"
    graph.append(join_filter(plan.timeline, normalised, joined))
    if plan.output_format == "gif":
        graph.append(gif_filter(joined, plan.quality, float(plan.canvas.fps), "video"))
    if plan.audio_fit is not None:
        graph.append(fit_audio_filter(f"{len(plan.segments)}:a:0", plan.audio_fit, "audio"))

    arguments += ["-filter_complex", ";".join(graph), "-map", "[video]"]
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
