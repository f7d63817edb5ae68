"""A stream copy started before the segments are checked, and kept only if the checks agree.

Checking ten 1024x768 segments (probing each and comparing encoder setups) takes about
15 ms, a tenth of the copy itself. For the common request, segments from one encoder
joined without a soundtrack, the copy can start at once with the durations left to the
concat demuxer, which reads each file's duration from its container. The planned copy
pins each segment's video duration instead. So the early output is kept only when the
plan is that same video-only copy and, for every segment, the two durations are equal to
the microsecond. In any other case the early copy is killed and the plan runs as usual,
writing over the same temporary file.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from servers.av_merge.concat import pinned_duration_microseconds, write_concat_list
from servers.av_merge.merge import MergePlan, video_copy_arguments
from servers.av_merge.runner import FfmpegJob
from servers.shared.media import MediaInfo
from servers.shared.worker import Progress

__all__ = ["SpeculativeCopy"]

logger = logging.getLogger(__name__)


class SpeculativeCopy:
    """An ffmpeg stream copy of `segments` into `output_path`, running while the caller plans."""

    def __init__(self, segments: Sequence[Path], output_path: Path, output_format: str) -> None:
        self.segments = tuple(segments)
        self.output_format = output_format
        self._folder = tempfile.TemporaryDirectory(prefix="av-merge-early-")
        list_path = Path(self._folder.name) / "segments.ffconcat"
        write_concat_list(self.segments, None, list_path)
        what = f"joining {len(self.segments)} segments into {output_path.name}"
        self._job = FfmpegJob([*video_copy_arguments(list_path, output_format), str(output_path)], what=what)

    def matches(self, plan: MergePlan) -> bool:
        """Return whether `plan` would write exactly what this copy writes."""
        return (
            plan.method == "stream_copy"
            and plan.audio is None
            and not plan.joins_segment_audio
            and plan.segments == self.segments
            and plan.output_format == self.output_format
            and all(_container_agrees(info) for info in plan.infos)
        )

    def finish(self, plan: MergePlan, progress: Progress) -> None:
        """Follow the copy to its end as the run of `plan`; raise if ffmpeg fails or the request is cancelled."""
        try:
            self._job.wait(total_seconds=plan.duration, progress=progress, message=f"copying {len(self.segments)} segments")
        finally:
            self._folder.cleanup()

    def stop(self) -> None:
        """Kill the copy and remove its concat script; the output file is left to its owner."""
        self._job.stop()
        self._folder.cleanup()


def _container_agrees(info: MediaInfo) -> bool:
    """Return whether the container's duration is the video duration that the plan would pin."""
    if info.container_duration is None:
        return False
    return round(info.container_duration * 1_000_000) == pinned_duration_microseconds(info.duration)
