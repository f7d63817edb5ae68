"""Invalid workflows fail fast with a clear error, before any server starts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestrator.cli import main
from orchestrator.models import WorkflowRequest, describe_validation_error


def _error_text(body: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        WorkflowRequest.model_validate(body)
    return describe_validation_error(caught.value)


def test_request_defaults_match_original_api() -> None:
    request = WorkflowRequest(prompt="宁静的森林中流淌的溪水")

    assert request.iterations == 10
    assert request.auto_enhance is True
    assert request.workflow_config.video_config.duration == 4.0
    assert request.total_duration == 40.0


@pytest.mark.parametrize("iterations", [0, 21])
def test_request_iterations_out_of_range_rejected(iterations: int) -> None:
    text = _error_text({"prompt": "a stream", "iterations": iterations})

    assert text.startswith("iterations: ")
    assert f"(got {iterations})" in text


def test_request_unknown_audio_style_rejected() -> None:
    text = _error_text({"prompt": "a stream", "workflow_config": {"audio_config": {"audio_style": "jazz"}}})

    assert "workflow_config.audio_config.audio_style" in text
    assert "'cinematic', 'nature', 'ambient', 'electronic' or 'calm'" in text
    assert "(got 'jazz')" in text


def test_request_width_not_multiple_of_eight_names_nearest() -> None:
    text = _error_text({"prompt": "a stream", "workflow_config": {"image_config": {"width": 250}}})

    assert "workflow_config.image_config.width: 250 is not a multiple of 8: use 248" in text


def test_request_blank_prompt_rejected() -> None:
    text = _error_text({"prompt": "   "})

    assert "prompt: prompt is blank" in text


def test_request_unknown_key_rejected() -> None:
    text = _error_text({"prompt": "a stream", "workflow_config": {"video_config": {"speed": 2}}})

    assert "workflow_config.video_config.speed: Extra inputs are not permitted" in text


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (["--iterations", "0"], "iterations: Input should be greater than or equal to 1 (got 0)"),
        (["--iterations", "21"], "iterations: Input should be less than or equal to 20 (got 21)"),
        (["--audio-style", "jazz"], "audio_style: Input should be 'cinematic'"),
    ],
)
def test_cli_invalid_workflow_fails_fast(
    arguments: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    status = main(["run", "宁静的森林中流淌的溪水", "--output-dir", str(tmp_path / "outputs"), *arguments])
    elapsed = time.perf_counter() - started
    stderr = capsys.readouterr().err

    assert status == 2
    assert "invalid workflow" in stderr
    assert expected in stderr
    assert not (tmp_path / "outputs").exists()
    assert elapsed < 5.0


def test_cli_resume_unknown_run_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--resume", "no-such-run", "--output-dir", str(tmp_path / "outputs"), "--quiet"])

    assert status == 2
    assert "run 'no-such-run' not found" in capsys.readouterr().err


def test_cli_resume_with_prompt_is_rejected(tmp_path, capsys):
    status = main(["run", "森林", "--resume", "some-run", "--output-dir", str(tmp_path / "outputs"), "--quiet"])

    assert status == 2
    assert "--resume some-run continues a recorded run with its own prompt" in capsys.readouterr().err
    assert not (tmp_path / "outputs").exists()


def test_cli_resume_invalid_run_id_is_one_line(tmp_path, capsys):
    status = main(["run", "--resume", "../../etc", "--output-dir", str(tmp_path / "outputs"), "--quiet"])

    error = capsys.readouterr().err
    assert status == 2
    assert "run id '../../etc' is invalid" in error
    assert "Traceback" not in error
