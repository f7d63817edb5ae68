"""`reasoning-action mcp`: the whole workflow as one MCP tool, `run_workflow`.

An agent makes a finished video with sound in one call. The server drives the four stage
servers as the CLI does (stdio subprocesses by default, or the servers a config file
names), keeps them warm between calls, and reports the run's progress as MCP progress
notifications (0 to 100). Cancelling the call cancels the running stage call; the run can
be resumed by passing its `run_id` again.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field, ValidationError

from orchestrator.config import ConfigError, OrchestratorConfig
from orchestrator.connections import StageConnections, StageError
from orchestrator.manifest import RunNotFoundError
from orchestrator.models import (
    MAX_ITERATIONS,
    WorkflowConfig,
    WorkflowEvent,
    WorkflowRequest,
    WorkflowResult,
    describe_validation_error,
)
from orchestrator.workflow import run_workflow
from servers.shared import package_version
from servers.shared.strict_arguments import reject_unknown_arguments

__all__ = ["add_mcp_arguments", "build_workflow_server", "mcp_main"]

logger = logging.getLogger(__name__)

SERVER_NAME = "reasoning-action-workflow"
DEFAULT_PORT = 8100
TRANSPORTS = ("stdio", "sse", "streamable-http")

INSTRUCTIONS = """\
Makes a finished video with sound from one sentence (any language; Chinese and English
both work). Call run_workflow with a prompt and a number of 4-second segments; the result
names the final mp4 (`video_path`), the soundtrack, each segment, and a summary. A failed
or cancelled run continues where it stopped when you call run_workflow again with its
`run_id`."""


def build_workflow_server(config: OrchestratorConfig) -> MCPServer:
    """Create the workflow server; its stage connections open with the server and close with it."""
    holder: dict[str, StageConnections] = {}

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        async with StageConnections(config) as connections:
            holder["connections"] = connections
            try:
                yield None
            finally:
                holder.pop("connections", None)

    server = MCPServer(SERVER_NAME, version=package_version(), instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(
        name="run_workflow",
        description=(
            "Make a video with a soundtrack from a text prompt: one keyframe, `iterations` chained segments "
            "of `video_config.duration` seconds each (4 s by default, so 10 iterations give 40 s), a soundtrack "
            "scored from the video, all joined into one mp4. Returns `video_path` (the finished mp4), "
            "`audio_path`, `image_path`, `segment_paths`, `run_id`, `workflow_summary` (prompt, iterations, "
            "segments_count, total_duration_seconds, processing_steps), `enhancements` and `warnings`. "
            "Reports progress while it runs; a run takes from seconds (embedded engines) to hours (large models)."
        ),
    )
    async def run_workflow_tool(
        ctx: Context,
        prompt: Annotated[
            str | None, Field(description="What the video shows, in any language. Omit only when resuming with run_id.")
        ] = None,
        iterations: Annotated[
            int, Field(description=f"Number of chained segments: 1 to {MAX_ITERATIONS}.", ge=1, le=MAX_ITERATIONS)
        ] = 10,
        auto_enhance: Annotated[
            bool, Field(description="Enrich the image prompt with quality terms and keep colours from drifting over the chain.")
        ] = True,
        workflow_config: Annotated[
            WorkflowConfig | None,
            Field(
                description="Per-stage options: image_config (width, height, negative_prompt, guidance_scale, "
                "num_inference_steps, seed), video_config (fps, motion_scale, duration, transition_type), "
                "audio_config (audio_style, include_sfx, volume). Omitted values take their defaults."
            ),
        ] = None,
        run_id: Annotated[
            str | None,
            Field(description="Resume the run with this id (from an earlier result or error); its recorded request is used."),
        ] = None,
    ) -> Annotated[CallToolResult, WorkflowResult]:
        request = None
        if prompt is not None:
            try:
                request = WorkflowRequest(
                    prompt=prompt,
                    iterations=iterations,
                    auto_enhance=auto_enhance,
                    workflow_config=workflow_config or WorkflowConfig(),
                )
            except ValidationError as error:
                raise ToolError(f"invalid workflow: {describe_validation_error(error)}") from error
        elif run_id is None:
            raise ToolError("prompt is missing: describe the video, or pass the run_id of a run to resume")

        async def report(event: WorkflowEvent) -> None:
            await ctx.report_progress(round(event.progress * 100, 2), 100, event.message)

        connections = holder["connections"]
        try:
            result = await run_workflow(
                request, connections=connections, runs_dir=connections.config.runs_dir, run_id=run_id, on_event=report
            )
        except StageError as error:
            raise ToolError(f"{error.stage} failed: {error}") from error
        except (RunNotFoundError, ValueError) as error:
            raise ToolError(str(error)) from error

        summary = result.workflow_summary
        segments = f"{summary.segments_count} segment" + ("" if summary.segments_count == 1 else "s")
        text = f"Made a {summary.total_duration_seconds:.1f} s video with sound from {segments}: {result.video_path} (run {result.run_id})"
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result.model_dump(mode="json"))

    reject_unknown_arguments(server)
    return server


def add_mcp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=TRANSPORTS, default="stdio", help="MCP transport (default: stdio)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind for sse and streamable-http (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port for sse and streamable-http (default: {DEFAULT_PORT})")


def mcp_main(args: argparse.Namespace, load: Callable[[argparse.Namespace], OrchestratorConfig]) -> int:
    """Serve the workflow server with the config that `load` builds from `args`."""
    try:
        config = load(args)
    except (ConfigError, ValueError) as error:
        print(f"reasoning-action mcp: {error}", file=sys.stderr)
        return 2
    server = build_workflow_server(config)
    logger.info("Serving %s over %s; outputs in %s", SERVER_NAME, args.transport, config.output_dir)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run(args.transport, host=args.host, port=args.port)  # type: ignore[call-overload]
    return 0
