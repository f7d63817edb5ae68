"""Progress of a whole run from the progress of its steps.

Each step has a fixed weight (keyframe 8%, segments 72% shared equally, soundtrack 10%,
merge 10%), so the overall share only grows, whatever order overlapping steps finish in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from orchestrator.connections import ProgressCallback
from orchestrator.models import Stage, WorkflowEvent

__all__ = ["EventCallback", "ProgressTracker"]

logger = logging.getLogger(__name__)

EventCallback = Callable[[WorkflowEvent], Awaitable[None]]

IMAGE_WEIGHT = 0.08
SEGMENTS_WEIGHT = 0.72
AUDIO_WEIGHT = 0.10
MERGE_WEIGHT = 0.10


class ProgressTracker:
    """Turns step progress into `WorkflowEvent`s with a never-decreasing overall share."""

    def __init__(self, iterations: int, *, overlap: bool, on_event: EventCallback | None) -> None:
        self._on_event = on_event
        self._weights: dict[str, float] = {"image": IMAGE_WEIGHT, "merge": MERGE_WEIGHT}
        for index in range(1, iterations + 1):
            self._weights[segment_key(index)] = SEGMENTS_WEIGHT / iterations
            if overlap:
                self._weights[audio_key(index)] = AUDIO_WEIGHT / iterations
        if not overlap:
            self._weights["audio"] = AUDIO_WEIGHT
        self._done: dict[str, float] = {}
        self._overall = 0.0

    @property
    def overall(self) -> float:
        return self._overall

    async def emit(
        self,
        stage: Stage,
        key: str | None,
        fraction: float | None,
        message: str,
        *,
        segment: int | None = None,
        status: str = "running",
    ) -> None:
        """Record that step `key` is `fraction` done and send one event."""
        if key is not None and fraction is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            self._done[key] = max(self._done.get(key, 0.0), fraction)
            total = sum(self._weights.get(name, 0.0) * done for name, done in self._done.items())
            self._overall = max(self._overall, min(total, 1.0))
        if self._on_event is None:
            return
        event = WorkflowEvent(
            stage=stage,
            segment=segment,
            progress=round(self._overall, 4),
            message=message,
            status=status,  # type: ignore[arg-type]
            step_progress=None if fraction is None else round(fraction, 4),
        )
        try:
            await self._on_event(event)
        except Exception as error:  # A broken listener must not stop the run.
            logger.warning("Progress listener failed on %r: %s", event.message, error)

    def step_callback(self, stage: Stage, key: str, label: str, *, segment: int | None = None) -> ProgressCallback:
        """Return a progress callback for one tool call that reports through this tracker."""

        async def report(done: float, total: float | None, message: str | None) -> None:
            fraction = done / total if total else None
            text = f"{label}: {message}" if message else label
            await self.emit(stage, key, fraction, text, segment=segment)

        return report


def segment_key(index: int) -> str:
    return f"segment-{index:02d}"


def audio_key(index: int) -> str:
    return f"audio-{index:02d}"
