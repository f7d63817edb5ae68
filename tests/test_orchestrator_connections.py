"""StageConnections against a real stdio MCP server: tool errors, crashes, hangs, progress.

This module is also the server: run as a script, it serves a `work` tool whose behaviour
the argument `mode` selects (normal, invalid input, crash once, hang), so every failure
the orchestrator must survive happens in a real subprocess over a real stdio session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

from orchestrator.config import OrchestratorConfig
from orchestrator.connections import StageConnections, StageError, StageUnavailableError
from servers.shared.errors import InvalidInputError

CRASH_MARKER_ENV = "ORCHESTRATOR_TEST_CRASH_MARKER"


class WorkResult(BaseModel):
    mode: str
    pid: int
    output_dir: str | None


def _serve() -> None:
    server = MCPServer("orchestrator-test-server")

    @server.tool(name="work")
    async def work(ctx: Context, mode: str = "normal", steps: int = 3) -> WorkResult:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
            await anyio.sleep(0.02)
        if mode == "invalid":
            raise InvalidInputError("mode 'invalid' is not accepted: use 'normal'")
        marker = Path(os.environ[CRASH_MARKER_ENV])
        if mode == "crash-once" and not marker.exists():
            marker.touch()
            os._exit(3)
        if mode == "crash-always":
            os._exit(3)
        if mode == "hang":
            await anyio.sleep(3600)
        return WorkResult(mode=mode, pid=os.getpid(), output_dir=os.environ.get("REASONING_ACTION_OUTPUT_DIR"))

    server.run("stdio")


def _config(tmp_path: Path, **stage: object) -> OrchestratorConfig:
    settings = {
        "command": [sys.executable, str(Path(__file__).resolve())],
        "env": {CRASH_MARKER_ENV: str(tmp_path / "crashed")},
        **stage,
    }
    return OrchestratorConfig(output_dir=tmp_path / "outputs", stages={"text2image": settings})


@pytest.mark.anyio
async def test_connections_call_returns_structured_result_and_progress(tmp_path: Path) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with StageConnections(_config(tmp_path)) as connections:
        result = await connections.call("text2image", "work", {"mode": "normal"}, on_progress=on_progress)

    assert result["mode"] == "normal"
    assert result["output_dir"] == str((tmp_path / "outputs").resolve())
    assert seen == [(1.0, 3.0, "step 1"), (2.0, 3.0, "step 2"), (3.0, 3.0, "step 3")]


@pytest.mark.anyio
async def test_connections_tool_error_raises_stage_error_without_retry(tmp_path: Path) -> None:
    async with StageConnections(_config(tmp_path, retries=2)) as connections:
        with pytest.raises(StageError) as caught:
            await connections.call("text2image", "work", {"mode": "invalid"})
        restarts = connections.restarts["text2image"]

    assert str(caught.value) == "mode 'invalid' is not accepted: use 'normal'"
    assert not isinstance(caught.value, StageUnavailableError)
    assert restarts == 0


@pytest.mark.anyio
async def test_connections_crashed_server_is_restarted_and_call_retried(tmp_path: Path) -> None:
    async with StageConnections(_config(tmp_path, retries=1)) as connections:
        first = await connections.call("text2image", "work", {"mode": "normal"})
        second = await connections.call("text2image", "work", {"mode": "crash-once"})
        restarts = connections.restarts["text2image"]

    assert second["mode"] == "crash-once"
    assert second["pid"] != first["pid"]
    assert restarts == 1


@pytest.mark.anyio
async def test_connections_retries_are_bounded(tmp_path: Path) -> None:
    async with StageConnections(_config(tmp_path, retries=1)) as connections:
        with pytest.raises(StageUnavailableError) as caught:
            await connections.call("text2image", "work", {"mode": "crash-always"})
        restarts = connections.restarts["text2image"]

    message = str(caught.value)
    assert "the text2image server failed 2 time(s) while running work" in message
    assert "Connection closed" in message
    assert str(tmp_path / "outputs" / "logs" / "text2image.log") in message
    assert restarts == 2


@pytest.mark.anyio
async def test_connections_hung_call_times_out_with_hint(tmp_path: Path) -> None:
    async with StageConnections(_config(tmp_path, retries=0, timeout_seconds=1.5)) as connections:
        with anyio.fail_after(60):
            with pytest.raises(StageUnavailableError) as caught:
                await connections.call("text2image", "work", {"mode": "hang"})
        # The hung server was replaced, so the next call works.
        after = await connections.call("text2image", "work", {"mode": "normal"})

    assert "timed out" in str(caught.value)
    assert "raise stages.text2image.timeout_seconds" in str(caught.value)
    assert after["mode"] == "normal"


@pytest.mark.anyio
async def test_connections_unstartable_server_names_its_log(tmp_path: Path) -> None:
    config = OrchestratorConfig(
        output_dir=tmp_path / "outputs",
        stages={"text2image": {"command": [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(4)"]}},
    )
    async with StageConnections(config) as connections:
        with pytest.raises(StageUnavailableError) as caught:
            await connections.call("text2image", "work", {})

    assert "could not start the text2image server" in str(caught.value)
    assert "boom" in str(caught.value)
    assert "boom" in (tmp_path / "outputs" / "logs" / "text2image.log").read_text(encoding="utf-8")


@pytest.mark.anyio
async def test_connections_cancelled_call_leaves_server_usable(tmp_path: Path) -> None:
    async with StageConnections(_config(tmp_path)) as connections:
        with anyio.move_on_after(3) as scope:
            await connections.call("text2image", "work", {"mode": "hang"})
        after = await connections.call("text2image", "work", {"mode": "normal"})

    assert scope.cancelled_caught
    assert after["mode"] == "normal"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.anyio
async def test_connections_reach_server_by_url(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "REASONING_ACTION_OUTPUT_DIR": str(tmp_path / "outputs")}
    command = [sys.executable, "-m", "servers.av_merge", "--transport", "streamable-http", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = OrchestratorConfig(output_dir=tmp_path / "outputs", stages={"av_merge": {"url": f"http://127.0.0.1:{port}/mcp"}})
    missing = tmp_path / "outputs" / "missing.mp4"
    try:
        with anyio.fail_after(60):
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    await anyio.sleep(0.2)
        async with StageConnections(config) as connections:
            with pytest.raises(StageError) as caught:
                await connections.call("av_merge", "probe_media", {"path": str(missing)})
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert "not found" in str(caught.value)
    assert "missing.mp4" in str(caught.value)


if __name__ == "__main__":
    _serve()


@pytest.mark.anyio
async def test_connections_unreachable_url_names_the_cause(tmp_path: Path) -> None:
    config = OrchestratorConfig(output_dir=tmp_path / "outputs", stages={"video2audio": {"url": "http://127.0.0.1:1/mcp", "retries": 0}})

    async with StageConnections(config) as connections:
        with pytest.raises(StageUnavailableError) as raised:
            await connections.call("video2audio", "video_to_audio", {"video_url": "x.mp4"})

    message = str(raised.value)
    assert "could not start the video2audio server (http://127.0.0.1:1/mcp)" in message
    assert "ExceptionGroup" not in message
    assert "ConnectError" in message
