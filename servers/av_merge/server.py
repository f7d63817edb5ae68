"""The av_merge MCP server: tools `merge_videos`, `mux_audio` and `probe_media`."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from servers.av_merge.export import STREAM_COPY_CODECS, OutputFormat, Quality, media_type
from servers.av_merge.inputs import (
    audio_length,
    inspect_audio,
    inspect_media,
    inspect_video,
    inspect_videos,
    resolve_media,
    truncation_warnings,
)
from servers.av_merge.merge import MergePlan, plan_merge, run_merge
from servers.av_merge.mux import AudioFit, MixMode, mux_arguments
from servers.av_merge.results import MergeResult, MuxResult, ProbeResult, describe_duration, segments_text
from servers.av_merge.runner import check_ffmpeg, run_ffmpeg_job
from servers.av_merge.speculative import SpeculativeCopy
from servers.av_merge.transitions import TransitionType
from servers.shared import package_version
from servers.shared.artifacts import ArtifactStore, source_label
from servers.shared.errors import InvalidInputError
from servers.shared.media import MediaInfo, probe
from servers.shared.resources import register_artifact_resources
from servers.shared.results import build_manifest, tool_result
from servers.shared.settings import Settings
from servers.shared.strict_arguments import reject_unknown_arguments
from servers.shared.validation import check_range
from servers.shared.worker import Progress, run_engine

__all__ = ["build_server", "MAX_SEGMENTS"]

logger = logging.getLogger(__name__)

SERVER_NAME = "reasoning-action-av-merge"
RESOURCE_PREFIX = "artifact://av_merge/"
ENGINE_NAME = "ffmpeg"
MAX_SEGMENTS = 500
MAX_FADE_SECONDS = 10.0
MAX_VOLUME = 4.0
_MUX_SUFFIX_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".webm": "webm"}

INSTRUCTIONS = """\
Joins video segments into one file, lays a soundtrack under a video, and inspects media.
merge_videos joins segments in order (optionally with crossfades or fades through black and
a soundtrack) and reports the exact duration; segments encoded alike are joined without
re-encoding. mux_audio lays an audio file under a finished video without re-encoding the
video. probe_media reports duration, frame rate, frame count, size, codecs and audio length
of any allowed file, so you can check your work."""


def build_server(settings: Settings) -> MCPServer:
    """Create the av_merge server; raises `EngineUnavailableError` when ffmpeg cannot run."""
    ffmpeg_version = check_ffmpeg()
    logger.info("Using %s", ffmpeg_version)
    store = ArtifactStore(settings.output_dir, kind="merged", resource_prefix=RESOURCE_PREFIX)
    server = MCPServer(SERVER_NAME, version=package_version(), instructions=INSTRUCTIONS)
    register_artifact_resources(server, store, {f".{name}": media_type(name) for name in STREAM_COPY_CODECS})
    roots = settings.input_roots

    @server.tool(
        name="merge_videos",
        description=(
            "Join video segments in the given order into one mp4, webm, mov or gif, optionally with "
            "transitions and a soundtrack. The duration is exact: the sum of the segments with no "
            "transition or with 'fade_black', and the sum minus one transition per boundary with "
            "'fade' (crossfade). Segments of equal encoding are joined by stream copy (no quality "
            "loss, about a second for 40 s); others are scaled and padded to the first segment's "
            "size and frame rate and re-encoded. The soundtrack is padded with silence or trimmed "
            "with a fade-out to end exactly with the video. Returns path, uri, duration, fps, size, "
            "codecs, the method (stream_copy or re_encode), how the duration was computed and a "
            "resource link to the file."
        ),
    )
    async def merge_videos(
        ctx: Context,
        video_segments: Annotated[
            list[str], Field(description=f"Segment videos in playback order: file paths or file:// URIs (1 to {MAX_SEGMENTS}).")
        ],
        audio_url: Annotated[
            str | None,
            Field(description="Soundtrack for the whole video (path or file:// URI); omitted means no audio track. Not for gif."),
        ] = None,
        output_format: Annotated[
            OutputFormat,
            Field(description="mp4 (H.264 + AAC), webm (VP9 + Opus), mov (H.264 + AAC) or gif (no audio)."),
        ] = "mp4",
        quality: Annotated[
            Quality,
            Field(
                description=(
                    "Encoding quality when re-encoding: low (x264 CRF 28 veryfast), medium (CRF 23 medium), "
                    "high (CRF 18 slow) or lossless (x264 QP 0). Stream copy keeps the segments' own encoding."
                )
            ),
        ] = "medium",
        transition_type: Annotated[
            TransitionType,
            Field(description="none (cut), fade (crossfade; shortens the total) or fade_black (dip to black; keeps the total)."),
        ] = "none",
        transition_duration: Annotated[
            float,
            Field(description="Transition length in seconds, rounded to whole frames; ignored for 'none'. Default 0.5."),
        ] = 0.5,
        allow_stream_copy: Annotated[
            bool, Field(description="Join by stream copy when possible (default). false forces re-encoding at `quality`.")
        ] = True,
        audio_fade_seconds: Annotated[
            float, Field(description="Fade-out in seconds applied when the soundtrack is trimmed: 0 to 10. Default 0.5.")
        ] = 0.5,
    ) -> Annotated[CallToolResult, MergeResult]:
        _check_merge_request(video_segments, audio_url, output_format, audio_fade_seconds)
        started = time.perf_counter()

        def work(progress: Progress) -> tuple[MergePlan, Path, MediaInfo]:
            segments = _resolve_segments(video_segments, roots)
            with store.create(f"merged-{source_label(segments[0])}", f".{output_format}") as (temporary_path, final_path):
                plan = _plan_and_join(
                    segments, audio_url, roots, temporary_path, progress,
                    output_format=output_format, quality=quality, transition_type=transition_type,
                    transition_duration=transition_duration, allow_stream_copy=allow_stream_copy,
                    audio_fade_seconds=audio_fade_seconds,
                )  # fmt: skip
                output_info = probe(temporary_path, headers_only=True)
            return plan, final_path, output_info

        plan, final_path, output_info = await run_engine(work, send_progress=ctx.report_progress, name="merge_videos")
        elapsed = time.perf_counter() - started

        artifact = store.artifact_for(final_path)
        warnings = [*plan.warnings, *_duration_warnings(plan, output_info)]
        result = MergeResult.build(artifact, plan, output_info, elapsed=elapsed, warnings=warnings)
        parents = [str(path) for path in plan.segments] + ([str(plan.audio)] if plan.audio else [])
        store.write_manifest(
            artifact.path,
            build_manifest(
                tool="merge_videos", parameters=result.parameters(), engine=ENGINE_NAME, model=None, seed=None,
                parents=parents, elapsed_seconds=elapsed, extra={"method": plan.method, "warnings": warnings},
            ),
        )  # fmt: skip
        logger.info("merge_videos wrote %s (%.3f s of video) in %.2f s", artifact.path, result.duration_seconds, elapsed)
        summary = (
            f"Joined {segments_text(len(plan.segments))} by {plan.method.replace('_', ' ')} into {artifact.path} "
            f"({result.duration_seconds:.3f} s, {result.width}x{result.height} at {result.fps:g} fps). "
            f"{result.duration_rule}"
        )
        return tool_result(result, summary=summary, artifact=artifact, mime_type=media_type(output_format))

    @server.tool(
        name="mux_audio",
        description=(
            "Lay an audio file under a video without re-encoding the video. mode 'replace' swaps the "
            "video's audio for the new track; 'mix' sums both. The new track is padded with silence "
            "or trimmed with a fade-out so it ends exactly with the video. The output keeps the video's "
            "container (mp4, mov or webm). Returns path, uri, durations of video and audio, what was "
            "done to the audio and a resource link to the file."
        ),
    )
    async def mux_audio(
        ctx: Context,
        video_url: Annotated[str, Field(description="Video to lay the audio under (mp4, mov or webm): path or file:// URI.")],
        audio_url: Annotated[str, Field(description="Audio file, or a video whose audio track is used: path or file:// URI.")],
        mode: Annotated[MixMode, Field(description="replace (default): drop the video's own audio; mix: sum both tracks.")] = "replace",
        volume: Annotated[float, Field(description=f"Gain applied to the new audio: 0 to {MAX_VOLUME:g}, 1 keeps its level.")] = 1.0,
        fade_seconds: Annotated[
            float, Field(description="Fade-out in seconds applied when the audio is longer than the video: 0 to 10. Default 0.5.")
        ] = 0.5,
    ) -> Annotated[CallToolResult, MuxResult]:
        check_range("volume", volume, 0.0, MAX_VOLUME, hint="1 keeps the level")
        check_range("fade_seconds", fade_seconds, 0.0, MAX_FADE_SECONDS)
        started = time.perf_counter()

        def work(progress: Progress) -> tuple[MuxResult, Path]:
            video = resolve_media(video_url, roots, what="video_url")
            video_info = inspect_video(video, what="video_url")
            output_format = _mux_format(video, video_info)
            audio = resolve_media(audio_url, roots, what="audio_url")
            audio_info = inspect_audio(audio, what="audio_url")

            warnings = []
            fit = AudioFit(audio_seconds=audio_length(audio_info), video_seconds=video_info.duration, fade_seconds=fade_seconds)
            existing_fit = None
            if mode == "mix" and video_info.has_audio:
                existing_fit = AudioFit(audio_length(video_info), video_info.duration, fade_seconds)
            elif mode == "mix":
                warnings.append("the video had no audio track to mix with, so the new audio was laid alone")

            arguments = mux_arguments(
                video, audio, output_format=output_format, fit=fit, existing_fit=existing_fit, volume=volume
            )
            with store.create(f"muxed-{source_label(video)}", f".{output_format}") as (temporary_path, final_path):
                run_ffmpeg_job(
                    [*arguments, str(temporary_path)],
                    what=f"laying {audio.name} under {video.name}",
                    total_seconds=video_info.duration,
                    progress=progress,
                    message="muxing audio",
                )
                output_info = probe(temporary_path)
            result = MuxResult.build(
                store.artifact_for(final_path), output_info, fit,
                mode=mode, elapsed=time.perf_counter() - started, warnings=warnings, sources=(video, audio),
            )  # fmt: skip
            return result, final_path

        result, final_path = await run_engine(work, send_progress=ctx.report_progress, name="mux_audio")
        artifact = store.artifact_for(final_path)
        store.write_manifest(
            artifact.path,
            build_manifest(
                tool="mux_audio", parameters={"mode": mode, "volume": volume, "fade_seconds": fade_seconds},
                engine=ENGINE_NAME, model=None, seed=None, parents=[result.video_source, result.audio_source],
                elapsed_seconds=result.elapsed_seconds, extra={"warnings": result.warnings},
            ),
        )  # fmt: skip
        logger.info("mux_audio wrote %s in %.2f s", artifact.path, result.elapsed_seconds)
        summary = f"Laid {Path(result.audio_source).name} under the video: {artifact.path}. {result.audio_action_detail}"
        return tool_result(result, summary=summary, artifact=artifact, mime_type=media_type(result.output_format))

    @server.tool(
        name="probe_media",
        description=(
            "Inspect a media file (video, audio or image sequence container) inside the allowed folders: "
            "duration in seconds, frame rate, frame count, resolution, codecs, pixel format, whether it "
            "has audio and the audio length. Reads headers only, so it takes milliseconds."
        ),
    )
    async def probe_media(
        path: Annotated[str, Field(description="File to inspect: path or file:// URI inside the allowed folders.")],
    ) -> Annotated[CallToolResult, ProbeResult]:
        def work(progress: Progress) -> ProbeResult:
            resolved = resolve_media(path, roots, what="path")
            info = inspect_media(resolved, what="path")
            return ProbeResult.from_info(info, warnings=truncation_warnings(resolved, info))

        result = await run_engine(work, name="probe_media")
        return CallToolResult(
            content=[TextContent(type="text", text=result.summary())],
            structured_content=result.model_dump(mode="json"),
        )

    reject_unknown_arguments(server)
    return server


def _check_merge_request(segments: list[str], audio_url: str | None, output_format: str, audio_fade_seconds: float) -> None:
    if not segments:
        raise InvalidInputError("video_segments is empty: pass at least one video path or file:// URI")
    if len(segments) > MAX_SEGMENTS:
        raise InvalidInputError(f"video_segments has {len(segments)} entries: join at most {MAX_SEGMENTS} per call")
    if output_format == "gif" and audio_url:
        raise InvalidInputError("gif has no audio track: omit audio_url, or choose output_format mp4, webm or mov")
    check_range("audio_fade_seconds", audio_fade_seconds, 0.0, MAX_FADE_SECONDS)


def _segment_whats(count: int) -> list[str]:
    return [f"video_segments[{index}]" for index in range(count)]


def _resolve_segments(references: list[str], roots: tuple[Path, ...]) -> list[Path]:
    """Resolve every segment inside the allowed roots, rejecting missing and empty files."""
    whats = _segment_whats(len(references))
    return [resolve_media(reference, roots, what=what) for reference, what in zip(references, whats, strict=True)]


def _plan(
    segments: list[Path],
    audio_reference: str | None,
    roots: tuple[Path, ...],
    **options: object,
) -> MergePlan:
    """Inspect every input, then plan the join."""
    infos = inspect_videos(segments, whats=_segment_whats(len(segments)))

    audio, audio_info = None, None
    if audio_reference:
        audio = resolve_media(audio_reference, roots, what="audio_url")
        audio_info = inspect_audio(audio, what="audio_url")
    return plan_merge(segments, infos, audio=audio, audio_info=audio_info, **options)  # type: ignore[arg-type]


def _plan_and_join(
    segments: list[Path],
    audio_reference: str | None,
    roots: tuple[Path, ...],
    output_path: Path,
    progress: Progress,
    **options: object,
) -> MergePlan:
    """Plan the join and write it to `output_path`.

    A plain cut without a soundtrack is likely a stream copy of the video alone, so that
    copy starts before the inputs are checked and is kept if the plan agrees (see
    `speculative`).
    """
    may_copy_early = (
        options["allow_stream_copy"] and options["transition_type"] == "none" and audio_reference is None
        and options["output_format"] != "gif"
    )  # fmt: skip
    early = SpeculativeCopy(segments, output_path, str(options["output_format"])) if may_copy_early else None
    try:
        plan = _plan(segments, audio_reference, roots, **options)
    except BaseException:
        _stop_early_copy(early)
        raise

    logger.info("merge_videos: %d segments by %s into %s", len(plan.segments), plan.method, plan.output_format)
    if early is not None and early.matches(plan):
        early.finish(plan, progress)
    else:
        _stop_early_copy(early)
        run_merge(plan, output_path, progress)
    return plan


def _stop_early_copy(early: SpeculativeCopy | None) -> None:
    """Kill a copy started before the checks, when the plan differs from it or failed."""
    if early is not None:
        early.stop()
        logger.info("merge_videos: discarded the stream copy started before the checks")


def _mux_format(video: Path, info: MediaInfo) -> str:
    output_format = _MUX_SUFFIX_FORMATS.get(video.suffix.lower())
    if output_format is None:
        raise InvalidInputError(
            f"video_url {video.name!r} is not an mp4, mov or webm file: convert it with merge_videos first"
        )
    if info.video_codec not in STREAM_COPY_CODECS[output_format]:
        raise InvalidInputError(
            f"video_url {video.name!r} contains {info.video_codec} video, which not every {output_format} player "
            "supports: re-encode it with merge_videos (allow_stream_copy=false) first"
        )
    return output_format


def _duration_warnings(plan: MergePlan, output: MediaInfo) -> list[str]:
    """Flag an output whose length differs from the plan by more than one frame."""
    frame = 1 / float(plan.canvas.fps)
    if abs(output.duration - plan.duration) <= frame + 1e-6:
        return []
    return [f"the output lasts {output.duration:.3f} s but {plan.duration:.3f} s was expected ({describe_duration(plan)})"]
