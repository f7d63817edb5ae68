"""The text2image MCP server and its tool `text_to_image`."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from servers.shared import package_version
from servers.shared.artifacts import ArtifactStore
from servers.shared.errors import InvalidInputError
from servers.shared.resources import register_artifact_resources
from servers.shared.results import ArtifactResult, build_manifest, png_thumbnail, tool_result
from servers.shared.settings import Settings
from servers.shared.strict_arguments import reject_unknown_arguments
from servers.shared.validation import check_range, check_seed, check_size, check_text
from servers.shared.worker import Progress, run_engine
from servers.text2image.engines import ImageOutput, ImageRequest, TextToImageEngine, create_engine

__all__ = ["build_server", "TextToImageResult", "validate_request"]

logger = logging.getLogger(__name__)

SERVER_NAME = "reasoning-action-text2image"
RESOURCE_PREFIX = "artifact://text2image/"
MAX_PROMPT_CHARS = 4000
MAX_STEPS = 150
MAX_GUIDANCE = 30.0

INSTRUCTIONS = """\
Turns a text prompt (any language; Chinese and English both work) into a PNG image.
Call text_to_image; the result names the file as `path` and `uri`, includes a small
inline preview, and links the full image as an MCP resource. Pass the returned `path`
to the image2video server's image_to_video tool to animate it."""


class TextToImageResult(ArtifactResult):
    """Result of `text_to_image`."""

    width: int = Field(description="Image width in pixels.")
    height: int = Field(description="Image height in pixels.")
    prompt: str = Field(description="Prompt the image was generated from.")


def validate_request(
    *,
    prompt: str,
    negative_prompt: str | None,
    width: int,
    height: int,
    guidance_scale: float,
    num_inference_steps: int,
    seed: int | None,
) -> ImageRequest:
    """Check every parameter and return the request; a missing seed is drawn at random."""
    prompt = check_text("prompt", prompt, max_chars=MAX_PROMPT_CHARS)
    if negative_prompt is not None and not negative_prompt.strip():
        negative_prompt = None
    if negative_prompt is not None and len(negative_prompt) > MAX_PROMPT_CHARS:
        raise InvalidInputError(f"negative_prompt has {len(negative_prompt)} characters: shorten it to at most {MAX_PROMPT_CHARS}")
    check_size("width", width)
    check_size("height", height)
    check_range("guidance_scale", guidance_scale, 0.0, MAX_GUIDANCE, hint="typical values are 1-12; 0 for turbo models")
    check_range("num_inference_steps", num_inference_steps, 1, MAX_STEPS, hint="typical values are 20-50; 1-4 for turbo models")
    if seed is None:
        seed = secrets.randbelow(2**31)
    check_seed(seed)
    return ImageRequest(
        prompt=prompt,
        negative_prompt=negative_prompt,
        width=width,
        height=height,
        guidance_scale=float(guidance_scale),
        num_inference_steps=int(num_inference_steps),
        seed=seed,
    )


def build_server(settings: Settings, *, engine: TextToImageEngine | None = None) -> MCPServer:
    """Create the text2image server; `engine` overrides the one `settings` selects."""
    engine = engine or create_engine(settings)
    store = ArtifactStore(settings.output_dir, kind="images", resource_prefix=RESOURCE_PREFIX)
    server = MCPServer(SERVER_NAME, version=package_version(), instructions=INSTRUCTIONS)
    register_artifact_resources(server, store, {".png": "image/png"})

    @server.tool(
        name="text_to_image",
        description=(
            "Generate an image from a text prompt and save it as PNG. Returns the file's `path` and "
            "`uri`, its size, the seed (reuse it to reproduce the image), the engine and model used, "
            "warnings (for example a prompt longer than the model reads), a preview at most 512 px on "
            "its long side, and a resource link to the full image."
        ),
    )
    async def text_to_image(
        ctx: Context,
        prompt: Annotated[str, Field(description="What the image shows, in any language (Chinese and English work).")],
        negative_prompt: Annotated[
            str | None, Field(description="What the image must not show. Ignored by engines without guidance.")
        ] = None,
        width: Annotated[int, Field(description="Width in pixels: 64 to 2048, a multiple of 8.")] = 1024,
        height: Annotated[int, Field(description="Height in pixels: 64 to 2048, a multiple of 8.")] = 768,
        guidance_scale: Annotated[
            float, Field(description="How strictly the image follows the prompt: 0 to 30 (classifier-free guidance).")
        ] = 7.5,
        num_inference_steps: Annotated[
            int, Field(description="Denoising steps: 1 to 150. More steps are slower and usually finer.")
        ] = 50,
        seed: Annotated[
            int | None, Field(description="Random seed 0 to 4294967295; omitted means random. The result reports it.")
        ] = None,
    ) -> Annotated[CallToolResult, TextToImageResult]:
        request = validate_request(
            prompt=prompt,
            negative_prompt=negative_prompt,
            width=width,
            height=height,
            guidance_scale=guidance_scale,
            num_inference_steps=num_inference_steps,
            seed=seed,
        )
        started = time.perf_counter()
        logger.info("text_to_image %dx%d seed=%d engine=%s", request.width, request.height, request.seed, engine.name)

        def work(progress: Progress) -> tuple[ImageOutput, object]:
            with store.create(request.prompt, ".png") as (temporary_path, final_path):
                output = engine.generate(request, progress)
                progress.check_cancelled()
                output.image.save(temporary_path, format="PNG")
            return output, final_path

        output, final_path = await run_engine(work, send_progress=ctx.report_progress, name="text_to_image")
        elapsed = time.perf_counter() - started

        artifact = store.artifact_for(final_path)  # type: ignore[arg-type]
        parameters = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "guidance_scale": request.guidance_scale,
            "num_inference_steps": request.num_inference_steps,
        }
        store.write_manifest(
            artifact.path,
            build_manifest(
                tool="text_to_image",
                parameters=parameters,
                engine=engine.name,
                model=engine.model,
                seed=request.seed,
                elapsed_seconds=elapsed,
                extra={"prompt": request.prompt, "warnings": output.warnings, **output.details},
            ),
        )
        result = TextToImageResult(
            **ArtifactResult.common_fields(
                artifact, engine=engine.name, model=engine.model, seed=request.seed, elapsed=elapsed, warnings=output.warnings
            ),
            width=output.image.width,
            height=output.image.height,
            prompt=request.prompt,
        )
        logger.info("text_to_image wrote %s in %.2f s", artifact.path, elapsed)
        summary = f"Generated a {result.width}x{result.height} image with the {engine.name} engine: {artifact.path}"
        return tool_result(
            result,
            summary=summary,
            artifact=artifact,
            mime_type="image/png",
            thumbnail_png=png_thumbnail(output.image),
        )

    reject_unknown_arguments(server)
    return server

