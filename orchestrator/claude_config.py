"""`reasoning-action claude-config`: a ready `claude_desktop_config.json` block.

Every command and folder is an absolute path, because Claude Desktop starts servers from
its own working directory with a minimal environment. Paste the printed `mcpServers`
entries into the host's config file (on macOS
`~/Library/Application Support/Claude/claude_desktop_config.json`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from orchestrator.config import STAGES
from servers.shared.settings import DEFAULT_OUTPUT_DIR, ENV_PREFIX

__all__ = ["add_claude_config_arguments", "claude_config", "claude_config_main"]

SERVER_NAMES = {
    "text2image": "reasoning-action-text2image",
    "image2video": "reasoning-action-image2video",
    "video2audio": "reasoning-action-video2audio",
    "av_merge": "reasoning-action-av-merge",
}
WORKFLOW_NAME = "reasoning-action-workflow"


def _command(script: str, module_args: list[str]) -> tuple[str, list[str]]:
    """Return the console script's absolute path when installed, else this Python with `-m`."""
    found = shutil.which(script, path=str(Path(sys.executable).parent)) or shutil.which(script)
    if found:
        return str(Path(found).resolve()), module_args[2:]
    return str(Path(sys.executable).absolute()), module_args


def claude_config(output_dir: Path, *, stages: tuple[str, ...] = STAGES, include_workflow: bool = True) -> dict[str, Any]:
    """Return the `mcpServers` block for the stage servers and the workflow server."""
    output = str(Path(output_dir).expanduser().resolve())
    env = {f"{ENV_PREFIX}OUTPUT_DIR": output}
    servers: dict[str, Any] = {}
    for stage in stages:
        script = SERVER_NAMES[stage]
        command, args = _command(script, ["-m", f"servers.{stage}"])
        servers[script] = {"command": command, "args": args, "env": dict(env)}
    if include_workflow:
        command, args = _command("reasoning-action", ["-m", "orchestrator", "mcp"])
        if not args:
            args = ["mcp"]
        servers[WORKFLOW_NAME] = {"command": command, "args": args + ["--output-dir", output], "env": dict(env)}
    return {"mcpServers": servers}


def add_claude_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(DEFAULT_OUTPUT_DIR),
        help="folder the servers write to, made absolute (default: ./outputs)",
    )
    parser.add_argument("--no-workflow", action="store_true", help="leave out the workflow server")


def claude_config_main(args: argparse.Namespace) -> int:
    block = claude_config(args.output_dir, include_workflow=not args.no_workflow)
    print(json.dumps(block, ensure_ascii=False, indent=2))
    return 0
