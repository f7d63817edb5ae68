"""Live progress of a run on stderr: a bar per step with rich on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from orchestrator.models import WorkflowEvent

__all__ = ["LineDisplay", "RichDisplay", "make_display"]

_STAGE_LABELS = {
    "text2image": "keyframe",
    "image2video": "segment",
    "video2audio": "soundtrack",
    "av_merge": "merge",
}


def _row_label(event: WorkflowEvent) -> str:
    label = _STAGE_LABELS.get(event.stage, event.stage)
    if event.segment is not None:
        suffix = "window" if event.stage == "video2audio" else ""
        return f"{label} {suffix} {event.segment}".replace("  ", " ")
    return label


class RichDisplay:
    """One bar for the whole run and one per step (keyframe, each segment, soundtrack, merge)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._console = Console(file=stream)
        self._progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[message]}", style="dim"),
            console=self._console,
            transient=False,
        )
        self._overall: TaskID | None = None
        self._rows: dict[str, TaskID] = {}

    def __enter__(self) -> RichDisplay:
        self._progress.__enter__()
        self._overall = self._progress.add_task("total", total=1.0, message="")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.__exit__(*exc_info)  # type: ignore[arg-type]

    async def __call__(self, event: WorkflowEvent) -> None:
        assert self._overall is not None
        self._progress.update(self._overall, completed=event.progress)
        if event.stage == "workflow":
            self._progress.update(self._overall, message=event.message[:60])
            return
        label = _row_label(event)
        row = self._rows.get(label)
        if row is None:
            row = self._progress.add_task(label, total=1.0, message="")
            self._rows[label] = row
        completed = 1.0 if event.status in ("finished", "skipped") else event.step_progress
        message = event.message if len(event.message) <= 50 else event.message[:47] + "..."
        if completed is None:
            self._progress.update(row, message=message)
        else:
            self._progress.update(row, completed=completed, message=message)


class LineDisplay:
    """Plain progress lines for logs and pipes: step starts and ends, and at most one line a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._last_line = 0.0

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    async def __call__(self, event: WorkflowEvent) -> None:
        now = time.monotonic()
        if event.status == "running" and now - self._last_line < 1.0:
            return
        self._last_line = now
        print(f"[{event.progress * 100:5.1f}%] {_row_label(event)}: {event.message}", file=self._stream, flush=True)


def make_display(stream: TextIO = sys.stderr) -> RichDisplay | LineDisplay:
    """Return the rich display on a terminal and the line display otherwise."""
    if stream.isatty():
        return RichDisplay(stream)
    return LineDisplay(stream)
