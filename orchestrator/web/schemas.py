"""Response bodies of the HTTP API: the task object, task lists and errors."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.web.models import TaskRow

__all__ = ["ErrorBody", "StepProgress", "TaskList", "TaskMetadata", "TaskObject", "TaskStatus", "task_object"]

TaskStatus = Literal["pending", "processing", "success", "failed", "cancelled"]


class TaskMetadata(BaseModel):
    type: str = Field(description="Task type: text_to_image, image_to_video, video_to_audio, merge_videos or workflow.")
    prompt: str | None = Field(default=None, description="Prompt of the request, when it has one.")


class StepProgress(BaseModel):
    """Progress of one stage (and segment, for image2video) of a task."""

    stage: str = Field(description="Stage name: text2image, image2video, video2audio or av_merge.")
    segment: int | None = Field(default=None, description="Segment number from 1, for per-segment stages.")
    progress: float = Field(description="Percent done, 0 to 100.")
    message: str | None = Field(default=None, description="Latest progress message of the stage.")


class TaskObject(BaseModel):
    """A task as every endpoint returns it."""

    task_id: str
    status: TaskStatus
    progress: float = Field(description="Percent done, 0 to 100.")
    result: dict[str, Any] | None = Field(default=None, description="Structured result once the task succeeded; files are /outputs/... URLs.")
    error: str | None = Field(default=None, description="Why the task failed or was cancelled.")
    created_at: datetime
    updated_at: datetime
    metadata: TaskMetadata
    message: str | None = Field(default=None, description="Latest progress message.")
    steps: list[StepProgress] = Field(default_factory=list, description="Progress of each stage and segment, in start order.")


class TaskList(BaseModel):
    tasks: list[TaskObject]
    total: int = Field(description="Number of tasks that match the filter, ignoring limit and offset.")
    limit: int
    offset: int


class ErrorBody(BaseModel):
    detail: str


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def task_object(row: TaskRow) -> TaskObject:
    """Build the API view of a database row."""
    return TaskObject(
        task_id=row.id,
        status=row.status,  # type: ignore[arg-type]
        progress=round(row.progress, 2),
        result=row.result,
        error=row.error,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        metadata=TaskMetadata(type=row.type, prompt=row.prompt),
        message=row.message,
        steps=[StepProgress(**step) for step in row.steps or []],
    )
