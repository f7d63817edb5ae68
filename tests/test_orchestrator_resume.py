"""Resume and restart over real stdio servers: a killed server, an interrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import psutil
import pytest

from orchestrator.config import OrchestratorConfig
from orchestrator.connections import StageConnections, StageUnavailableError
from orchestrator.models import WorkflowEvent, WorkflowRequest
from orchestrator.workflow import run_workflow
from servers.shared.media import probe

ITERATIONS = 3


def _request() -> WorkflowRequest:
    return WorkflowRequest.model_validate(
        {
            "prompt": "宁静的森林中流淌的溪水",
            "iterations": ITERATIONS,
            "workflow_config": {
                "image_config": {"width": 128, "height": 96, "seed": 11},
                "video_config": {"fps": 12, "duration": 1.0},
            },
        }
    )


def _config(tmp_path: Path, *, retries: int) -> OrchestratorConfig:
    return OrchestratorConfig(output_dir=tmp_path / "outputs", stages={"image2video": {"retries": retries}})


def _kill_stage_server(stage: str) -> int:
    """Kill this process's stdio server of `stage` with SIGKILL, as a crash would, and return its pid."""
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if f"servers.{stage}" in command:
            child.kill()
            child.wait(timeout=10)
            return child.pid
    raise AssertionError(f"no running {stage} server found")


def _killer(stage: str, segment: int, killed: list[int]):
    async def on_event(event: WorkflowEvent) -> None:
        if event.stage == stage and event.segment == segment and event.status == "started" and not killed:
            killed.append(_kill_stage_server(stage))

    return on_event


def _manifest(runs_dir: Path, run_id: str) -> dict:
    return json.loads((runs_dir / run_id / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.anyio
async def test_resume_after_killed_server_skips_finished_segments(tmp_path: Path) -> None:
    config = _config(tmp_path, retries=0)
    killed: list[int] = []
    async with StageConnections(config) as connections:
        with pytest.raises(StageUnavailableError) as caught:
            await run_workflow(
                _request(), connections=connections, runs_dir=config.runs_dir, run_id="killed-run",
                on_event=_killer("image2video", 2, killed), overlap=False,
            )  # fmt: skip
    failed = _manifest(config.runs_dir, "killed-run")

    assert killed
    assert "image2video server failed 1 time(s) while running image_to_video" in str(caught.value)
    assert failed["status"] == "failed"
    assert "segment-01" in failed["steps"]
    assert "segment-02" not in failed["steps"]

    events: list[WorkflowEvent] = []

    async def collect(event: WorkflowEvent) -> None:
        events.append(event)

    async with StageConnections(config) as connections:
        result = await run_workflow(None, connections=connections, runs_dir=config.runs_dir, run_id="killed-run", on_event=collect)
    skipped = [(event.stage, event.segment) for event in events if event.status == "skipped"]
    rendered = [event.segment for event in events if event.stage == "image2video" and event.status == "started"]

    assert ("text2image", None) in skipped
    assert ("image2video", 1) in skipped
    assert rendered == [2, 3]
    assert result.segment_paths[0] == failed["steps"]["segment-01"]["path"]
    assert probe(result.video_path).duration == pytest.approx(ITERATIONS * 1.0, abs=1 / 12)
    assert _manifest(config.runs_dir, "killed-run")["status"] == "completed"


@pytest.mark.anyio
async def test_restart_retries_step_after_killed_server(tmp_path: Path) -> None:
    config = _config(tmp_path, retries=1)
    killed: list[int] = []
    async with StageConnections(config) as connections:
        result = await run_workflow(
            _request(), connections=connections, runs_dir=config.runs_dir, on_event=_killer("image2video", 2, killed),
            overlap=True,
        )
        restarts = connections.restarts["image2video"]

    assert killed
    assert restarts == 1
    assert len(result.segment_paths) == ITERATIONS
    assert probe(result.video_path).duration == pytest.approx(ITERATIONS * 1.0, abs=1 / 12)


@pytest.mark.anyio
async def test_resume_after_cancelled_run(tmp_path: Path) -> None:
    config = _config(tmp_path, retries=0)
    async with StageConnections(config) as connections:
        with anyio.CancelScope() as scope:

            async def cancel_at_segment_two(event: WorkflowEvent) -> None:
                if event.stage == "image2video" and event.segment == 2 and event.status == "started":
                    scope.cancel()

            await run_workflow(
                _request(), connections=connections, runs_dir=config.runs_dir, run_id="cancelled-run",
                on_event=cancel_at_segment_two,
            )  # fmt: skip
    cancelled = _manifest(config.runs_dir, "cancelled-run")

    assert scope.cancelled_caught
    assert cancelled["status"] == "cancelled"
    assert "segment-02" not in cancelled["steps"]

    async with StageConnections(config) as connections:
        result = await run_workflow(None, connections=connections, runs_dir=config.runs_dir, run_id="cancelled-run")

    assert result.segment_paths[0] == cancelled["steps"]["segment-01"]["path"]
    assert _manifest(config.runs_dir, "cancelled-run")["status"] == "completed"
