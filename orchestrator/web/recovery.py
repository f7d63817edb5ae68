"""Start-up recovery: tasks that a stopped service left unfinished run again or fail clearly."""

from __future__ import annotations

import logging
from pathlib import Path

from orchestrator.web.schemas import task_object
from orchestrator.web.store import TaskStore
from orchestrator.web.tasks import INTERRUPTED_MESSAGE, TaskRunner

__all__ = ["recover_tasks"]

logger = logging.getLogger(__name__)


def _can_resume(task_type: str, task_id: str, runs_dir: Path) -> bool:
    """Check for a workflow whose run folder (named after the task) exists, so it can resume."""
    return task_type == "workflow" and (runs_dir / task_id).is_dir()


async def recover_tasks(store: TaskStore, runner: TaskRunner, *, resume: bool, runs_dir: Path) -> None:
    """Reschedule pending tasks, and resume or fail the tasks that were processing."""
    pending, processing = await store.unfinished()

    for row in processing:
        if resume and _can_resume(row.type, row.id, runs_dir):
            task = await store.requeue(row.id, "resuming after a service restart")
            # The workflow job passes the task id as run_id, so run_workflow resumes that run.
            runner.submit(task, row.request)
            logger.info("Resuming task %s (%s) from its run folder", row.id, row.type)
        else:
            await store.finish(row.id, "failed", error=INTERRUPTED_MESSAGE)
            logger.warning("Task %s (%s) was interrupted by a restart; marked failed", row.id, row.type)

    for row in pending:
        runner.submit(task_object(row), row.request)
    if pending:
        logger.info("Rescheduled %d pending task(s)", len(pending))
