"""Image-to-video model families in diffusers: how each is called and which frame counts it takes.

A checkpoint's family comes from `_class_name` in its `model_index.json`. Each family
maps the tool's parameters onto the pipeline's own controls and picks a clip length the
model accepts. The engine then resamples that clip to the requested fps and duration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FAMILIES", "Family", "GenerationPlan", "family_for_class", "motion_phrase"]

DEFAULT_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted, static"
DEFAULT_PROMPT = "the scene comes alive with natural, smooth motion"


def motion_phrase(motion_scale: float) -> str:
    """Describe `motion_scale` in words, for families whose only motion control is the prompt."""
    if motion_scale <= 0.0:
        return "static camera, almost no motion"
    if motion_scale < 1.0:
        return "subtle, gentle motion"
    if motion_scale <= 2.0:
        return "smooth, moderate motion"
    return "dynamic, energetic motion and camera movement"


@dataclass(frozen=True, kw_only=True)
class GenerationPlan:
    """Frame count, size and steps of one pipeline call, before resampling to the request."""

    num_frames: int
    width: int
    height: int
    num_inference_steps: int


@dataclass(frozen=True, kw_only=True)
class Family:
    """One pipeline family.

    `frame_step` is the temporal compression of the family's VAE: valid clip lengths are
    `frame_step * k + 1`; 0 means the clip length is fixed by the UNet config (SVD).
    `native_fps` is the frame rate the family was trained at, which sets how many frames a
    segment needs. `max_pixels` bounds the generation size; the output is resized back.
    """

    key: str
    pipeline_class: str
    frame_step: int
    native_fps: float
    max_frames: int
    size_multiple: int
    max_pixels: int
    default_steps: int
    call_arguments: Callable[[Any, Any, GenerationPlan], dict[str, Any]]

    def plan(self, pipeline: Any, *, duration: float, width: int, height: int, steps: int | None) -> GenerationPlan:
        """Choose the clip length and generation size for a segment of `duration` seconds."""
        if self.frame_step == 0:
            num_frames = int(pipeline.unet.config.num_frames)
        else:
            step = _temporal_step(pipeline, self.frame_step)
            wanted = min(round(duration * self.native_fps) + 1, self.max_frames)
            num_frames = max(1, math.ceil((wanted - 1) / step)) * step + 1

        # Some pipelines check a fixed multiple (LTX: 32) whatever their VAE compresses by.
        multiple = max(self.size_multiple, _spatial_multiple(pipeline, self.size_multiple))
        scale = min(1.0, math.sqrt(self.max_pixels / (width * height)))
        generation_width = max(multiple, round(width * scale / multiple) * multiple)
        generation_height = max(multiple, round(height * scale / multiple) * multiple)
        return GenerationPlan(
            num_frames=num_frames,
            width=generation_width,
            height=generation_height,
            num_inference_steps=steps or self.default_steps,
        )


def _temporal_step(pipeline: Any, default: int) -> int:
    for name in ("vae_temporal_compression_ratio", "vae_scale_factor_temporal"):
        value = getattr(pipeline, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return default


def _spatial_multiple(pipeline: Any, default: int) -> int:
    spatial = getattr(pipeline, "vae_spatial_compression_ratio", None) or getattr(pipeline, "vae_scale_factor_spatial", None)
    if not isinstance(spatial, int) or spatial <= 0:
        return default
    patch = getattr(pipeline, "transformer_spatial_patch_size", None)
    if patch is None:
        transformer = getattr(pipeline, "transformer", None)
        patch_size = getattr(getattr(transformer, "config", None), "patch_size", 1)
        patch = patch_size[-1] if isinstance(patch_size, (list, tuple)) else patch_size
    return spatial * int(patch or 1)


def _prompt(request: Any) -> str:
    return f"{request.prompt or DEFAULT_PROMPT}, {motion_phrase(request.motion_scale)}"


def _svd_arguments(pipeline: Any, request: Any, plan: GenerationPlan) -> dict[str, Any]:
    # motion_bucket_id 127 is SVD's default; the tool's default motion_scale 1.5 maps to it.
    bucket = int(min(255, max(1, round(127 * request.motion_scale / 1.5))))
    return {
        "num_frames": plan.num_frames,
        "motion_bucket_id": bucket,
        "noise_aug_strength": 0.02,
        # fps is micro-conditioning: the rate at which the clip will be played over the segment.
        "fps": max(1, round((plan.num_frames - 1) / request.duration)),
    }


def _ltx_arguments(pipeline: Any, request: Any, plan: GenerationPlan) -> dict[str, Any]:
    return {
        "prompt": _prompt(request),
        "negative_prompt": DEFAULT_NEGATIVE_PROMPT,
        "num_frames": plan.num_frames,
        "frame_rate": max(1, round((plan.num_frames - 1) / request.duration)),
    }


def _text_arguments(pipeline: Any, request: Any, plan: GenerationPlan) -> dict[str, Any]:
    return {"prompt": _prompt(request), "negative_prompt": DEFAULT_NEGATIVE_PROMPT, "num_frames": plan.num_frames}


FAMILIES: dict[str, Family] = {
    family.pipeline_class: family
    for family in (
        Family(
            key="svd",
            pipeline_class="StableVideoDiffusionPipeline",
            frame_step=0,
            native_fps=7.0,
            max_frames=25,
            size_multiple=8,
            max_pixels=1024 * 576,
            default_steps=25,
            call_arguments=_svd_arguments,
        ),
        Family(
            key="ltx",
            pipeline_class="LTXImageToVideoPipeline",
            frame_step=8,
            native_fps=24.0,
            max_frames=161,
            size_multiple=32,
            max_pixels=768 * 512,
            default_steps=50,
            call_arguments=_ltx_arguments,
        ),
        Family(
            key="wan",
            pipeline_class="WanImageToVideoPipeline",
            frame_step=4,
            native_fps=16.0,
            max_frames=81,
            size_multiple=16,
            max_pixels=832 * 480,
            default_steps=50,
            call_arguments=_text_arguments,
        ),
        # NOTE: CogVideoX I2V is mapped from its documentation only; no test covers it yet.
        Family(
            key="cogvideox",
            pipeline_class="CogVideoXImageToVideoPipeline",
            frame_step=4,
            native_fps=8.0,
            max_frames=49,
            size_multiple=16,
            max_pixels=720 * 480,
            default_steps=50,
            call_arguments=_text_arguments,
        ),
    )
}

# Text-to-video checkpoints whose components also drive the image-to-video pipeline.
_IMAGE_TO_VIDEO_SIBLINGS = {"LTXPipeline": "LTXImageToVideoPipeline"}


def family_for_class(class_name: str) -> Family | None:
    """Return the family of a pipeline class name from `model_index.json`, or None."""
    return FAMILIES.get(_IMAGE_TO_VIDEO_SIBLINGS.get(class_name, class_name))
