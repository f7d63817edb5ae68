"""The video2audio MCP server and its tool `video_to_audio`."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from servers.shared import package_version
from servers.shared.artifacts import ArtifactStore, resolve_input_path, source_label
from servers.shared.audio_io import AUDIO_FORMATS, AUDIO_MIME_TYPES, write_audio
from servers.shared.errors import InvalidInputError
from servers.shared.resources import register_artifact_resources
from servers.shared.results import ArtifactResult, build_manifest, tool_result
from servers.shared.settings import Settings
from servers.shared.strict_arguments import reject_unknown_arguments
from servers.shared.validation import check_range, check_seed
from servers.shared.worker import Progress, run_engine
from servers.video2audio.analysis import analyse_video, probe_video
from servers.video2audio.engines import AudioOutput, AudioRequest, VideoToAudioEngine, create_engine
from servers.video2audio.scene import Scene, describe_scene
from servers.video2audio.styles import DEFAULT_STYLE, STYLES, style_help

__all__ = ["SAMPLE_RATES", "VideoToAudioResult", "build_server", "validate_options"]

logger = logging.getLogger(__name__)

SERVER_NAME = "reasoning-action-video2audio"
RESOURCE_PREFIX = "artifact://video2audio/"
SAMPLE_RATES = (44100, 48000)
MAX_DESCRIPTION_CHARS = 2000
CHANNELS = 2
PROGRESS_TOTAL = 100.0
# Shares of the progress bar: analysis up to 30, the engine up to 95, writing the file the rest.
ANALYSIS_END = 30.0
ENGINE_END = 95.0

INSTRUCTIONS = """\
Listens to what a video shows and writes a fitting stereo soundtrack of exactly the
video's length. Call video_to_audio with the video's path (for example the `path` that
image_to_video returned). Without a description, the scene is taken from the prompt that
made the video (read from the manifests beside it), so scene sounds such as water or birds
match. The result names the audio file and reports the analysis and prompt it used.
Pass the video and the audio to the av_merge server to mux them."""


class VideoToAudioResult(ArtifactResult):
    """Result of `video_to_audio`."""

    duration: float = Field(description="Audio duration in seconds; equals the video's duration to within one audio frame.")
    video_duration: float = Field(description="Duration of the input video in seconds.")
    sample_rate: int = Field(description="Audio sample rate in Hz.")
    channels: int = Field(description="Number of audio channels (2, stereo).")
    style: str = Field(description="Soundtrack style used.")
    output_format: str = Field(description="Audio file format: wav, mp3, m4a or flac.")
    include_sfx: bool = Field(description="Whether effects were placed on motion peaks and cuts.")
    volume: float = Field(description="Loudness factor 0..1 that was applied.")
    prompt: str = Field(description="Text prompt the soundtrack was made from (style, scene sounds, mood).")
    scene: str | None = Field(description="Scene text: the description, or the prompt found in the video's provenance.")
    scene_source: str = Field(description="Where the scene text came from: description, provenance or none.")
    sound_elements: list[str] = Field(description="Scene sounds used, for example water, birds, wind.")
    analysis: dict[str, Any] = Field(description="Video analysis: motion, brightness, colour, mood, cut and motion-peak times.")


@dataclass(frozen=True, kw_only=True)
class AudioOptions:
    """The validated parameters of a call, before the video is read."""

    style: str
    include_sfx: bool
    volume: float
    seed: int
    description: str | None
    output_format: str
    sample_rate: int


def validate_options(
    *,
    audio_style: str,
    include_sfx: bool,
    volume: float,
    seed: int | None,
    description: str | None,
    output_format: str,
    sample_rate: int,
) -> AudioOptions:
    """Check every parameter except the video; a missing seed is drawn at random."""
    style = audio_style.strip().lower() if isinstance(audio_style, str) else audio_style
    if style not in STYLES:
        raise InvalidInputError(f"audio_style {audio_style!r} is unknown: use one of {', '.join(STYLES)}")
    check_range("volume", volume, 0.0, 1.0, hint="1 is full loudness, 0.5 is 6 dB quieter")
    audio_format = output_format.strip().lower().lstrip(".") if isinstance(output_format, str) else output_format
    if audio_format not in AUDIO_FORMATS:
        raise InvalidInputError(f"output_format {output_format!r} is not supported: use one of {', '.join(AUDIO_FORMATS)}")
    if sample_rate not in SAMPLE_RATES:
        raise InvalidInputError(f"sample_rate {sample_rate} is not supported: use {' or '.join(map(str, SAMPLE_RATES))}")
    if description is not None and not description.strip():
        description = None
    if description is not None and len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInputError(f"description has {len(description)} characters: shorten it to at most {MAX_DESCRIPTION_CHARS}")
    if seed is None:
        seed = secrets.randbelow(2**31)
    check_seed(seed)
    return AudioOptions(
        style=style,
        include_sfx=bool(include_sfx),
        volume=float(volume),
        seed=seed,
        description=description.strip() if description else None,
        output_format=audio_format,
        sample_rate=sample_rate,
    )


def _warnings(options: AudioOptions, scene: Scene, duration: float, video_duration: float, rate: int) -> list[str]:
    warnings = []
    if scene.source == "none":
        warnings.append(
            "no description was given and the video has no provenance prompt, so the soundtrack follows the "
            "picture only: pass description to add scene sounds such as water or birds"
        )
    if options.volume == 0:
        warnings.append("volume 0 gives a silent track")
    if abs(duration - video_duration) > 1.0 / rate:
        warnings.append(f"the audio lasts {duration:.6f} s but the video {video_duration:.6f} s")
    return warnings


class _StageProgress:
    """Map one stage's own `(done, total)` onto a slice of a single 0..100 progress bar.

    MCP progress values must only increase, but analysis counts frames and an engine
    counts its own steps; each stage therefore reports into its own slice.
    """

    def __init__(self, progress: Progress, start: float, end: float) -> None:
        self._progress = progress
        self._start = start
        self._end = end

    def __call__(self, done: float, total: float | None = None, message: str | None = None) -> None:
        share = min(done / total, 1.0) if total else 0.0
        self._progress(self._start + share * (self._end - self._start), PROGRESS_TOTAL, message)

    def check_cancelled(self) -> None:
        self._progress.check_cancelled()


def build_server(settings: Settings, *, engine: VideoToAudioEngine | None = None) -> MCPServer:
    """Create the video2audio server; `engine` overrides the one `settings` selects."""
    engine = engine or create_engine(settings)
    store = ArtifactStore(settings.output_dir, kind="audio", resource_prefix=RESOURCE_PREFIX)
    server = MCPServer(SERVER_NAME, version=package_version(), instructions=INSTRUCTIONS)
    register_artifact_resources(server, store, AUDIO_MIME_TYPES)

    @server.tool(
        name="video_to_audio",
        description=(
            "Generate a stereo soundtrack for a video, exactly as long as the video. The video's motion "
            "drives the loudness, its light the brightness of the sound, and its scene (from `description` "
            "or from the prompt that made the video) selects sounds such as water, birds, wind, rain or "
            "city hum. Returns the audio file's `path` and `uri`, duration, sample rate, channels, the "
            "prompt and video analysis it used, the seed, engine, model, elapsed seconds and warnings."
        ),
    )
    async def video_to_audio(
        ctx: Context,
        video_url: Annotated[str, Field(description="Video to score: a file path or file:// URI inside the server's allowed folders.")],
        audio_style: Annotated[
            str,
            Field(description=f"Soundtrack style, one of: {style_help()}.", json_schema_extra={"enum": list(STYLES)}),
        ] = DEFAULT_STYLE,
        include_sfx: Annotated[bool, Field(description="Add short sound effects on visible events: a whoosh on motion peaks, an impact on cuts.")] = True,
        volume: Annotated[float, Field(description="Output loudness 0 to 1: 1 is about -18 dBFS RMS, 0.5 is 6 dB quieter, 0 is silent.")] = 0.8,
        seed: Annotated[int | None, Field(description="Random seed 0 to 4294967295; omitted means random. The result reports it.")] = None,
        description: Annotated[
            str | None,
            Field(description="What the scene is, in any language, when you know better than the video's own prompt (for example 'a forest stream at dawn')."),
        ] = None,
        output_format: Annotated[
            str,
            Field(description="Audio file format: wav (16-bit PCM), mp3 (192 kb/s), m4a (AAC 192 kb/s) or flac.", json_schema_extra={"enum": list(AUDIO_FORMATS)}),
        ] = "wav",
        sample_rate: Annotated[int, Field(description="Sample rate in Hz: 44100 or 48000.", json_schema_extra={"enum": list(SAMPLE_RATES)})] = 44100,
    ) -> Annotated[CallToolResult, VideoToAudioResult]:
        options = validate_options(
            audio_style=audio_style, include_sfx=include_sfx, volume=volume, seed=seed,
            description=description, output_format=output_format, sample_rate=sample_rate,
        )  # fmt: skip
        video_path = resolve_input_path(video_url, settings.input_roots, what="video_url")
        started = time.perf_counter()
        logger.info("video_to_audio %s style=%s seed=%d engine=%s", video_path.name, options.style, options.seed, engine.name)

        def work(progress: Progress) -> tuple[AudioRequest, AudioOutput, Path, float]:
            info = probe_video(video_path)
            analysis = analyse_video(video_path, info, _StageProgress(progress, 0.0, ANALYSIS_END))  # type: ignore[arg-type]
            scene = describe_scene(options.description, video_path, settings.input_roots)
            request = AudioRequest(
                analysis=analysis, scene=scene, style=options.style, include_sfx=options.include_sfx,
                volume=options.volume, seed=options.seed, sample_rate=options.sample_rate,
            )  # fmt: skip
            output = engine.generate(request, _StageProgress(progress, ANALYSIS_END, ENGINE_END))  # type: ignore[arg-type]
            progress.check_cancelled()
            with store.create(scene.text or source_label(video_path), f".{options.output_format}") as (temporary_path, final_path):
                duration = write_audio(temporary_path, output.samples, output.sample_rate, options.output_format)
            progress(PROGRESS_TOTAL, PROGRESS_TOTAL, f"wrote {final_path.name}")
            return request, output, final_path, duration

        request, output, final_path, duration = await run_engine(work, send_progress=ctx.report_progress, name="video_to_audio")
        elapsed = time.perf_counter() - started

        artifact = store.artifact_for(final_path)
        scene = request.scene
        analysis = request.analysis.summary()
        warnings = [*output.warnings, *_warnings(options, scene, duration, request.analysis.duration, output.sample_rate)]
        sound_elements = list(output.details.get("sound_elements", scene.elements))
        parameters = {
            "video_url": str(video_path),
            "audio_style": options.style,
            "include_sfx": options.include_sfx,
            "volume": options.volume,
            "description": options.description,
            "output_format": options.output_format,
            "sample_rate": options.sample_rate,
        }
        store.write_manifest(
            artifact.path,
            build_manifest(
                tool="video_to_audio", parameters=parameters, engine=engine.name, model=engine.model,
                seed=options.seed, parents=[str(video_path)], elapsed_seconds=elapsed,
                extra={
                    "prompt": output.prompt, "scene": scene.text, "scene_source": scene.source,
                    "provenance_chain": list(scene.provenance_chain), "analysis": analysis,
                    "duration": duration, "warnings": warnings, **output.details,
                },
            ),
        )  # fmt: skip
        result = VideoToAudioResult(
            **ArtifactResult.common_fields(
                artifact, engine=engine.name, model=engine.model, seed=options.seed, elapsed=elapsed, warnings=warnings
            ),
            duration=round(duration, 6),
            video_duration=round(request.analysis.duration, 6),
            sample_rate=output.sample_rate,
            channels=CHANNELS,
            style=options.style,
            output_format=options.output_format,
            include_sfx=options.include_sfx,
            volume=options.volume,
            prompt=output.prompt,
            scene=scene.text,
            scene_source=scene.source,
            sound_elements=sound_elements,
            analysis=analysis,
        )
        logger.info("video_to_audio wrote %s (%.3f s) in %.2f s", artifact.path, duration, elapsed)
        summary = (
            f"Generated a {duration:.2f} s {options.style} soundtrack with the {engine.name} engine "
            f"({', '.join(sound_elements) or 'music only'}): {artifact.path}"
        )
        return tool_result(result, summary=summary, artifact=artifact, mime_type=AUDIO_MIME_TYPES[f".{options.output_format}"])

    reject_unknown_arguments(server)
    return server
