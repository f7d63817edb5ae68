"""The whole workflow end to end over real stdio subprocess servers with their default engines.

One run of the Chinese example prompt (3 iterations at 256x192) is made once for the
module; each test checks one property of its output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import av
import numpy as np
import pytest

from orchestrator.config import OrchestratorConfig
from orchestrator.connections import StageConnections
from orchestrator.models import WorkflowEvent, WorkflowRequest, WorkflowResult
from orchestrator.workflow import run_workflow
from servers.shared.media import probe

PROMPT = "宁静的森林中流淌的溪水"
ITERATIONS = 3
FPS = 30
SEGMENT_SECONDS = 4.0


def _request() -> WorkflowRequest:
    return WorkflowRequest.model_validate(
        {
            "prompt": PROMPT,
            "iterations": ITERATIONS,
            "workflow_config": {
                "image_config": {"width": 256, "height": 192, "seed": 7},
                "video_config": {"fps": FPS, "duration": SEGMENT_SECONDS},
                "audio_config": {"audio_style": "nature"},
            },
        }
    )


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[WorkflowResult, list[WorkflowEvent], OrchestratorConfig]:
    config = OrchestratorConfig(output_dir=tmp_path_factory.mktemp("workflow") / "outputs")
    events: list[WorkflowEvent] = []

    async def collect(event: WorkflowEvent) -> None:
        events.append(event)

    async def run() -> WorkflowResult:
        async with StageConnections(config) as connections:
            return await run_workflow(
                _request(), connections=connections, runs_dir=config.runs_dir, on_event=collect, overlap=True
            )

    return anyio.run(run), events, config


def _luma_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray").astype(np.float32) for frame in container.decode(video=0)]


def test_workflow_final_video_lasts_iterations_times_duration(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    info = probe(result.video_path)

    assert info.frame_count == ITERATIONS * SEGMENT_SECONDS * FPS
    assert abs(info.duration - ITERATIONS * SEGMENT_SECONDS) <= 1 / FPS
    assert result.workflow_summary.total_duration_seconds == pytest.approx(12.0, abs=1 / FPS)


def test_workflow_final_video_has_audio_of_same_length(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    info = probe(result.video_path)

    assert info.has_audio
    assert info.audio_duration is not None
    # One AAC frame (1024 samples) is the finest step an mp4 audio track can end on.
    assert abs(info.audio_duration - info.duration) <= 1024 / info.sample_rate + 1e-3


def test_workflow_soundtrack_is_not_silent_and_exact(workflow_run: Any) -> None:
    import soundfile

    result, _, _ = workflow_run
    samples, rate = soundfile.read(result.audio_path, always_2d=True)

    assert len(samples) == round(ITERATIONS * SEGMENT_SECONDS * rate)
    assert np.sqrt(np.mean(samples**2)) > 1e-3


def test_workflow_frames_change_over_time(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    frames = _luma_frames(Path(result.video_path))
    middle_of_first = frames[FPS * 2]
    middle_of_last = frames[-FPS * 2]

    assert np.mean(np.abs(middle_of_last - middle_of_first)) > 2.0


def test_workflow_segment_boundaries_are_continuous(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    frames = _luma_frames(Path(result.video_path))
    steps = [float(np.mean(np.abs(frames[i + 1] - frames[i]))) for i in range(len(frames) - 1)]
    # Ignore the fades at the very start and end; compare boundary steps with the typical step.
    fade = FPS // 2
    typical = float(np.median(steps[fade:-fade]))
    boundaries = [int(SEGMENT_SECONDS * FPS) * k - 1 for k in range(1, ITERATIONS)]

    for boundary in boundaries:
        assert steps[boundary] <= 3 * typical + 1.5, f"jump of {steps[boundary]:.2f} at frame {boundary + 1}, typical {typical:.2f}"


def test_workflow_segments_chain_from_next_frames(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    manifest = json.loads(Path(result.manifest_path).read_text(encoding="utf-8"))
    steps = manifest["steps"]

    assert steps["segment-01"]["start_frame"] == steps["image"]["path"]
    for index in range(2, ITERATIONS + 1):
        previous = steps[f"segment-{index - 1:02d}"]
        start = steps[f"segment-{index:02d}"]["start_frame"]
        match = steps[f"segment-{index:02d}"]["colour_match"]
        assert start.endswith(".png")
        assert match["source_path"] == previous["next_frame_path"]
        assert start == match["output_path"]


def test_workflow_summary_has_original_fields(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    summary = result.workflow_summary

    assert summary.prompt == PROMPT
    assert summary.iterations == ITERATIONS
    assert summary.segments_count == ITERATIONS
    assert len(result.segment_paths) == ITERATIONS
    assert any(step.startswith("text_to_image") for step in summary.processing_steps)
    assert sum(step.startswith("image_to_video") for step in summary.processing_steps) == ITERATIONS


def test_workflow_auto_enhance_reports_what_it_did(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    prompt = result.enhancements["prompt"]
    matches = result.enhancements["colour_matching"]

    assert prompt["original"] == PROMPT
    assert prompt["image_prompt"].startswith(PROMPT)
    assert prompt["language"] == "zh"
    assert prompt["added_terms"]
    assert [match["segment"] for match in matches] == list(range(2, ITERATIONS + 1))


def test_workflow_events_cover_every_step_in_order(workflow_run: Any) -> None:
    _, events, _ = workflow_run
    progress = [event.progress for event in events]
    finished_segments = [event.segment for event in events if event.stage == "image2video" and event.status == "finished"]

    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert finished_segments == [1, 2, 3]
    assert events[-1].status == "finished"
    assert {event.stage for event in events} >= {"text2image", "image2video", "video2audio", "av_merge"}


def test_workflow_manifest_marks_run_completed(workflow_run: Any) -> None:
    result, _, config = workflow_run
    manifest = json.loads(Path(result.manifest_path).read_text(encoding="utf-8"))

    assert manifest["status"] == "completed"
    assert Path(result.manifest_path).parent.parent == config.runs_dir
    assert manifest["result"]["video_path"] == result.video_path


def test_workflow_colour_matched_frames_keep_the_camera_path(workflow_run: Any) -> None:
    result, _, _ = workflow_run

    assert not [warning for warning in result.warnings if "new camera path" in warning]


def test_workflow_repeated_warnings_listed_once(workflow_run: Any) -> None:
    result, _, _ = workflow_run
    prompt_warnings = [warning for warning in result.warnings if "does not read text" in warning]

    assert len(prompt_warnings) == 1
    assert prompt_warnings[0].startswith(f"image2video 1-{ITERATIONS}: ")
