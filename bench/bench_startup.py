"""Start-up time of each server on its CPU engine, against a bare MCP server, over stdio.

Measures spawn + MCP handshake + tools/list, the time an MCP host waits before it can call
a tool. The baseline is the smallest possible MCPServer with one tool, started the same way,
so the ratio shows what ReasoningACTION itself adds. Target: well under 2 s a server.

    python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

REPOSITORY = Path(__file__).resolve().parents[1]
SERVERS = ("text2image", "image2video", "video2audio", "av_merge")

BASELINE_SERVER = textwrap.dedent(
    """
    from mcp.server.mcpserver import MCPServer
    server = MCPServer("baseline")

    @server.tool()
    def ping() -> str:
        return "pong"

    server.run("stdio")
    """
)


async def _time_start(parameters: StdioServerParameters) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(parameters) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed, len(tools.tools)


def _median_start(parameters: StdioServerParameters, runs: int) -> tuple[float, int]:
    timings = []
    tool_count = 0
    for _ in range(runs):
        elapsed, tool_count = anyio.run(_time_start, parameters)
        timings.append(elapsed)
    return statistics.median(timings), tool_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts per server; the median is reported")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", folder),
            "PYTHONPATH": str(REPOSITORY),
            "REASONING_ACTION_OUTPUT_DIR": folder,
            "REASONING_ACTION_LOG_LEVEL": "WARNING",
        }
        baseline_script = Path(folder) / "baseline_server.py"
        baseline_script.write_text(BASELINE_SERVER, encoding="utf-8")
        baseline, _ = _median_start(StdioServerParameters(command=sys.executable, args=[str(baseline_script)], env=env), args.runs)
        print(f"{'server':<14} {'median start':>12} {'tools':>6} {'vs bare MCPServer':>18}")
        print(f"{'bare':<14} {baseline:>11.2f}s {1:>6} {1.0:>17.2f}x")
        for stage in SERVERS:
            if not (REPOSITORY / "servers" / stage / "__main__.py").exists():
                continue
            parameters = StdioServerParameters(command=sys.executable, args=["-m", f"servers.{stage}"], env=env, cwd=str(REPOSITORY))
            median, tool_count = _median_start(parameters, args.runs)
            print(f"{stage:<14} {median:>11.2f}s {tool_count:>6} {median / baseline:>17.2f}x")


if __name__ == "__main__":
    main()
