"""The `reasoning-action` command: run the workflow, serve it over MCP, or print host config.

    reasoning-action run "宁静的森林中流淌的溪水" --iterations 3
    reasoning-action run --resume 20261204-201500-3f9a2c
    reasoning-action mcp                       # the workflow as an MCP server (stdio)
    reasoning-action claude-config             # a claude_desktop_config.json block
    reasoning-action serve                     # HTTP API and web page

Progress goes to stderr; stdout carries only the result (a summary, or JSON with --json).
Exit status: 0 done, 1 a stage failed, 2 invalid input or config, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from pydantic import ValidationError

from orchestrator.config import STAGES, ConfigError, OrchestratorConfig, load_config, normalize_stage
from orchestrator.connections import StageConnections, StageError
from orchestrator.display import make_display
from orchestrator.manifest import RunNotFoundError, check_run_id, new_run_id
from orchestrator.models import AUDIO_STYLES, WorkflowRequest, WorkflowResult, describe_validation_error
from orchestrator.workflow import first_error, run_workflow

if sys.version_info < (3, 11):  # pragma: no cover - anyio installs the backport on 3.10.
    from exceptiongroup import BaseExceptionGroup

__all__ = ["build_parser", "main", "request_from_args", "config_from_args"]

logger = logging.getLogger(__name__)

EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("servers")
    group.add_argument("--config", type=Path, help="TOML file with per-stage servers, engines, models and timeouts")
    group.add_argument("--output-dir", type=Path, help="folder for all outputs and run folders (default: ./outputs)")
    group.add_argument(
        "--engine",
        action="append",
        default=[],
        metavar="STAGE=NAME",
        help="engine of one stage, for example image2video=diffusers; repeat for several stages",
    )
    group.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="STAGE=MODEL",
        help="model of one stage's diffusers engine: a hub id or a local folder; repeat for several stages",
    )
    group.add_argument("--log-level", default="WARNING", help="log level of the orchestrator on stderr (default: WARNING)")


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", nargs="?", help="what the video shows, in any language")
    parser.add_argument("--request", type=Path, help="JSON file with a whole workflow request (the /api/workflow body)")
    parser.add_argument("--iterations", type=int, help="number of chained segments, 1 to 20 (default: 10)")
    parser.add_argument(
        "--auto-enhance",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="enrich the image prompt and keep colours from drifting (default: on)",
    )
    image = parser.add_argument_group("keyframe")
    image.add_argument("--width", type=int, help="width in pixels, 64 to 2048, a multiple of 8 (default: 1024)")
    image.add_argument("--height", type=int, help="height in pixels, 64 to 2048, a multiple of 8 (default: 768)")
    image.add_argument("--negative-prompt", help="what the keyframe must not show")
    image.add_argument("--guidance-scale", type=float, help="guidance of diffusers engines, 0 to 30 (default: 7.5)")
    image.add_argument("--steps", type=int, dest="num_inference_steps", help="denoising steps of diffusers engines (default: 50)")
    image.add_argument("--seed", type=int, help="seed of the whole run (default: random, reported)")
    video = parser.add_argument_group("segments")
    video.add_argument("--fps", type=int, help="frames per second, 1 to 60 (default: 30)")
    video.add_argument("--duration", type=float, help="seconds per segment, 0.5 to 30 (default: 4)")
    video.add_argument("--motion-scale", type=float, help="amount of camera motion, 0 to 5 (default: 1.5)")
    video.add_argument("--transition", dest="transition_type", choices=("fade", "none"), help="fade in and out of the whole video (default: fade)")
    audio = parser.add_argument_group("soundtrack")
    audio.add_argument("--audio-style", help=f"soundtrack style: {', '.join(AUDIO_STYLES)} (default: cinematic)")
    audio.add_argument("--sfx", dest="include_sfx", action=argparse.BooleanOptionalAction, default=None, help="effects on visible events (default: on)")
    audio.add_argument("--volume", type=float, help="soundtrack loudness, 0 to 1 (default: 0.8)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasoning-action",
        description="Turn a sentence into a finished video with sound by driving the four MCP servers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,mcp,claude-config,serve}")

    run = commands.add_parser("run", help="run the workflow and print the finished file and a summary")
    _add_request_options(run)
    _add_connection_options(run)
    run.add_argument("--resume", metavar="RUN_ID", help="continue a failed or interrupted run without redoing finished steps")
    run.add_argument("--run-id", help="id of a new run (default: date, time and a random suffix)")
    run.add_argument(
        "--overlap",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="score soundtrack windows while later segments render (default: on with 4 or more CPU cores or a diffusers image2video engine)",
    )
    run.add_argument("--json", action="store_true", help="print the result object as JSON instead of a summary")
    run.add_argument("--quiet", action="store_true", help="no progress display")

    from orchestrator.mcp_server import add_mcp_arguments
    from orchestrator.claude_config import add_claude_config_arguments

    mcp = commands.add_parser("mcp", help="serve the workflow as an MCP server (tool run_workflow)")
    _add_connection_options(mcp)
    add_mcp_arguments(mcp)

    claude = commands.add_parser("claude-config", help="print a claude_desktop_config.json block for all five servers")
    add_claude_config_arguments(claude)

    serve = commands.add_parser("serve", help="serve the HTTP API and the web page")
    _add_serve_arguments(serve)
    return parser


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    try:
        from orchestrator.web.cli import add_serve_arguments
    except ImportError:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        return
    add_serve_arguments(parser)


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        stage, separator, name = value.partition("=")
        if not separator or not name:
            raise ConfigError(f"{option} {value!r} is invalid: write STAGE=VALUE, for example {option} image2video=motion")
        pairs[normalize_stage(stage)] = name
    return pairs


def config_from_args(args: argparse.Namespace) -> OrchestratorConfig:
    """Load the config file and apply the command-line overrides."""
    config = load_config(args.config)
    config = config.with_overrides(output_dir=args.output_dir, overlap=getattr(args, "overlap", None))
    engines = _pairs(args.engine, "--engine")
    models = _pairs(args.model, "--model")
    for stage in STAGES:
        if stage in engines or stage in models:
            config = config.with_stage(stage, engine=engines.get(stage), model=models.get(stage))
    return config


def request_from_args(args: argparse.Namespace) -> WorkflowRequest:
    """Build the workflow request from --request and the options; options win over the file."""
    body: dict[str, Any] = {}
    if args.request is not None:
        try:
            body = json.loads(args.request.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read the request file {args.request}: {error}") from error
    body.setdefault("workflow_config", {})
    sections = {
        "image_config": ("width", "height", "negative_prompt", "guidance_scale", "num_inference_steps", "seed"),
        "video_config": ("fps", "duration", "motion_scale", "transition_type"),
        "audio_config": ("audio_style", "include_sfx", "volume"),
    }
    for section, names in sections.items():
        values = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
        if values:
            body["workflow_config"].setdefault(section, {}).update(values)
    for name in ("prompt", "iterations", "auto_enhance"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    return WorkflowRequest.model_validate(body)


def _print_summary(result: WorkflowResult) -> None:
    summary = result.workflow_summary
    print(f"video:     {result.video_path}")
    print(f"audio:     {result.audio_path}")
    print(f"run id:    {result.run_id} (manifest {result.manifest_path})")
    print(f"prompt:    {summary.prompt}")
    print(f"segments:  {summary.segments_count} of {summary.iterations}, {summary.total_duration_seconds:.3f} s in total")
    print(f"elapsed:   {result.elapsed_seconds:.1f} s")
    print("steps:")
    for step in summary.processing_steps:
        print(f"  - {step}")
    for warning in result.warnings:
        print(f"warning: {warning}")


async def _workflow(config: OrchestratorConfig, request: WorkflowRequest | None, run_id: str, quiet: bool) -> WorkflowResult:
    display = None if quiet else make_display(sys.stderr)
    async with StageConnections(config) as connections:
        if display is None:
            return await run_workflow(request, connections=connections, runs_dir=config.runs_dir, run_id=run_id)
        with display:
            return await run_workflow(request, connections=connections, runs_dir=config.runs_dir, run_id=run_id, on_event=display)


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for number in signals:
            logger.info("Received signal %d; stopping the run", number)
            scope.cancel()
            return


async def _run(config: OrchestratorConfig, request: WorkflowRequest | None, run_id: str, quiet: bool) -> WorkflowResult:
    """Run the workflow; Ctrl-C or SIGTERM cancels it cleanly (manifest marked, servers stopped)."""
    # The signal receiver turns Ctrl-C into an anyio cancellation of the run, which every
    # layer handles, instead of asyncio's one-shot cancel of the main task.
    with anyio.CancelScope() as run_scope:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_signal, run_scope)
                result = await _workflow(config, request, run_id, quiet)
                group.cancel_scope.cancel()
        except BaseExceptionGroup as errors:
            raise first_error(errors) from None
        return result
    raise KeyboardInterrupt


def _command_run(args: argparse.Namespace) -> int:
    if args.resume and (args.prompt is not None or args.request is not None):
        print(
            f"reasoning-action: --resume {args.resume} continues a recorded run with its own prompt and options: "
            "drop the prompt and --request, or start a new run without --resume",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        config = config_from_args(args)
        for run_id_option in (args.resume, args.run_id):
            if run_id_option is not None:
                check_run_id(run_id_option)
        request = None if args.resume else request_from_args(args)
    except ValidationError as error:
        print(f"reasoning-action: invalid workflow: {describe_validation_error(error)}", file=sys.stderr)
        return EXIT_INVALID
    except (ConfigError, ValueError) as error:
        print(f"reasoning-action: {error}", file=sys.stderr)
        return EXIT_INVALID

    run_id = args.resume or args.run_id or new_run_id()
    resume_hint = f"continue with: reasoning-action run --resume {run_id}"
    if args.output_dir is not None:
        resume_hint += f" --output-dir {args.output_dir}"
    try:
        result = anyio.run(_run, config, request, run_id, args.quiet)
    except KeyboardInterrupt:
        print(f"reasoning-action: interrupted; {resume_hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RunNotFoundError as error:
        print(f"reasoning-action: {error}", file=sys.stderr)
        return EXIT_INVALID
    except StageError as error:
        print(f"reasoning-action: {error.stage} failed: {error}; {resume_hint}", file=sys.stderr)
        return EXIT_FAILED

    if args.json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        _print_summary(result)
    return 0


def _command_serve(args: argparse.Namespace) -> int:
    try:
        from orchestrator.web.cli import serve_main
    except ImportError as error:
        print(f"reasoning-action: the web service is not available ({error})", file=sys.stderr)
        return EXIT_FAILED
    return int(serve_main(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `reasoning-action` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", "WARNING")
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, str(level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip

    if args.command == "run":
        return _command_run(args)
    if args.command == "mcp":
        from orchestrator.mcp_server import mcp_main

        return mcp_main(args, config_from_args)
    if args.command == "claude-config":
        from orchestrator.claude_config import claude_config_main

        return claude_config_main(args)
    return _command_serve(args)
