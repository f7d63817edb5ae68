"""The iterative workflow: keyframe, chained segments, soundtrack, one finished mp4.

    async with StageConnections(config) as connections:
        result = await run_workflow(request, connections=connections, runs_dir=config.runs_dir)

Steps, each recorded in the run manifest as it finishes:

1. `text_to_image` once (the keyframe).
2. `image_to_video` once per iteration; segment k+1 starts from segment k's
   `next_frame_path`, a lossless PNG, so nothing is re-decoded from compressed video.
   With `auto_enhance`, that frame is first pulled toward the keyframe's colour statistics.
3. The soundtrack. With overlap on, soundtrack windows are scored while later segments
   render (see `orchestrator.soundtrack`); otherwise one `video_to_audio` call scores the
   joined video at the end.
4. `merge_videos` joins the segments by stream copy and lays the soundtrack under them.

Resuming a run (`run_id` of an existing run) reuses every recorded step whose files
still exist. Cancelling the task that awaits `run_workflow` cancels the running tool call.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from orchestrator.colour import ColourStatistics, colour_statistics, match_colour
from orchestrator.connections import StageConnections, StageError
from orchestrator.enhance import enhance_prompt
from orchestrator.manifest import RunManifest, RunNotFoundError, check_run_id, new_run_id
from orchestrator.models import (
    AudioConfig,
    WorkflowEvent,
    WorkflowRequest,
    WorkflowResult,
    WorkflowSummary,
)
from orchestrator.progress import EventCallback, ProgressTracker, audio_key, segment_key
from orchestrator.soundtrack import join_windows, window_segments
from orchestrator.warning_summary import merge_repeated

if sys.version_info < (3, 11):  # pragma: no cover - anyio installs the backport on 3.10.
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "RunNotFoundError",
    "WorkflowEvent",
    "WorkflowRequest",
    "WorkflowResult",
    "first_error",
    "run_workflow",
]

logger = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1
SOUNDTRACK_FORMAT = "wav"


async def run_workflow(
    request: WorkflowRequest | None,
    *,
    connections: StageConnections,
    runs_dir: Path,
    run_id: str | None = None,
    on_event: EventCallback | None = None,
    overlap: bool | None = None,
) -> WorkflowResult:
    """Run (or resume) a workflow and return the finished files and summary.

    `run_id` of an existing run resumes it with its recorded request (`request` may then
    be None); a new `run_id` names a new run. `overlap` defaults to the connections'
    config. Raises `StageError` when a stage fails and `RunNotFoundError` when `request`
    is None and the run does not exist.
    """
    manifest = _open_manifest(request, runs_dir, run_id, connections, overlap)
    run = _Run(manifest, connections, on_event)
    return await run.execute()


def _open_manifest(
    request: WorkflowRequest | None,
    runs_dir: Path,
    run_id: str | None,
    connections: StageConnections,
    overlap: bool | None,
) -> RunManifest:
    if run_id is not None:
        check_run_id(run_id)
        try:
            manifest = RunManifest.load(runs_dir, run_id)
        except RunNotFoundError:
            if request is None:
                raise
        else:
            if request is not None and request.model_dump() != manifest.request.model_dump():
                logger.warning("Resuming run %s with its recorded request; the request passed in differs", run_id)
            manifest.data["attempts"] = int(manifest.data.get("attempts", 1)) + 1
            manifest.set_status("running")
            return manifest
    if request is None:
        raise ValueError("pass a request for a new run, or the run_id of a run to resume")

    seed = request.workflow_config.image_config.seed
    if seed is None:
        seed = secrets.randbelow(2**31)
    use_overlap = connections.config.overlap_enabled if overlap is None else overlap
    return RunManifest.create(Path(runs_dir), run_id or new_run_id(), request, seed=seed, overlap=use_overlap)


class _Run:
    """State of one run while it executes."""

    def __init__(self, manifest: RunManifest, connections: StageConnections, on_event: EventCallback | None) -> None:
        self.manifest = manifest
        self.connections = connections
        self.request = manifest.request
        self.seed = manifest.seed
        self.overlap = bool(manifest.data.get("overlap", True))
        self.iterations = self.request.iterations
        self.video = self.request.workflow_config.video_config
        self.audio: AudioConfig = self.request.workflow_config.audio_config
        self.tracker = ProgressTracker(self.iterations, overlap=self.overlap, on_event=on_event)
        self.steps: list[str] = []
        self.warnings: list[str] = []
        self.enhancements: dict[str, Any] = {}
        self.segments: dict[int, dict[str, Any]] = {}
        self.windows: dict[int, dict[str, Any]] = {}
        self.redone_from: int | None = None

    # -- the run as a whole ----------------------------------------------------------

    async def execute(self) -> WorkflowResult:
        started = time.perf_counter()
        await self.tracker.emit("workflow", None, None, f"run {self.manifest.run_id}: {self.iterations} segments", status="started")
        try:
            result = await self._steps(started)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                self.manifest.set_status("cancelled", error="cancelled")
                await self.tracker.emit("workflow", None, None, "cancelled; resume with the run id", status="failed")
            raise
        except Exception as error:
            self.manifest.set_status("failed", error=str(error))
            await self.tracker.emit("workflow", None, None, f"failed: {error}", status="failed")
            raise
        self.manifest.data["result"] = result.model_dump(mode="json")
        self.manifest.set_status("completed")
        await self.tracker.emit("workflow", None, 1.0, f"finished: {result.video_path}", status="finished")
        return result

    async def _steps(self, started: float) -> WorkflowResult:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._warm_up)
                image = await self._keyframe()
                reference = None
                if self.request.auto_enhance:
                    reference = await anyio.to_thread.run_sync(colour_statistics, Path(image["path"]))
                await self._segments(image, reference, group)
            # Leaving the group waits for the soundtrack windows still being scored.
        except BaseExceptionGroup as errors:
            raise first_error(errors) from None

        if self.overlap:
            soundtrack = await self._join_soundtrack()
            final = await self._merge(soundtrack["path"])
        else:
            silent = await self._merge(None)
            soundtrack = await self._score_whole(silent["path"])
            final = await self._mux(silent["path"], soundtrack["path"])

        return self._result(image, soundtrack, final, time.perf_counter() - started)

    async def _warm_up(self) -> None:
        """Start the later stages' servers while the keyframe renders; failures surface at first use."""
        try:
            await self.connections.start("image2video", "video2audio", "av_merge")
        except StageError as error:
            logger.info("Warm-up of a server failed (the step using it retries): %s", error)

    # -- keyframe ----------------------------------------------------------------------

    async def _keyframe(self) -> dict[str, Any]:
        image_config = self.request.workflow_config.image_config
        prompt = self.request.prompt
        negative_prompt = image_config.negative_prompt
        if self.request.auto_enhance:
            enhancement = enhance_prompt(prompt, negative_prompt=negative_prompt)
            prompt, negative_prompt = enhancement.image_prompt, enhancement.negative_prompt
            self.enhancements["prompt"] = enhancement.to_dict()

        recorded = self.manifest.step("image")
        if recorded is not None:
            await self.tracker.emit("text2image", "image", 1.0, "keyframe reused from the manifest", status="skipped")
            self.steps.append(f"text_to_image: reused {recorded['path']}")
            return recorded

        await self.tracker.emit("text2image", "image", 0.0, "painting the keyframe", status="started")
        arguments: dict[str, Any] = {
            "prompt": prompt,
            "width": image_config.width,
            "height": image_config.height,
            "guidance_scale": image_config.guidance_scale,
            "num_inference_steps": image_config.num_inference_steps,
            "seed": self.seed,
        }
        if negative_prompt:
            arguments["negative_prompt"] = negative_prompt
        result = await self.connections.call(
            "text2image", "text_to_image", arguments, on_progress=self.tracker.step_callback("text2image", "image", "keyframe")
        )
        record = _pick(result, "path", "width", "height", "seed", "engine", "model", "elapsed_seconds", "warnings")
        record["prompt"] = prompt
        self.manifest.record("image", record)
        self.warnings.extend(f"text2image: {warning}" for warning in result.get("warnings", []))
        self.steps.append(
            f"text_to_image: {record['width']}x{record['height']} keyframe, {record['engine']} engine, "
            f"seed {record['seed']}, {record['elapsed_seconds']:.2f} s"
        )
        await self.tracker.emit("text2image", "image", 1.0, f"keyframe ready: {record['path']}", status="finished")
        return record

    # -- segments ----------------------------------------------------------------------

    async def _segments(self, image: dict[str, Any], reference: ColourStatistics | None, group: anyio.abc.TaskGroup) -> None:
        start_frame = image["path"]
        for index in range(1, self.iterations + 1):
            segment = await self._segment(index, start_frame, reference)
            self.segments[index] = segment
            start_frame = segment["next_frame_path"]
            if self.overlap:
                group.start_soon(self._score_window, index)

    async def _segment(self, index: int, start_frame: str, reference: ColourStatistics | None) -> dict[str, Any]:
        key = segment_key(index)
        label = f"segment {index}/{self.iterations}"
        recorded = None if self.redone_from is not None else self.manifest.step(key, files=("path", "next_frame_path"))
        if recorded is not None:
            await self.tracker.emit("image2video", key, 1.0, f"{label} reused from the manifest", segment=index, status="skipped")
            self.steps.append(f"image_to_video {index}: reused {recorded['path']}")
            if recorded.get("colour_match"):
                self.enhancements.setdefault("colour_matching", []).append(recorded["colour_match"])
            return recorded

        if self.redone_from is None:
            # Every later step depended on the chain up to here, so none of it is reused.
            self.redone_from = index
            later = [segment_key(i) for i in range(index, self.iterations + 1)]
            later += [audio_key(i) for i in range(index, self.iterations + 1)]
            self.manifest.forget([*later, "soundtrack", "merged", "final"])

        colour_match = None
        if reference is not None and index > 1:
            colour_match = await self._match_colour(index, start_frame, reference)
            start_frame = colour_match["output_path"]

        await self.tracker.emit("image2video", key, 0.0, f"rendering {label}", segment=index, status="started")
        arguments: dict[str, Any] = {
            "image_url": start_frame,
            "motion_scale": self.video.motion_scale,
            "fps": self.video.fps,
            "duration": self.video.duration,
            "transition_type": self.video.transition_type,
            "last_segment": index == self.iterations,
            "seed": (self.seed + index) % (MAX_SEED + 1),
            "prompt": self.request.prompt,
        }
        result = await self.connections.call(
            "image2video", "image_to_video", arguments,
            on_progress=self.tracker.step_callback("image2video", key, label, segment=index),
        )  # fmt: skip
        record = _pick(
            result, "path", "next_frame_path", "frames", "fps", "duration", "width", "height", "seed", "engine", "elapsed_seconds"
        )
        record["start_frame"] = start_frame
        record["colour_match"] = colour_match
        self.manifest.record(key, record)
        self.warnings.extend(f"image2video {index}: {warning}" for warning in result.get("warnings", []))
        self.steps.append(
            f"image_to_video {index}: {record['frames']} frames at {record['fps']:g} fps "
            f"({record['duration']:.3f} s), {record['engine']} engine, {record['elapsed_seconds']:.2f} s"
        )
        await self.tracker.emit("image2video", key, 1.0, f"{label} ready", segment=index, status="finished")
        return record

    async def _match_colour(self, index: int, start_frame: str, reference: ColourStatistics) -> dict[str, Any]:
        output = self.manifest.run_dir / f"start-{index:02d}.png"
        match = await anyio.to_thread.run_sync(match_colour, Path(start_frame), reference, output)
        if match.applied:
            _copy_sidecar(Path(start_frame), output)
        report = {"segment": index, **match.to_dict()}
        self.enhancements.setdefault("colour_matching", []).append(report)
        return report

    # -- soundtrack ---------------------------------------------------------------------

    async def _score_window(self, index: int) -> None:
        """Score the soundtrack window ending at segment `index` (overlap mode)."""
        key = audio_key(index)
        recorded = self.manifest.step(key)
        if recorded is not None:
            self.windows[index] = recorded
            await self.tracker.emit("video2audio", key, 1.0, f"soundtrack window {index} reused", segment=index, status="skipped")
            return

        covered = window_segments(index)
        label = f"soundtrack window {index}/{self.iterations}"
        await self.tracker.emit("video2audio", key, 0.0, f"scoring {label}", segment=index, status="started")
        if len(covered) == 1:
            video_path = self.segments[index]["path"]
        else:
            merged = await self.connections.call(
                "av_merge",
                "merge_videos",
                {"video_segments": [self.segments[i]["path"] for i in covered], "output_format": "mp4"},
            )
            video_path = merged["path"]
        result = await self.connections.call(
            "video2audio", "video_to_audio", self._audio_arguments(video_path),
            on_progress=self.tracker.step_callback("video2audio", key, label, segment=index),
        )  # fmt: skip
        record = _pick(result, "path", "duration", "sample_rate", "channels", "engine", "elapsed_seconds")
        record["segments"] = covered
        record["video_path"] = video_path
        self.manifest.record(key, record)
        self.windows[index] = record
        self.warnings.extend(f"video2audio window {index}: {warning}" for warning in result.get("warnings", []))
        await self.tracker.emit("video2audio", key, 1.0, f"{label} ready", segment=index, status="finished")

    def _audio_arguments(self, video_path: str) -> dict[str, Any]:
        return {
            "video_url": video_path,
            "audio_style": self.audio.audio_style,
            "include_sfx": self.audio.include_sfx,
            "volume": self.audio.volume,
            "seed": self.seed,
            "description": self.request.prompt,
            "output_format": SOUNDTRACK_FORMAT,
        }

    async def _join_soundtrack(self) -> dict[str, Any]:
        windows = [Path(self.windows[index]["path"]) for index in range(1, self.iterations + 1)]
        segment_seconds = float(self.segments[1]["duration"])
        output = self.manifest.run_dir / "soundtrack.wav"
        joined = await anyio.to_thread.run_sync(join_windows, windows, segment_seconds, output)
        record = joined.to_dict()
        record["engine"] = self.windows[1].get("engine")
        self.manifest.record("soundtrack", record)
        self.steps.append(
            f"video_to_audio: {len(windows)} overlapping windows scored while segments rendered, "
            f"joined with {record['crossfade_seconds']:.2f} s crossfades into {record['duration']:.3f} s "
            f"({self.audio.audio_style}, {record['engine']} engine)"
        )
        return record

    async def _score_whole(self, video_path: str) -> dict[str, Any]:
        recorded = self.manifest.step("soundtrack")
        if recorded is not None:
            await self.tracker.emit("video2audio", "audio", 1.0, "soundtrack reused from the manifest", status="skipped")
            return recorded
        await self.tracker.emit("video2audio", "audio", 0.0, "scoring the soundtrack", status="started")
        result = await self.connections.call(
            "video2audio", "video_to_audio", self._audio_arguments(video_path),
            on_progress=self.tracker.step_callback("video2audio", "audio", "soundtrack"),
        )  # fmt: skip
        record = _pick(result, "path", "duration", "sample_rate", "channels", "engine", "elapsed_seconds")
        self.manifest.record("soundtrack", record)
        self.warnings.extend(f"video2audio: {warning}" for warning in result.get("warnings", []))
        self.steps.append(
            f"video_to_audio: {record['duration']:.3f} s {self.audio.audio_style} soundtrack, "
            f"{record['engine']} engine, {record['elapsed_seconds']:.2f} s"
        )
        await self.tracker.emit("video2audio", "audio", 1.0, "soundtrack ready", status="finished")
        return record

    # -- merge --------------------------------------------------------------------------

    async def _merge(self, audio_path: str | None) -> dict[str, Any]:
        key = "final" if audio_path is not None else "merged"
        recorded = self.manifest.step(key)
        if recorded is not None:
            self.steps.append(f"merge_videos: reused {recorded['path']}")
            return recorded
        await self.tracker.emit("av_merge", "merge", 0.0, "joining the segments", status="started")
        arguments: dict[str, Any] = {
            "video_segments": [self.segments[index]["path"] for index in range(1, self.iterations + 1)],
            "output_format": "mp4",
            "transition_type": "none",
        }
        if audio_path is not None:
            arguments["audio_url"] = audio_path
        result = await self.connections.call(
            "av_merge", "merge_videos", arguments, on_progress=self.tracker.step_callback("av_merge", "merge", "merge")
        )
        record = self._merge_record(result, "merge_videos")
        self.manifest.record(key, record)
        if audio_path is not None:
            await self.tracker.emit("av_merge", "merge", 1.0, f"finished video: {record['path']}", status="finished")
        return record

    async def _mux(self, video_path: str, audio_path: str) -> dict[str, Any]:
        recorded = self.manifest.step("final")
        if recorded is not None:
            self.steps.append(f"mux_audio: reused {recorded['path']}")
            return recorded
        result = await self.connections.call("av_merge", "mux_audio", {"video_url": video_path, "audio_url": audio_path})
        record = self._merge_record(result, "mux_audio")
        self.manifest.record("final", record)
        await self.tracker.emit("av_merge", "merge", 1.0, f"finished video: {record['path']}", status="finished")
        return record

    def _merge_record(self, result: dict[str, Any], tool: str) -> dict[str, Any]:
        record = _pick(result, "path", "elapsed_seconds", "audio_duration_seconds", "stream_copied")
        record["duration"] = result.get("duration_seconds", result.get("duration"))
        record["details"] = {key: value for key, value in result.items() if key not in record and key != "uri"}
        self.warnings.extend(f"av_merge: {warning}" for warning in result.get("warnings", []))
        self.steps.append(f"{tool}: {record['duration']:.3f} s, {record['elapsed_seconds']:.2f} s")
        return record

    # -- result -------------------------------------------------------------------------

    def _result(self, image: dict[str, Any], soundtrack: dict[str, Any], final: dict[str, Any], elapsed: float) -> WorkflowResult:
        segment_paths = [self.segments[index]["path"] for index in range(1, self.iterations + 1)]
        expected = sum(float(self.segments[index]["duration"]) for index in range(1, self.iterations + 1))
        fps = float(self.segments[1]["fps"])
        if abs(float(final["duration"]) - expected) > 1.0 / fps + 1e-6:
            self.warnings.append(
                f"the finished video lasts {final['duration']:.3f} s, but its segments add up to {expected:.3f} s"
            )
        summary = WorkflowSummary(
            prompt=self.request.prompt,
            iterations=self.iterations,
            segments_count=len(segment_paths),
            total_duration_seconds=round(float(final["duration"]), 3),
            processing_steps=self.steps,
        )
        return WorkflowResult(
            run_id=self.manifest.run_id,
            video_path=final["path"],
            audio_path=soundtrack["path"],
            image_path=image["path"],
            segment_paths=segment_paths,
            manifest_path=str(self.manifest.path),
            workflow_summary=summary,
            enhancements=self.enhancements,
            warnings=merge_repeated(self.warnings),
            elapsed_seconds=round(elapsed, 3),
        )


def first_error(errors: BaseExceptionGroup) -> BaseException:
    """Return the first failure in a task group's errors that is not a cancellation."""
    cancelled = anyio.get_cancelled_exc_class()
    for error in errors.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return first_error(error)
        if not isinstance(error, cancelled):
            return error
    return errors.exceptions[0]


def _pick(result: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: result.get(name) for name in names}


def _copy_sidecar(source: Path, target: Path) -> None:
    """Copy the JSON sidecar of `source` beside `target`.

    The image2video server reads the sidecar of a start frame to continue the previous
    segment's motion, so a colour-matched copy of the frame must carry it too.
    """
    sidecar = source.with_name(source.name + ".json")
    if sidecar.is_file():
        target.with_name(target.name + ".json").write_bytes(sidecar.read_bytes())
