"""The workflow's request, progress events and result, shaped like the original `/api/workflow`.

    {
      "prompt": "宁静的森林中流淌的溪水",
      "iterations": 10,
      "auto_enhance": true,
      "workflow_config": {
        "image_config": {"width": 1024, "height": 768},
        "video_config": {"fps": 30, "motion_scale": 1.5, "duration": 4.0, "transition_type": "fade"},
        "audio_config": {"audio_style": "nature", "include_sfx": true, "volume": 0.8}
      }
    }

Every limit is checked here, before any server starts, so an invalid workflow fails in
milliseconds with a message that names the field and the fix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from servers.shared.validation import MAX_SEED, MAX_SIZE, MIN_SIZE, SIZE_MULTIPLE

__all__ = [
    "AUDIO_STYLES",
    "AudioConfig",
    "ImageConfig",
    "VideoConfig",
    "WorkflowConfig",
    "WorkflowEvent",
    "WorkflowRequest",
    "WorkflowResult",
    "WorkflowSummary",
    "describe_validation_error",
]

AUDIO_STYLES = ("cinematic", "nature", "ambient", "electronic", "calm")
MAX_ITERATIONS = 20
MAX_PROMPT_CHARS = 4000


def describe_validation_error(error: ValidationError) -> str:
    """Turn a pydantic error into one clause per field: where, what is wrong, the value given."""
    clauses = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "request"
        message = item["msg"].removeprefix("Value error, ")
        value = item.get("input")
        shown_value = "" if isinstance(value, dict) else f" (got {value!r})"
        clauses.append(f"{location}: {message}{shown_value}")
    return "; ".join(clauses)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageConfig(_Strict):
    """Parameters of the keyframe (`text_to_image`)."""

    width: int = Field(default=1024, ge=MIN_SIZE, le=MAX_SIZE, description="Width in pixels: 64 to 2048, a multiple of 8.")
    height: int = Field(default=768, ge=MIN_SIZE, le=MAX_SIZE, description="Height in pixels: 64 to 2048, a multiple of 8.")
    negative_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS, description="What the image must not show.")
    guidance_scale: float = Field(default=7.5, ge=0, le=30, description="Classifier-free guidance of diffusers engines.")
    num_inference_steps: int = Field(default=50, ge=1, le=150, description="Denoising steps of diffusers engines.")
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="Seed of the whole run; omitted means random. Segment k uses seed + k."
    )

    @field_validator("width", "height")
    @classmethod
    def _check_multiple(cls, value: int) -> int:
        if value % SIZE_MULTIPLE:
            nearest = min(max(round(value / SIZE_MULTIPLE) * SIZE_MULTIPLE, MIN_SIZE), MAX_SIZE)
            raise ValueError(f"{value} is not a multiple of {SIZE_MULTIPLE}: use {nearest}")
        return value


class VideoConfig(_Strict):
    """Parameters of every segment (`image_to_video`)."""

    fps: int = Field(default=30, ge=1, le=60, description="Frames per second of every segment: 1 to 60.")
    motion_scale: float = Field(default=1.5, ge=0, le=5, description="Amount of camera motion: 0 (still) to 5.")
    duration: float = Field(default=4.0, ge=0.5, le=30, description="Seconds per segment: 0.5 to 30.")
    transition_type: Literal["fade", "none"] = Field(
        default="fade",
        description="fade: the finished video fades in from black and out to black; none: hard start and end. "
        "Boundaries between segments stay seamless either way.",
    )


class AudioConfig(_Strict):
    """Parameters of the soundtrack (`video_to_audio`)."""

    audio_style: Literal["cinematic", "nature", "ambient", "electronic", "calm"] = Field(
        default="cinematic", description="Soundtrack style: " + ", ".join(AUDIO_STYLES) + "."
    )
    include_sfx: bool = Field(default=True, description="Add short effects on visible events such as motion peaks.")
    volume: float = Field(default=0.8, ge=0, le=1, description="Loudness of the soundtrack: 0 (silent) to 1.")


class WorkflowConfig(_Strict):
    """Per-stage parameters of a workflow."""

    image_config: ImageConfig = Field(default_factory=ImageConfig)
    video_config: VideoConfig = Field(default_factory=VideoConfig)
    audio_config: AudioConfig = Field(default_factory=AudioConfig)


class WorkflowRequest(_Strict):
    """A whole run: one keyframe, `iterations` chained segments, a soundtrack, one mp4."""

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, description="What the video shows, in any language.")
    iterations: int = Field(
        default=10, ge=1, le=MAX_ITERATIONS, description="Number of chained segments: 1 to 20 (10 x 4 s = 40 s)."
    )
    auto_enhance: bool = Field(
        default=True,
        description="Enrich the image prompt with quality terms and keep long chains from drifting in colour.",
    )
    workflow_config: WorkflowConfig = Field(default_factory=WorkflowConfig)

    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, prompt: str) -> str:
        if not prompt.strip():
            raise ValueError("prompt is blank: describe the scene, for example '宁静的森林中流淌的溪水'")
        return prompt.strip()

    @property
    def total_duration(self) -> float:
        """Return the length of the finished video in seconds, before any frame rounding."""
        return self.iterations * self.workflow_config.video_config.duration


Stage = Literal["workflow", "text2image", "image2video", "video2audio", "av_merge"]


class WorkflowEvent(BaseModel):
    """One progress update of a run.

    `segment` is the 1-based segment number for per-segment work and None otherwise.
    `progress` is the share of the whole run that is done (0 to 1, never decreasing);
    `step_progress` is the share of the current step.
    """

    stage: Stage
    segment: int | None = None
    progress: float = Field(ge=0, le=1)
    message: str
    status: Literal["started", "running", "finished", "skipped", "failed"] = "running"
    step_progress: float | None = None


class WorkflowSummary(BaseModel):
    """The original API's summary of a finished workflow."""

    prompt: str
    iterations: int
    segments_count: int
    total_duration_seconds: float
    processing_steps: list[str]


class WorkflowResult(BaseModel):
    """Files and summary of a finished run."""

    run_id: str
    video_path: str = Field(description="The finished mp4 with its soundtrack.")
    audio_path: str = Field(description="The soundtrack on its own.")
    image_path: str = Field(description="The keyframe the first segment starts from.")
    segment_paths: list[str] = Field(description="The segments in order, without sound.")
    manifest_path: str = Field(description="The run manifest; pass run_id to resume or inspect the run.")
    workflow_summary: WorkflowSummary
    enhancements: dict = Field(default_factory=dict, description="What auto_enhance changed, per step.")
    warnings: list[str] = Field(default_factory=list)
    elapsed_seconds: float
