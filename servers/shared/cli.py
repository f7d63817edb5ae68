"""The command line every server shares: serve over a transport, or call one tool locally.

    reasoning-action-text2image                          # serve over stdio
    reasoning-action-text2image --transport streamable-http --port 8101
    reasoning-action-text2image call text_to_image prompt="宁静的森林中流淌的溪水" width=512 height=384

`call` runs the tool through an in-memory MCP session, prints progress to stderr and the
structured result as JSON to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer

from servers.shared.errors import ReasoningActionError
from servers.shared.settings import DEVICES, DTYPES, Settings

__all__ = ["server_main", "parse_tool_arguments", "configure_logging"]

logger = logging.getLogger(__name__)

TRANSPORTS = ("stdio", "sse", "streamable-http")
DEFAULT_HOST = "127.0.0.1"


def configure_logging(level: str) -> None:
    """Send log records to stderr, because stdout carries the MCP stdio transport."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )


def parse_tool_arguments(pairs: Sequence[str]) -> dict[str, Any]:
    """Turn `key=value` pairs into tool arguments; values that parse as JSON keep their type."""
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"invalid tool argument {pair!r}: write it as key=value, for example width=512")
        try:
            arguments[key] = json.loads(value)
        except ValueError:
            arguments[key] = value
    return arguments


def _port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: use a number from 1 to 65535") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"invalid port {port}: use a number from 1 to 65535")
    return port


def _add_settings_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    suppress = argparse.SUPPRESS
    parser.add_argument("--transport", choices=TRANSPORTS, default=suppress, help="MCP transport (default: stdio)")
    parser.add_argument("--host", default=suppress, help=f"address to bind for sse and streamable-http (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port_number, default=suppress, help=f"port for sse and streamable-http (default: {default_port})")
    parser.add_argument("--engine", default=suppress, help="engine to use (see the tool description for the list)")
    parser.add_argument("--model", default=suppress, help="model for the diffusers engine: a hub id or a local folder")
    parser.add_argument("--output-dir", default=suppress, help="folder for outputs (env REASONING_ACTION_OUTPUT_DIR, default ./outputs)")
    parser.add_argument(
        "--input-root",
        action="append",
        default=suppress,
        help="extra folder whose files tools may read; repeat for several (env REASONING_ACTION_INPUT_ROOTS)",
    )
    parser.add_argument("--device", choices=DEVICES, default=suppress, help="torch device for diffusers engines (default: auto)")
    parser.add_argument("--dtype", choices=DTYPES, default=suppress, help="torch dtype for diffusers engines (default: auto)")
    parser.add_argument("--log-level", default=suppress, help="logging level on stderr (default: INFO)")


def _build_parser(prog: str, description: str, default_port: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    _add_settings_options(parser, default_port)
    commands = parser.add_subparsers(dest="command", metavar="{serve,call}")

    serve = commands.add_parser("serve", help="serve the MCP tools (the default)")
    _add_settings_options(serve, default_port)

    call = commands.add_parser("call", help="call one tool in-process and print its result as JSON")
    _add_settings_options(call, default_port)
    call.add_argument("tool", help="tool name, for example text_to_image")
    call.add_argument("arguments", nargs="*", metavar="key=value", help="tool arguments; JSON values keep their type")
    return parser


def _settings_from_args(stage: str, args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        stage,
        output_dir=getattr(args, "output_dir", None),
        input_roots=getattr(args, "input_root", None),
        engine=getattr(args, "engine", None),
        model=getattr(args, "model", None),
        device=getattr(args, "device", None),
        dtype=getattr(args, "dtype", None),
        log_level=getattr(args, "log_level", None),
    )


async def _call_tool(server: MCPServer, tool: str, arguments: dict[str, Any]) -> int:
    async def show_progress(done: float, total: float | None, message: str | None) -> None:
        share = f"{done:g}/{total:g}" if total else f"{done:g}"
        print(f"[{share}] {message or ''}", file=sys.stderr, flush=True)

    async with Client(server) as client:
        result = await client.call_tool(tool, arguments, progress_callback=show_progress)

    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        print(text or f"{tool} failed", file=sys.stderr)
        return 1
    print(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    return 0


def server_main(
    stage: str,
    build_server: Callable[[Settings], MCPServer],
    *,
    description: str,
    default_port: int,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse the command line, then serve `build_server(settings)` or call one of its tools."""
    prog = f"reasoning-action-{stage.replace('_', '-')}"
    args = _build_parser(prog, description, default_port).parse_args(argv)
    try:
        settings = _settings_from_args(stage, args)
        configure_logging(settings.log_level)
        settings.ensure_output_dir()
        server = build_server(settings)
    except ReasoningActionError as error:
        logger.error("%s cannot start: %s", prog, error)
        return 2

    if args.command == "call":
        return anyio.run(_call_tool, server, args.tool, parse_tool_arguments(args.arguments))

    transport = getattr(args, "transport", "stdio")
    logger.info("Serving %s over %s; outputs in %s", prog, transport, settings.output_dir)
    if transport == "stdio":
        server.run("stdio")
    else:
        host = getattr(args, "host", DEFAULT_HOST)
        port = getattr(args, "port", default_port)
        server.run(transport, host=host, port=port)  # type: ignore[call-overload]
    return 0
