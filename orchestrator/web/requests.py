"""Request bodies of the task-creating endpoints, with the parameter limits of the tools.

Field names and defaults follow the original HTTP API, which are also the tools' parameter
names. Sizes, seeds and prompt lengths are checked with the shared validation functions the
servers use, so the messages match; the stage server checks its remaining limits again and
a task it rejects fails with the server's message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servers.shared.validation import MAX_SEED, check_seed, check_size, check_text

__all__ = [
    "ImageToVideoBody",
    "MergeVideosBody",
    "TaskBody",
    "TextToImageBody",
    "VideoToAudioBody",
    "MAX_PROMPT_CHARS",
]

MAX_PROMPT_CHARS = 4000
MAX_REFERENCE_CHARS = 4096
MAX_SEGMENTS = 200


class TaskBody(BaseModel):
    """Base of every request body: unknown fields are rejected so a typo is never ignored."""

    model_config = ConfigDict(extra="forbid")


class SeededBody(TaskBody):
    """Body of a tool that takes a random seed."""

    seed: int | None = Field(default=None, description=f"Random seed 0 to {MAX_SEED}; omitted means random.")

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, seed: int | None) -> int | None:
        return None if seed is None else check_seed(seed)


class TextToImageBody(SeededBody):
    prompt: str = Field(description="What the image shows, in any language.")
    negative_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS, description="What the image must not show.")
    width: int = Field(default=1024, description="Width in pixels: 64 to 2048, a multiple of 8.")
    height: int = Field(default=768, description="Height in pixels: 64 to 2048, a multiple of 8.")
    guidance_scale: float = Field(default=7.5, ge=0.0, le=30.0, description="Classifier-free guidance, 0 to 30.")
    num_inference_steps: int = Field(default=50, ge=1, le=150, description="Denoising steps, 1 to 150.")
    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, prompt: str) -> str:
        return check_text("prompt", prompt, max_chars=MAX_PROMPT_CHARS)

    @field_validator("width", "height")
    @classmethod
    def _check_size(cls, value: int, info: Any) -> int:
        return check_size(info.field_name, value)


class ImageToVideoBody(SeededBody):
    image_url: str = Field(
        min_length=1,
        max_length=MAX_REFERENCE_CHARS,
        description="Image to animate: an /outputs/... URL from an earlier task, or a path inside the server's allowed folders.",
    )
    prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS, description="Optional prompt for engines that take one.")
    motion_scale: float = Field(default=1.5, ge=0.0, le=5.0, description="Amount of motion: 0 (still camera) to 5.")
    fps: float = Field(default=30.0, ge=1.0, le=60.0, description="Frames per second, 1 to 60.")
    duration: float = Field(default=4.0, ge=0.5, le=30.0, description="Segment length in seconds, 0.5 to 30.")
    transition_type: Literal["fade", "none"] = Field(default="fade", description="Treatment of the segment's edges.")
    last_segment: bool = Field(default=False, description="The segment ends the video, so a fade also fades it out.")
    num_inference_steps: int | None = Field(
        default=None, ge=1, le=150, description="Denoising steps of diffusers engines, 1 to 150; omitted means the model's default."
    )


class VideoToAudioBody(SeededBody):
    video_url: str = Field(
        min_length=1,
        max_length=MAX_REFERENCE_CHARS,
        description="Video to score: an /outputs/... URL from an earlier task, or a path inside the allowed folders.",
    )
    audio_style: Literal["cinematic", "nature", "ambient", "electronic", "calm"] = Field(
        default="cinematic", description="Style of the soundtrack."
    )
    include_sfx: bool = Field(default=True, description="Add sound effects on visible events.")
    volume: float = Field(default=0.8, ge=0.0, le=1.0, description="Loudness of the output, 0 to 1.")
    description: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS, description="What the scene shows, when known.")
    output_format: Literal["wav", "mp3", "m4a", "flac"] = Field(default="wav", description="Audio file format.")
    sample_rate: Literal[44100, 48000] = Field(default=44100, description="Sample rate in Hz.")


class MergeVideosBody(TaskBody):
    video_segments: list[str] = Field(
        min_length=1,
        max_length=MAX_SEGMENTS,
        description="Videos to join, in order: /outputs/... URLs or paths inside the allowed folders.",
    )
    audio_url: str | None = Field(default=None, max_length=MAX_REFERENCE_CHARS, description="Optional soundtrack laid under the result.")
    output_format: Literal["mp4", "webm", "mov", "gif"] = Field(default="mp4", description="Container of the result.")
    quality: Literal["low", "medium", "high", "lossless"] = Field(default="medium", description="Encoding quality.")
    transition_type: Literal["none", "fade", "fade_black"] = Field(default="none", description="Transition between segments.")
    transition_duration: float = Field(default=0.5, ge=0.0, le=10.0, description="Transition length in seconds, 0 to 10.")
    allow_stream_copy: bool = Field(default=True, description="Join matching segments without re-encoding when possible.")
    audio_fade_seconds: float = Field(default=0.5, ge=0.0, le=10.0, description="Fade-out of trimmed audio in seconds, 0 to 10.")

    @field_validator("video_segments")
    @classmethod
    def _check_segments(cls, segments: list[str]) -> list[str]:
        for index, segment in enumerate(segments):
            if not segment.strip() or len(segment) > MAX_REFERENCE_CHARS:
                raise ValueError(f"video_segments[{index}] must be a non-empty URL or path of at most {MAX_REFERENCE_CHARS} characters")
        return segments
