"""The orchestrator's outer interfaces: the workflow MCP server, the CLI, claude-config."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client

from orchestrator.claude_config import claude_config
from orchestrator.config import OrchestratorConfig
from orchestrator.mcp_server import build_workflow_server
from servers.shared.media import probe

SMALL_CONFIG = {
    "image_config": {"width": 96, "height": 64, "seed": 3},
    "video_config": {"fps": 8, "duration": 1.0},
}


@pytest.mark.anyio
async def test_mcp_run_workflow_reports_progress_and_result(tmp_path: Path) -> None:
    server = build_workflow_server(OrchestratorConfig(output_dir=tmp_path / "outputs"))
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool(
            "run_workflow",
            {"prompt": "宁静的森林中流淌的溪水", "iterations": 2, "workflow_config": SMALL_CONFIG},
            progress_callback=on_progress,
        )

    assert "run_workflow" in tools
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured is not None
    assert structured["workflow_summary"]["segments_count"] == 2
    assert probe(structured["video_path"]).duration == pytest.approx(2.0, abs=1 / 8)
    assert progress == sorted(progress)
    assert progress[-1] == 100


@pytest.mark.anyio
async def test_mcp_run_workflow_rejects_invalid_style(tmp_path: Path) -> None:
    server = build_workflow_server(OrchestratorConfig(output_dir=tmp_path / "outputs"))
    workflow_config = {"audio_config": {"audio_style": "jazz"}}

    async with Client(server) as client:
        result = await client.call_tool("run_workflow", {"prompt": "a stream", "iterations": 1, "workflow_config": workflow_config})

    assert result.is_error
    assert "audio_style" in result.content[0].text
    assert "jazz" in result.content[0].text


def test_cli_run_prints_json_result(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"prompt": "美丽的日落山景，油画风格", "workflow_config": SMALL_CONFIG}), encoding="utf-8")
    command = [
        sys.executable, "-m", "orchestrator", "run", "--request", str(request), "--iterations", "1",
        "--output-dir", str(tmp_path / "outputs"), "--json", "--no-auto-enhance",
    ]  # fmt: skip

    completed = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["workflow_summary"]["prompt"] == "美丽的日落山景，油画风格"
    assert result["workflow_summary"]["total_duration_seconds"] == pytest.approx(1.0, abs=1 / 8)
    assert result["enhancements"] == {}
    assert Path(result["video_path"]).is_file()
    assert "segment 1" in completed.stderr


def test_claude_config_lists_five_servers_with_absolute_paths(tmp_path: Path) -> None:
    block = claude_config(tmp_path / "media")
    servers = block["mcpServers"]

    assert set(servers) == {
        "reasoning-action-text2image",
        "reasoning-action-image2video",
        "reasoning-action-video2audio",
        "reasoning-action-av-merge",
        "reasoning-action-workflow",
    }
    for entry in servers.values():
        assert Path(entry["command"]).is_absolute()
        assert Path(entry["command"]).exists()
        assert entry["env"]["REASONING_ACTION_OUTPUT_DIR"] == str((tmp_path / "media").resolve())
    assert "mcp" in servers["reasoning-action-workflow"]["args"]


def test_cli_interrupt_then_resume(tmp_path: Path) -> None:
    output_dir = tmp_path / "outputs"
    manifest = output_dir / "runs" / "cli-run" / "manifest.json"
    base = [sys.executable, "-m", "orchestrator", "run", "--output-dir", str(output_dir), "--quiet"]
    options = ["宁静的森林中流淌的溪水", "--iterations", "3", "--width", "96", "--height", "64", "--fps", "8", "--duration", "1"]
    process = subprocess.Popen([*base, *options, "--run-id", "cli-run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (manifest.is_file() and '"image"' in manifest.read_text(encoding="utf-8")):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    interrupted = json.loads(manifest.read_text(encoding="utf-8"))

    assert process.returncode == 130, stderr
    assert "--resume cli-run" in stderr
    assert interrupted["status"] == "cancelled"

    resumed = subprocess.run([*base, "--resume", "cli-run", "--json"], capture_output=True, text=True, timeout=240, check=False)

    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["image_path"] == interrupted["steps"]["image"]["path"]
    assert result["workflow_summary"]["segments_count"] == 3
