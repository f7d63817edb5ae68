"""Task types: the endpoint, request body and MCP calls of each.

Single-tool tasks call one tool of one stage server; the workflow task runs the whole
orchestrated workflow. Both go through the same `StageConnections` as the CLI.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from orchestrator.connections import StageConnections, StageError
from orchestrator.models import WorkflowEvent, WorkflowRequest
from orchestrator.workflow import run_workflow
from orchestrator.web.outputs import OutputFiles
from orchestrator.web.requests import ImageToVideoBody, MergeVideosBody, TextToImageBody, VideoToAudioBody
from orchestrator.web.tasks import ExecutionContext, TaskFailedError

__all__ = ["JOBS", "Job", "JobRunner", "WORKFLOW_POOL", "TOOL_POOL"]

logger = logging.getLogger(__name__)

WORKFLOW_POOL = "workflow"
TOOL_POOL = "tool"

RunJob = Callable[["JobRunner", BaseModel, ExecutionContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Job:
    """One task type: `POST path` with a `body` creates it, `run` executes it."""

    type: str
    path: str
    body: type[BaseModel]
    pool: str
    summary: str
    run: RunJob

    def prompt_of(self, body: BaseModel) -> str | None:
        for name in ("prompt", "description"):
            value = getattr(body, name, None)
            if isinstance(value, str) and value.strip():
                return value
        return None


def _tool_job(stage: str, tool: str, input_fields: tuple[str, ...]) -> RunJob:
    """Build the runner of a task that calls one tool; `input_fields` name file inputs."""

    async def run(jobs: JobRunner, body: BaseModel, context: ExecutionContext) -> dict[str, Any]:
        arguments = body.model_dump(mode="json", exclude_none=True)
        for field in input_fields:
            value = arguments.get(field)
            if isinstance(value, list):
                arguments[field] = [jobs.outputs.to_input(item) for item in value]
            elif isinstance(value, str):
                arguments[field] = jobs.outputs.to_input(value)

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            percent = 100.0 * done / total if total else 0.0
            await context.report(
                progress=percent, stage=stage, stage_progress=percent, message=jobs.outputs.publish_message(message)
            )

        await context.report(progress=0.0, stage=stage, stage_progress=0.0, message=f"calling {tool}")
        result = await jobs.connections.call(stage, tool, arguments, on_progress=on_progress)
        return jobs.outputs.publish(result)

    return run


async def _run_workflow(jobs: JobRunner, body: BaseModel, context: ExecutionContext) -> dict[str, Any]:
    async def on_event(event: WorkflowEvent) -> None:
        # `progress` is the share of the whole run, `step_progress` the share of the current step.
        step_progress = event.step_progress
        if step_progress is None and event.status in ("finished", "skipped"):
            step_progress = 1.0
        await context.report(
            progress=100.0 * event.progress,
            stage=None if event.stage == "workflow" else event.stage,
            segment=event.segment,
            stage_progress=None if step_progress is None else 100.0 * step_progress,
            message=jobs.outputs.publish_message(event.message),
        )

    result = await run_workflow(
        body,  # type: ignore[arg-type]
        connections=jobs.connections,
        runs_dir=jobs.runs_dir,
        run_id=context.task_id,
        on_event=on_event,
    )
    return jobs.outputs.publish(_as_dict(result))


def _as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return dict(result)


JOBS: dict[str, Job] = {
    job.type: job
    for job in (
        Job("text_to_image", "/api/text-to-image", TextToImageBody, TOOL_POOL, "Generate an image from a prompt.",
            _tool_job("text2image", "text_to_image", ())),
        Job("image_to_video", "/api/image-to-video", ImageToVideoBody, TOOL_POOL, "Animate an image into a video segment.",
            _tool_job("image2video", "image_to_video", ("image_url",))),
        Job("video_to_audio", "/api/video-to-audio", VideoToAudioBody, TOOL_POOL, "Make a soundtrack for a video.",
            _tool_job("video2audio", "video_to_audio", ("video_url",))),
        Job("merge_videos", "/api/merge-videos", MergeVideosBody, TOOL_POOL, "Join video segments, optionally with audio.",
            _tool_job("av_merge", "merge_videos", ("video_segments", "audio_url"))),
        Job("workflow", "/api/workflow", WorkflowRequest, WORKFLOW_POOL, "Run the whole prompt-to-video workflow.",
            _run_workflow),
    )
}  # fmt: skip


class JobRunner:
    """Executes stored task requests through the stage connections (the runner's `Executor`)."""

    def __init__(self, connections: StageConnections, outputs: OutputFiles, runs_dir: Any) -> None:
        self.connections = connections
        self.outputs = outputs
        self.runs_dir = runs_dir

    async def __call__(self, task_type: str, request: dict[str, Any], context: ExecutionContext) -> dict[str, Any]:
        job = JOBS[task_type]
        body = job.body.model_validate(request)
        try:
            return await job.run(self, body, context)
        except StageError as error:
            raise TaskFailedError(str(error)) from error


def pool_of(task_type: str) -> str:
    return JOBS[task_type].pool
