"""The image2video MCP server and its tool `image_to_video`.

Chaining contract: a segment has exactly `round(duration * fps)` frames, covering the
times `0, 1/fps, ..., (n - 1)/fps`. Its `next_frame_path` is a lossless PNG of the frame at
time `n/fps`, the one that would come next. Passed as `image_url` of the next call, that
PNG becomes the next segment's first frame, so no frame is shown twice. The PNG's manifest
carries the engine's state (the motion engine's camera path), so the motion continues
with the same velocity.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from PIL import Image
from mcp.types import CallToolResult
from pydantic import Field

from servers.image2video.engines import ImageToVideoEngine, VideoOutput, VideoRequest, create_engine
from servers.image2video.transitions import FadeWriter, TransitionType, fade_frame_count
from servers.shared import package_version
from servers.shared.artifacts import ArtifactStore, read_manifest, resolve_input_path
from servers.shared.errors import InvalidInputError
from servers.shared.frames import load_rgb_image, pixel_sha256, save_png
from servers.shared.media import VideoEncoder
from servers.shared.resources import register_artifact_resources
from servers.shared.results import ArtifactResult, build_manifest, png_thumbnail, tool_result
from servers.shared.settings import Settings
from servers.shared.strict_arguments import reject_unknown_arguments
from servers.shared.validation import check_range, check_seed, check_text
from servers.shared.worker import Progress, run_engine

__all__ = ["ImageToVideoResult", "build_server", "frame_count_for"]

logger = logging.getLogger(__name__)

SERVER_NAME = "reasoning-action-image2video"
RESOURCE_PREFIX = "artifact://image2video/"
TOOL_NAME = "image_to_video"
MIN_DURATION, MAX_DURATION = 0.5, 30.0
MIN_FPS, MAX_FPS = 1.0, 60.0
MAX_MOTION_SCALE = 5.0
MAX_PROMPT_CHARS = 2000
MAX_STEPS = 150
PREVIEW_MAX_SIDE = 256  # The inline preview of the next frame; the full frame is next_frame_path.

INSTRUCTIONS = """\
Animates a still image (PNG, JPEG, WebP) into an H.264 mp4 segment. Call image_to_video
with the image's path; the result names the video (`path`) and `next_frame_path`, a PNG of
the frame that follows the segment's last one. To make a longer video, pass
`next_frame_path` as `image_url` of the next call: N chained segments last exactly
N x duration seconds, with no jump and no repeated frame at the boundaries. Mark the final
call with last_segment=true to ease the camera to rest (and fade out with
transition_type="fade")."""


class ImageToVideoResult(ArtifactResult):
    """Result of `image_to_video`."""

    frames: int = Field(description="Number of frames in the video: round(duration x fps).")
    fps: float = Field(description="Frames per second of the video.")
    duration: float = Field(description="Exact length of the video in seconds: frames / fps.")
    width: int = Field(description="Video width in pixels (even).")
    height: int = Field(description="Video height in pixels (even).")
    next_frame_path: str = Field(
        description="Lossless PNG of the frame after the last one: pass it as image_url of the next segment."
    )
    next_frame_uri: str = Field(description="file:// URI of next_frame_path.")
    transition_type: str = Field(description="Edge treatment that was applied: fade or none.")
    faded_in: bool = Field(description="Whether the segment fades in from black (fade at a chain start).")
    faded_out: bool = Field(description="Whether the segment fades out to black (fade on the last segment).")
    chain_id: str = Field(description="Identifier shared by all segments chained from the same first image.")
    segment_index: int = Field(description="Position of this segment in its chain, starting at 0.")
    chain_start_seconds: float = Field(description="Time in the chained video at which this segment starts.")
    start_colour_edit_psnr: float | None = Field(
        default=None,
        description=(
            "When image_url is the previous segment's next frame with its colours edited: how closely a per-channel "
            "gain and offset reproduce the edit, in dB (100 for an exact fit; below 40 comes with a warning). Every "
            "frame then carries the same edit. Null otherwise."
        ),
    )


@dataclass(frozen=True, kw_only=True)
class _Parameters:
    motion_scale: float
    fps: float
    frame_count: int
    transition_type: str
    last_segment: bool
    seed: int
    prompt: str | None
    num_inference_steps: int | None


def frame_count_for(duration: float, fps: float) -> int:
    """Return round(duration x fps), rounding halves up (Python's round() rounds them to even)."""
    return math.floor(duration * fps + 0.5)


def _rounding_warnings(duration: float, fps: float, frame_count: int) -> list[str]:
    """Return a warning when whole frames change the requested duration by more than 1 %, as 0.5 s at 1 fps does."""
    actual = frame_count / fps
    if abs(actual - duration) <= 0.01 * duration:
        return []
    return [
        f"duration {duration:g} s is not a whole number of frames at {fps:g} fps: the video has {frame_count} "
        f"frame{'s' if frame_count != 1 else ''} ({actual:.3f} s)"
    ]


def _validate(
    *,
    motion_scale: float,
    fps: float,
    duration: float,
    transition_type: str,
    last_segment: bool,
    seed: int | None,
    prompt: str | None,
    num_inference_steps: int | None,
) -> _Parameters:
    check_range("motion_scale", motion_scale, 0.0, MAX_MOTION_SCALE, hint="0 is a still camera, 1.5 the default")
    check_range("fps", fps, MIN_FPS, MAX_FPS, hint="24, 25 or 30 are usual")
    check_range("duration", duration, MIN_DURATION, MAX_DURATION, hint="seconds; chain several segments for longer videos")
    frame_count = frame_count_for(duration, fps)
    if frame_count < 1:
        raise InvalidInputError(f"duration {duration} s at {fps} fps gives no frame: raise duration or fps")
    if prompt is not None:
        prompt = check_text("prompt", prompt, max_chars=MAX_PROMPT_CHARS) if prompt.strip() else None
    if num_inference_steps is not None:
        check_range("num_inference_steps", num_inference_steps, 1, MAX_STEPS, hint="or omit it for the model's default")
    if seed is None:
        seed = secrets.randbelow(2**31)
    check_seed(seed)
    return _Parameters(
        motion_scale=float(motion_scale),
        fps=float(fps),
        frame_count=frame_count,
        transition_type=transition_type,
        last_segment=bool(last_segment),
        seed=seed,
        prompt=prompt,
        num_inference_steps=num_inference_steps,
    )


def _continuation_of(image_path: Path) -> dict[str, Any] | None:
    """Return the chain record stored beside `image_path` when it is a segment's next frame."""
    manifest = read_manifest(image_path)
    if not manifest or manifest.get("tool") != TOOL_NAME:
        return None
    record = manifest.get("continuation")
    return record if isinstance(record, dict) else None


def _chain_record(
    request: VideoRequest, output: VideoOutput, engine: ImageToVideoEngine, *, chain_id: str, segment_index: int, chain_start: float
) -> dict[str, Any]:
    """Build the record stored with the next frame, read back by the next segment."""
    return {
        "engine": engine.name,
        "model": engine.model,
        "chain_id": chain_id,
        "segment_index": segment_index + 1,
        "chain_time": round(chain_start + request.duration, 9),
        "fps": request.fps,
        "width": request.width,
        "height": request.height,
        "frame_sha256": pixel_sha256(output.next_frame),
        **output.chain_state,
    }


def build_server(settings: Settings, *, engine: ImageToVideoEngine | None = None) -> MCPServer:
    """Create the image2video server; `engine` overrides the one `settings` selects."""
    engine = engine or create_engine(settings)
    store = ArtifactStore(settings.output_dir, kind="videos", resource_prefix=RESOURCE_PREFIX)
    server = MCPServer(SERVER_NAME, version=package_version(), instructions=INSTRUCTIONS)
    register_artifact_resources(server, store, {".mp4": "video/mp4", ".png": "image/png"})

    @server.tool(
        name=TOOL_NAME,
        description=(
            "Animate a still image into an H.264 mp4 video segment. Returns the video's `path` and `uri`, "
            "frames, fps, exact duration, size, seed, engine, model, warnings (for example an odd size that was "
            "cropped to even), and `next_frame_path`: a PNG of the frame after the last one. Pass it as "
            "`image_url` of the next call to continue the motion seamlessly; chained segments never repeat a frame."
        ),
    )
    async def image_to_video(
        ctx: Context,
        image_url: Annotated[
            str,
            Field(description="Start image: a path or file:// URI inside the server's allowed folders (PNG, JPEG, WebP; at most 4096 px a side)."),
        ],
        motion_scale: Annotated[
            float, Field(description="Amount of motion, 0 to 5: 0 keeps the camera still, 1.5 is a gentle move.")
        ] = 1.5,
        fps: Annotated[float, Field(description="Frames per second, 1 to 60.")] = 30.0,
        duration: Annotated[
            float, Field(description="Segment length in seconds, 0.5 to 30; the video has round(duration x fps) frames.")
        ] = 4.0,
        transition_type: Annotated[
            TransitionType,
            Field(
                description=(
                    "'fade': fade in from black when the image does not continue a previous segment, and fade out "
                    "to black when last_segment is true; segments in the middle of a chain are never faded. "
                    "'none': no fades."
                )
            ),
        ] = "fade",
        last_segment: Annotated[
            bool,
            Field(description="True for the final segment of a video: the camera eases to rest, and 'fade' fades out."),
        ] = False,
        seed: Annotated[
            int | None,
            Field(description="Random seed 0 to 4294967295 choosing the motion; omitted means random. The result reports it."),
        ] = None,
        prompt: Annotated[
            str | None,
            Field(description="What should happen in the video, for engines that read text (diffusers LTX, Wan, CogVideoX); any language."),
        ] = None,
        num_inference_steps: Annotated[
            int | None, Field(description="Denoising steps for the diffusers engine, 1 to 150; omitted means the model's default.")
        ] = None,
    ) -> Annotated[CallToolResult, ImageToVideoResult]:
        parameters = _validate(
            motion_scale=motion_scale,
            fps=fps,
            duration=duration,
            transition_type=transition_type,
            last_segment=last_segment,
            seed=seed,
            prompt=prompt,
            num_inference_steps=num_inference_steps,
        )

        image_path = resolve_input_path(image_url, settings.input_roots, what="image_url")
        loaded = load_rgb_image(image_path, what="image_url")
        continuation = _continuation_of(image_path)
        request = VideoRequest(
            image_path=image_path,
            image=loaded,
            motion_scale=parameters.motion_scale,
            fps=parameters.fps,
            frame_count=parameters.frame_count,
            seed=parameters.seed,
            prompt=parameters.prompt,
            num_inference_steps=parameters.num_inference_steps,
            last_segment=parameters.last_segment,
            continuation=continuation,
            input_roots=settings.input_roots,
        )
        chain_id = str((continuation or {}).get("chain_id") or uuid.uuid4().hex)
        segment_index = int((continuation or {}).get("segment_index", 0))
        chain_start = float((continuation or {}).get("chain_time", 0.0))
        fade_in = parameters.transition_type == "fade" and continuation is None
        fade_out = parameters.transition_type == "fade" and parameters.last_segment
        started = time.perf_counter()
        logger.info(
            "image_to_video %s %dx%d %d frames at %g fps seed=%d engine=%s chain=%s segment=%d",
            image_path.name, request.width, request.height, request.frame_count, request.fps,
            request.seed, engine.name, chain_id, segment_index,
        )  # fmt: skip

        hint = f"s{segment_index:03d}-{parameters.prompt or 'segment'}"

        def work(progress: Progress) -> tuple[VideoOutput, Path, Path]:
            with store.create(hint, ".mp4") as (video_temporary, video_final):
                pixel_format = getattr(engine, "pixel_format", "rgb24")
                with VideoEncoder(
                    video_temporary, width=request.width, height=request.height, fps=request.fps, pixel_format=pixel_format
                ) as encoder:
                    writer = FadeWriter(
                        encoder.write,
                        frame_count=request.frame_count,
                        fade_frames=fade_frame_count(request.frame_count, request.fps),
                        fade_in=fade_in,
                        fade_out=fade_out,
                        pixel_format=pixel_format,
                    )
                    output = engine.render(request, writer, progress)
                    progress.check_cancelled()
                if encoder.frames_written != request.frame_count:
                    raise RuntimeError(f"{engine.name} wrote {encoder.frames_written} frames instead of {request.frame_count}")
                with store.create(f"{hint}-next", ".png") as (frame_temporary, frame_final):
                    save_png(output.next_frame, frame_temporary)
            return output, video_final, frame_final

        output, video_path, frame_path = await run_engine(work, send_progress=ctx.report_progress, name=TOOL_NAME)
        elapsed = time.perf_counter() - started

        warnings = [*loaded.warnings, *_rounding_warnings(duration, request.fps, request.frame_count), *output.warnings]
        video = store.artifact_for(video_path)
        next_frame = store.artifact_for(frame_path)
        recorded_parameters = {
            "image_url": str(image_path),
            "motion_scale": request.motion_scale,
            "fps": request.fps,
            "duration": request.duration,
            "transition_type": parameters.transition_type,
            "last_segment": request.last_segment,
            "prompt": request.prompt,
            "num_inference_steps": request.num_inference_steps,
        }
        chain = {"chain_id": chain_id, "segment_index": segment_index, "chain_start_seconds": chain_start}

        def manifest(parents: list[str], extra: dict[str, Any]) -> dict[str, Any]:
            return build_manifest(
                tool=TOOL_NAME,
                parameters=recorded_parameters,
                engine=engine.name,
                model=engine.model,
                seed=request.seed,
                parents=parents,
                elapsed_seconds=elapsed,
                extra=extra,
            )

        video_extra = {
            "frames": request.frame_count,
            "next_frame_path": str(next_frame.path),
            "warnings": warnings,
            "chain": chain,
            **output.details,
        }
        record = _chain_record(request, output, engine, chain_id=chain_id, segment_index=segment_index, chain_start=chain_start)
        store.write_manifest(video.path, manifest([str(image_path)], video_extra))
        store.write_manifest(next_frame.path, manifest([str(video.path)], {"continuation": record}))

        result = ImageToVideoResult(
            **ArtifactResult.common_fields(
                video, engine=engine.name, model=engine.model, seed=request.seed, elapsed=elapsed, warnings=warnings
            ),
            frames=request.frame_count,
            fps=request.fps,
            duration=request.duration,
            width=request.width,
            height=request.height,
            next_frame_path=str(next_frame.path),
            next_frame_uri=next_frame.uri,
            transition_type=parameters.transition_type,
            faded_in=fade_in,
            faded_out=fade_out,
            start_colour_edit_psnr=output.details.get("start_colour_edit_psnr"),
            **chain,
        )
        logger.info("image_to_video wrote %s (%d frames) in %.2f s", video.path, request.frame_count, elapsed)
        summary = (
            f"Rendered {request.frame_count} frames ({request.duration:g} s at {request.fps:g} fps, "
            f"{request.width}x{request.height}) with the {engine.name} engine: {video.path}. "
            f"Continue from {next_frame.path}."
        )
        return tool_result(
            result,
            summary=summary,
            artifact=video,
            mime_type="video/mp4",
            thumbnail_png=png_thumbnail(_preview(output), max_side=PREVIEW_MAX_SIDE),
        )

    reject_unknown_arguments(server)
    return server


def _preview(output: VideoOutput) -> Image.Image:
    return Image.fromarray(output.next_frame)
